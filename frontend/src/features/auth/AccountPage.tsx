import { useMutation } from '@tanstack/react-query'
import { useState, type FormEvent } from 'react'
import { post } from '../../api/client'
import { ErrorMessage, Notice } from '../../components/Status'
import { useMe } from './useAuth'

export function AccountPage() {
  const me = useMe()
  const [current, setCurrent] = useState('')
  const [next, setNext] = useState('')
  const change = useMutation({
    mutationFn: () => post<unknown>('/auth/password', { current_password: current, new_password: next }),
    onSuccess: () => {
      setCurrent('')
      setNext('')
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
          {change.isSuccess ? <Notice>Password changed.</Notice> : null}
        </div>
      </form>
    </div>
  )
}
