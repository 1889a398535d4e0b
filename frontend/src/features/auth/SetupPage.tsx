import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useState, type FormEvent } from 'react'
import { Navigate, useNavigate } from 'react-router'
import { ErrorMessage, Loading } from '../../components/Status'
import { authKeys, sessionApi, useAuthStatus } from '../../api/session'

/** First run: the setup token proves the person at the browser also runs the server. */
export function SetupPage() {
  const status = useAuthStatus()
  const navigate = useNavigate()
  const client = useQueryClient()
  const [token, setToken] = useState('')
  const [username, setUsername] = useState('admin')
  const [password, setPassword] = useState('')
  const [confirm, setConfirm] = useState('')
  const [mismatch, setMismatch] = useState(false)

  const setup = useMutation({
    // Setup signs the new admin in itself: a second sign-in would leave a stale session behind.
    mutationFn: () => sessionApi.setup({ setup_token: token.trim(), username: username.trim(), password }),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: authKeys.all })
      navigate('/', { replace: true })
    },
  })

  if (status.isPending) return <Loading />
  if (status.data?.configured && !setup.isPending) return <Navigate to="/login" replace />

  const submit = (event: FormEvent) => {
    event.preventDefault()
    setMismatch(password !== confirm)
    if (password === confirm) setup.mutate()
  }

  return (
    <main className="auth-page">
      <form className="panel auth-form" onSubmit={submit} aria-labelledby="setup-title">
        <h1 id="setup-title">Set up PrintStash</h1>
        <p>Create the first administrator. This page only works once, with the setup token.</p>
        <details open className="hint">
          <summary>Where do I find the setup token?</summary>
          <p>The api prints it when it starts while no user exists, as a line <code>setup token: …</code>:</p>
          <ul>
            <li>with <code>make run</code>: in that terminal, and in <code>data/api.log</code></li>
            <li>with Docker Compose: <code>docker compose logs api | grep "setup token"</code></li>
            <li>or choose it yourself: set <code>VAULT_SETUP_TOKEN</code> before starting the api</li>
          </ul>
        </details>
        <label htmlFor="setup-token">Setup token</label>
        <input id="setup-token" value={token} onChange={(e) => setToken(e.target.value)} required autoComplete="off" spellCheck={false} />
        <label htmlFor="setup-username">Admin username</label>
        <input id="setup-username" value={username} onChange={(e) => setUsername(e.target.value)} required autoComplete="username" />
        <label htmlFor="setup-password">Password</label>
        <input id="setup-password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} required autoComplete="new-password" />
        <label htmlFor="setup-confirm">Repeat the password</label>
        <input id="setup-confirm" type="password" value={confirm} onChange={(e) => setConfirm(e.target.value)} required autoComplete="new-password" />
        {mismatch ? <div role="alert" className="message error">The passwords do not match.</div> : null}
        <ErrorMessage error={setup.error} title="Setup failed" />
        <button type="submit" className="primary" disabled={setup.isPending}>
          {setup.isPending ? 'Creating…' : 'Create admin and sign in'}
        </button>
      </form>
    </main>
  )
}
