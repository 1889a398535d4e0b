import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useState, type FormEvent } from 'react'
import { Navigate, useLocation, useNavigate } from 'react-router'
import { ErrorMessage, Loading } from '../../components/Status'
import { authKeys, sessionApi, useAuthStatus, useMe } from '../../api/session'

export function LoginPage() {
  const status = useAuthStatus()
  const me = useMe()
  const navigate = useNavigate()
  const location = useLocation()
  const client = useQueryClient()
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [remember, setRemember] = useState(true)
  const next = (location.state as { from?: string } | null)?.from ?? '/'

  const login = useMutation({
    mutationFn: () => sessionApi.login({ username: username.trim(), password, remember }),
    onSuccess: (user) => {
      client.setQueryData(authKeys.me, user)
      navigate(next, { replace: true })
    },
  })

  if (status.isPending || me.isPending) return <Loading />
  if (status.data && !status.data.configured) return <Navigate to="/setup" replace />
  if (me.data) return <Navigate to={next} replace />

  const submit = (event: FormEvent) => {
    event.preventDefault()
    login.mutate()
  }

  return (
    <main className="auth-page">
      <form className="panel auth-form" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Sign in to PrintStash</h1>
        <label htmlFor="login-username">Username</label>
        <input id="login-username" value={username} onChange={(e) => setUsername(e.target.value)} required autoComplete="username" autoFocus />
        <label htmlFor="login-password">Password</label>
        <input id="login-password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} required autoComplete="current-password" />
        <label className="checkbox">
          <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.target.checked)} /> Keep me signed in
        </label>
        <ErrorMessage error={status.error ?? me.error} title="Server" />
        <ErrorMessage error={login.error} title="Sign-in failed" />
        <button type="submit" className="primary" disabled={login.isPending}>
          {login.isPending ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  )
}
