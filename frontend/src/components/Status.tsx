import type { ReactNode } from 'react'

/** An error from a query or mutation, in words. */
export function ErrorMessage({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null
  const message = error instanceof Error ? error.message : String(error)
  return (
    <div role="alert" className="message error">
      {title ? <strong>{title}: </strong> : null}
      {message}
    </div>
  )
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return <p className="muted" role="status">{what}…</p>
}

export function Notice({ children }: { children: ReactNode }) {
  return <div role="status" className="message ok">{children}</div>
}

/** ok / degraded / error / printing … as a coloured badge with the word in it. */
export function Badge({ status, label }: { status: string; label?: string }) {
  return <span className={`badge badge-${status.replace(/[^a-z_]/gi, '')}`}>{label ?? status.replace(/_/g, ' ')}</span>
}
