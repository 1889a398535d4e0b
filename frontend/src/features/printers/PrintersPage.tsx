import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState, type FormEvent } from 'react'
import { printerKeys, printersApi } from '../../api/printers'
import { useIsAdmin } from '../../api/session'
import { ErrorMessage, Loading } from '../../components/Status'
import { printerAdminApi } from './api'
import { PrinterCard } from './PrinterCard'
import { usePrinterEvents } from './usePrinterEvents'

/** Open by itself while there is no printer yet: adding one is the only thing to do here. */
function AddPrinter({ first }: { first: boolean }) {
  const client = useQueryClient()
  const [name, setName] = useState('')
  const [url, setUrl] = useState('http://')
  const [apiKey, setApiKey] = useState('')
  const create = useMutation({
    mutationFn: () => printerAdminApi.create({ name: name.trim(), provider: 'moonraker', url: url.trim(), ...(apiKey ? { api_key: apiKey } : {}) }),
    onSuccess: async () => {
      setName('')
      setUrl('http://')
      setApiKey('')
      await client.invalidateQueries({ queryKey: printerKeys.all })
    },
  })
  const submit = (event: FormEvent) => {
    event.preventDefault()
    create.mutate()
  }
  return (
    <details className="panel" open={first || undefined}>
      <summary>Add a printer</summary>
      <form onSubmit={submit} className="form-grid">
        <label htmlFor="printer-name">Name</label>
        <input id="printer-name" value={name} onChange={(e) => setName(e.target.value)} required />
        <label htmlFor="printer-url">Moonraker address</label>
        <input id="printer-url" type="url" value={url} onChange={(e) => setUrl(e.target.value)} required placeholder="http://voron.local:7125" />
        <label htmlFor="printer-key">Moonraker API key (optional)</label>
        <input id="printer-key" value={apiKey} onChange={(e) => setApiKey(e.target.value)} autoComplete="off" />
        <div />
        <div><button type="submit" className="primary" disabled={create.isPending}>Add printer</button></div>
      </form>
      <ErrorMessage error={create.error} title="Printer not added" />
    </details>
  )
}

export function PrintersPage() {
  const printers = useQuery({ queryKey: printerKeys.list, queryFn: printersApi.list })
  const live = usePrinterEvents()
  const isAdmin = useIsAdmin()
  return (
    <div className="stack">
      <div className="page-head">
        <h1>Printers</h1>
        <span className={`live live-${live}`} role="status">{live === 'live' ? '● Live updates' : live === 'connecting' ? 'Connecting…' : 'Reconnecting…'}</span>
      </div>
      {isAdmin && printers.data ? <AddPrinter first={printers.data.length === 0} /> : null}
      <ErrorMessage error={printers.error} title="Could not load printers" />
      {printers.isPending ? <Loading what="Loading printers" /> : null}
      {printers.data?.length === 0 ? <p className="empty">No printers yet.{isAdmin ? ' Add a Moonraker printer above.' : ' An admin can add them.'}</p> : null}
      <ul className="printer-grid" aria-label="Printers">
        {printers.data?.map((printer) => <PrinterCard key={printer.id} printer={printer} />)}
      </ul>
    </div>
  )
}
