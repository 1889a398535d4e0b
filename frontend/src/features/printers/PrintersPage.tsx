import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState, type FormEvent } from 'react'
import { printerKeys, printersApi } from '../../api/printers'
import { useIsAdmin } from '../../api/session'
import { ErrorMessage, Loading, Notice } from '../../components/Status'
import { printerAdminApi, type PrinterFound } from './api'
import { PrinterCard } from './PrinterCard'
import { usePrinterEvents } from './usePrinterEvents'

type Found = PrinterFound & { url: string }

/** Open by itself while there is no printer yet: adding one is the only thing to do here.
 * Adding tries the address first and says what it found there (Moonraker's version, Klippy's
 * state) or why nothing answered; an unreachable printer is only added when asked again. */
function AddPrinter({ first }: { first: boolean }) {
  const client = useQueryClient()
  const [name, setName] = useState('')
  const [url, setUrl] = useState('http://')
  const [apiKey, setApiKey] = useState('')
  const [found, setFound] = useState<Found | null>(null)
  const [added, setAdded] = useState<string | null>(null)
  // Open as the page opens without printers, and kept so: the first printer added must not
  // fold the form away with its "Added …" answer in it.
  const [openAtStart] = useState(first)
  const target = () => ({ provider: 'moonraker' as const, url: url.trim(), ...(apiKey ? { api_key: apiKey } : {}) })
  const check = useMutation({
    mutationFn: async () => ({ ...(await printerAdminApi.check(target())), url: url.trim() }),
    onSuccess: setFound,
  })
  const create = useMutation({
    mutationFn: (_found: string | null) => printerAdminApi.create({ name: name.trim(), ...target() }),
    onSuccess: async (printer, foundThere) => {
      setAdded(`Added ${printer.name}.${foundThere ? ` ${foundThere}.` : ''}`)
      setName('')
      setUrl('http://')
      setApiKey('')
      setFound(null)
      await client.invalidateQueries({ queryKey: printerKeys.all })
    },
  })
  // the check's answer holds for the address it was made with, not one typed since
  const current = found && found.url === url.trim() ? found : null
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setAdded(null)
    if (current && !current.reachable) return create.mutate(null)  // "Add anyway"
    const answer = current ?? (await check.mutateAsync().catch(() => null))
    if (answer?.reachable) create.mutate(answer.message)
  }
  const busy = check.isPending || create.isPending
  return (
    <details className="panel" open={openAtStart || undefined}>
      <summary>Add a printer</summary>
      <form onSubmit={submit} className="form-grid">
        <label htmlFor="printer-name">Name</label>
        <input id="printer-name" value={name} onChange={(e) => setName(e.target.value)} required />
        <label htmlFor="printer-url">Moonraker address</label>
        <input id="printer-url" type="url" value={url} onChange={(e) => setUrl(e.target.value)} required placeholder="http://voron.local:7125" />
        <label htmlFor="printer-key">Moonraker API key (optional)</label>
        <input id="printer-key" value={apiKey} onChange={(e) => setApiKey(e.target.value)} autoComplete="off" />
        <div />
        <div className="inline">
          <button type="submit" className="primary" disabled={busy}>{current && !current.reachable ? 'Add anyway' : 'Add printer'}</button>
          <button type="button" disabled={busy || !url.trim()} onClick={() => { setAdded(null); check.mutate() }}>Test connection</button>
        </div>
      </form>
      {check.isPending ? <p className="muted" role="status">Connecting to {url.trim()}…</p> : null}
      {current?.reachable ? <Notice>{current.message}.</Notice> : null}
      {current && !current.reachable ? (
        <div role="alert" className="message error"><strong>Printer not reached.</strong> {current.message}. Check the address and key, or add it anyway to try again later.</div>
      ) : null}
      {added ? <Notice>{added}</Notice> : null}
      <ErrorMessage error={check.error ?? create.error} title="Printer not added" />
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
