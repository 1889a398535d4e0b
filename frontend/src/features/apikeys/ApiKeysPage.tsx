import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState, type FormEvent } from 'react'
import { api, unwrap } from '../../api/client'
import type { ApiKeyCreated } from '../../api/types'
import { ErrorMessage, Loading } from '../../components/Status'
import { formatAge, formatDate } from '../../lib/format'

const keysKey = ['api-keys'] as const
const keysApi = {
  list: async () => (await unwrap(api.GET('/api/v1/api-keys'))).items,
  create: (name: string) => unwrap(api.POST('/api/v1/api-keys', { body: { name } })),
  revoke: (id: number) => unwrap(api.DELETE('/api/v1/api-keys/{key_id}', { params: { path: { key_id: id } } })),
}

/** The new key, shown exactly once, with a copy button. */
export function NewKey({ created, onDone }: { created: ApiKeyCreated; onDone: () => void }) {
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no')
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.key)
      setCopied('yes')
    } catch {
      setCopied('failed')
    }
  }
  return (
    <div className="panel new-key" role="status">
      <h2 className="h3">Key “{created.name}” created</h2>
      <p>Copy it now: <strong>it will not be shown again.</strong></p>
      <div className="inline">
        <label htmlFor="new-key" className="sr-only">New API key</label>
        <input id="new-key" readOnly value={created.key} onFocus={(e) => e.target.select()} className="mono" />
        <button type="button" onClick={copy}>{copied === 'yes' ? 'Copied' : 'Copy'}</button>
      </div>
      {copied === 'failed' ? <p className="error-text">The browser refused to copy; select the key and copy it by hand.</p> : null}
      <p className="muted small">Use it as the <code>X-Api-Key</code> header, or in your slicer's OctoPrint physical-printer settings with the host <code>{window.location.origin}</code>.</p>
      <button type="button" onClick={onDone}>I have saved it</button>
    </div>
  )
}

export function ApiKeysPage() {
  const client = useQueryClient()
  const [name, setName] = useState('')
  const [created, setCreated] = useState<ApiKeyCreated | null>(null)
  const keys = useQuery({ queryKey: keysKey, queryFn: keysApi.list })
  const create = useMutation({
    mutationFn: () => keysApi.create(name.trim()),
    onSuccess: async (key) => {
      setCreated(key)
      setName('')
      await client.invalidateQueries({ queryKey: keysKey })
    },
  })
  const revoke = useMutation({
    mutationFn: keysApi.revoke,
    onSettled: () => client.invalidateQueries({ queryKey: keysKey }),
  })
  const submit = (event: FormEvent) => {
    event.preventDefault()
    create.mutate()
  }
  const active = keys.data ?? []
  return (
    <div className="stack">
      <h1>API keys</h1>
      <p className="muted">For scripts and slicer upload hooks. A key acts as you; revoke it when it is no longer needed.</p>
      <div className="panel small" aria-label="Slicer setup">
        In PrusaSlicer, SuperSlicer or OrcaSlicer add a physical printer of type OctoPrint with the host
        {' '}<code className="break" data-testid="server-url">{window.location.origin}</code> and a key from this page;
        Cura's OctoPrint plugin takes the same two. Details: docs/slicer-hooks.md.
      </div>
      <form onSubmit={submit} className="inline">
        <label htmlFor="key-name">Name</label>
        <input id="key-name" value={name} onChange={(e) => setName(e.target.value)} required placeholder="PrusaSlicer on the desk PC" />
        <button type="submit" className="primary" disabled={create.isPending}>Create key</button>
      </form>
      <ErrorMessage error={create.error} title="Key not created" />
      {created ? <NewKey created={created} onDone={() => setCreated(null)} /> : null}
      <ErrorMessage error={keys.error ?? revoke.error} title="API keys" />
      {keys.isPending ? <Loading what="Loading keys" /> : null}
      {keys.data && active.length === 0 ? <p className="empty">No API keys.</p> : null}
      {active.length ? (
        <div className="table-wrap">
          <table aria-label="API keys" className="responsive">
            <thead><tr><th scope="col">Name</th><th scope="col">Key starts with</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col"><span className="sr-only">Revoke</span></th></tr></thead>
            <tbody>
              {active.map((key) => (
                <tr key={key.id}>
                  <td>{key.name}</td>
                  <td className="mono" data-label="Starts with">{key.prefix ? `${key.prefix}…` : '—'}</td>
                  <td data-label="Created">{formatDate(key.created_at)}</td>
                  <td data-label="Last used">{formatAge(key.last_used_at)}</td>
                  <td><button type="button" className="danger" aria-label={`Revoke ${key.name}`}
                    onClick={() => { if (window.confirm(`Revoke the key "${key.name}"? Anything using it stops working.`)) revoke.mutate(key.id) }}>Revoke</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  )
}
