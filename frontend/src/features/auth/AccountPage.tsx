import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState, type FormEvent } from 'react'
import { api, unwrap } from '../../api/client'
import { useMe } from '../../api/session'
import { ErrorMessage, Notice } from '../../components/Status'
import { formatAge, formatDate } from '../../lib/format'
import { describeUserAgent } from '../../lib/userAgent'

const sessionsKey = ['auth', 'sessions'] as const

/** Where this account is signed in; any of them can be signed out from here. */
function Sessions() {
  const client = useQueryClient()
  const sessions = useQuery({ queryKey: sessionsKey, queryFn: () => unwrap(api.GET('/api/v1/auth/sessions')) })
  const end = useMutation({ mutationFn: (id: number) => unwrap(api.DELETE('/api/v1/auth/sessions/{session_id}', { params: { path: { session_id: id } } })), onSettled: () => client.invalidateQueries({ queryKey: sessionsKey }) })
  return (
    <section className="stack" aria-labelledby="sessions-title">
      <h2 id="sessions-title" className="h3">Signed-in browsers</h2>
      <ErrorMessage error={sessions.error ?? end.error} title="Sessions" />
      {sessions.data?.items.length ? (
        <div className="table-wrap">
          <table aria-label="Sessions" className="responsive">
            <thead><tr><th scope="col">Browser</th><th scope="col">Signed in</th><th scope="col">Last seen</th><th scope="col">Expires</th><th scope="col"><span className="sr-only">Sign out</span></th></tr></thead>
            <tbody>
              {sessions.data.items.map((row) => (
                <tr key={row.id}>
                  <td className="break" title={row.user_agent ?? undefined}>{row.current ? <strong>This browser · </strong> : null}{describeUserAgent(row.user_agent)}</td>
                  <td data-label="Signed in">{formatDate(row.created_at)}</td>
                  <td data-label="Last seen">{formatAge(row.last_seen_at)}</td>
                  <td data-label="Expires">{formatDate(row.expires_at)}</td>
                  <td>{row.current ? null : <button type="button" aria-label={`Sign out the browser signed in ${formatDate(row.created_at)}`} onClick={() => end.mutate(row.id)}>Sign out</button>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  )
}

export function AccountPage() {
  const me = useMe()
  const client = useQueryClient()
  const [current, setCurrent] = useState('')
  const [next, setNext] = useState('')
  const change = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/auth/password', { body: { current_password: current, new_password: next } })),
    onSuccess: () => {
      setCurrent('')
      setNext('')
      void client.invalidateQueries({ queryKey: sessionsKey })  // the others are gone now
    },
  })
  const submit = (event: FormEvent) => {
    event.preventDefault()
    change.mutate()
  }
  return (
    <div className="stack">
      <h1>Your account</h1>
      <p>Signed in as <strong>{me.data?.username}</strong> ({me.data?.role}).</p>
      <form onSubmit={submit} className="panel form-grid" aria-labelledby="password-title">
        <h2 id="password-title" className="h3 span-all">Change your password</h2>
        <label htmlFor="current-password">Current password</label>
        <input id="current-password" type="password" value={current} onChange={(e) => setCurrent(e.target.value)} required autoComplete="current-password" />
        <label htmlFor="new-password">New password</label>
        <input id="new-password" type="password" value={next} onChange={(e) => setNext(e.target.value)} required autoComplete="new-password" />
        <div />
        <div><button type="submit" className="primary" disabled={change.isPending}>Change password</button></div>
        <div className="span-all">
          <ErrorMessage error={change.error} title="Password not changed" />
          {change.isSuccess ? <Notice>Password changed. Every other browser signed in to your account was signed out; your API keys keep working.</Notice> : null}
        </div>
      </form>
      <Sessions />
    </div>
  )
}
