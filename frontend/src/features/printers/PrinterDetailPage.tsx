import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useEffect, useState, type FormEvent } from 'react'
import { Link, useNavigate, useParams } from 'react-router'
import { filesApi } from '../../api/files'
import { printerKeys, printersApi } from '../../api/printers'
import { useIsAdmin } from '../../api/session'
import type { FileRead, Printer } from '../../api/types'
import { Badge, ErrorMessage, Loading, Notice } from '../../components/Status'
import { Thumbnail } from '../../components/Thumbnail'
import { formatAge, formatDate, formatDuration, humanize } from '../../lib/format'
import { printerAdminApi, type PrinterAction } from './api'
import { StatusLines } from './PrinterCard'
import { PrintFromLibrary } from './PrintFromLibrary'
import { PrinterTemperatures } from './Temperatures'
import { PrinterWebcams } from './Webcams'
import { baseName, stateOf } from './state'
import { usePrinterEvents } from './usePrinterEvents'

/** The vault file being printed: by id when the api knows it, else by its file name. */
function useCurrentFile(printer: Printer | undefined) {
  const fileId = printer?.status?.file_id ?? null
  const filename = printer?.status?.filename ?? null
  return useQuery<FileRead | null>({
    queryKey: ['files', 'current', fileId, filename],
    enabled: fileId !== null || Boolean(filename),
    queryFn: async () => {
      if (fileId !== null) return filesApi.get(fileId)
      const base = filename!.split('/').pop()!
      const page = await filesApi.list({ q: base.replace(/\.[^.]+$/, ''), limit: 20 })
      return page.items.find((file) => file.name === base) ?? null
    },
  })
}

function Controls({ printer }: { printer: Printer }) {
  const client = useQueryClient()
  const state = stateOf(printer.status)
  const act = useMutation({
    mutationFn: (action: PrinterAction) => printerAdminApi.action(printer.id, action),
    onSettled: () => client.invalidateQueries({ queryKey: printerKeys.one(printer.id) }),
  })
  // Only what applies now: nothing to pause on an idle or offline printer.
  if (state !== 'printing' && state !== 'paused' && !act.error) return null
  return (
    <div className="stack">
      <div className="inline" role="group" aria-label="Print controls">
        {state === 'printing' ? <button type="button" disabled={act.isPending} onClick={() => act.mutate('pause')}>Pause</button> : null}
        {state === 'paused' ? <button type="button" disabled={act.isPending} onClick={() => act.mutate('resume')}>Resume</button> : null}
        {state === 'printing' || state === 'paused' ? (
          <button type="button" className="danger" disabled={act.isPending}
            onClick={() => { if (window.confirm(`Cancel the print on ${printer.name}?`)) act.mutate('cancel') }}>Cancel print</button>
        ) : null}
      </div>
      <ErrorMessage error={act.error} title="Not done" />
    </div>
  )
}

function History({ id, state }: { id: number; state: string }) {
  const client = useQueryClient()
  // The worker imports finished jobs shortly after a print ends: look again on every state
  // change, and now and then while the page stays open.
  const history = useQuery({ queryKey: printerKeys.history(id), queryFn: () => printerAdminApi.history(id), refetchInterval: 5_000 })
  useEffect(() => {
    void client.invalidateQueries({ queryKey: printerKeys.history(id) })
  }, [client, id, state])
  return (
    <section aria-labelledby="printer-history" className="stack">
      <h2 id="printer-history" className="h3">History</h2>
      <ErrorMessage error={history.error} title="History unavailable" />
      {history.data?.items.length === 0 ? <p className="muted">No prints recorded yet.</p> : null}
      {history.data?.items.length ? (
        <div className="table-wrap">
          <table className="responsive">
            <thead><tr><th scope="col">Started</th><th scope="col">File</th><th scope="col">Result</th><th scope="col">Duration</th></tr></thead>
            <tbody>
              {history.data.items.map((job) => (
                <tr key={job.id}>
                  <td data-label="Started">{formatDate(job.start_time)}</td>
                  <td className="break" data-label="File">{job.file_id ? <Link to={`/files/${job.file_id}`}>{baseName(job.filename)}</Link> : baseName(job.filename)}</td>
                  <td data-label="Result"><Badge status={job.status} label={humanize(job.status)} /></td>
                  <td data-label="Duration">{formatDuration(job.total_duration ?? job.print_duration)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  )
}

function EditPrinter({ printer }: { printer: Printer }) {
  const client = useQueryClient()
  const [name, setName] = useState(printer.name)
  const [url, setUrl] = useState(printer.url)
  const [apiKey, setApiKey] = useState('')
  const [interval, setPollInterval] = useState(printer.poll_interval ? String(printer.poll_interval) : '')
  const save = useMutation({
    mutationFn: () => printerAdminApi.update(printer.id, {
      name: name.trim(), url: url.trim(),
      ...(apiKey ? { api_key: apiKey } : {}),
      ...(interval ? { poll_interval: Number(interval) } : {}),
    }),
    onSuccess: async () => {
      setApiKey('')
      await client.invalidateQueries({ queryKey: printerKeys.all })
    },
  })
  const submit = (event: FormEvent) => {
    event.preventDefault()
    save.mutate()
  }
  return (
    <details className="panel">
      <summary>Edit printer</summary>
      <form onSubmit={submit} className="form-grid">
        <label htmlFor="edit-name">Name</label>
        <input id="edit-name" value={name} onChange={(e) => setName(e.target.value)} required />
        <label htmlFor="edit-url">Moonraker address</label>
        <input id="edit-url" type="url" value={url} onChange={(e) => setUrl(e.target.value)} required />
        <label htmlFor="edit-key">New Moonraker API key</label>
        <input id="edit-key" value={apiKey} onChange={(e) => setApiKey(e.target.value)} autoComplete="off"
          placeholder={printer.has_api_key ? 'stored (leave empty to keep it)' : 'none'} />
        <label htmlFor="edit-interval">Poll every (seconds)</label>
        <input id="edit-interval" type="number" min={0.2} max={3600} step={0.1} value={interval} onChange={(e) => setPollInterval(e.target.value)} placeholder="server default" />
        <div />
        <div><button type="submit" className="primary" disabled={save.isPending}>Save</button></div>
      </form>
      <ErrorMessage error={save.error} title="Not saved" />
      {save.isSuccess ? <Notice>Saved.</Notice> : null}
    </details>
  )
}

function RemovePrinter({ printer }: { printer: Printer }) {
  const navigate = useNavigate()
  const client = useQueryClient()
  const remove = useMutation({
    mutationFn: () => printerAdminApi.remove(printer.id),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: printerKeys.all })
      navigate('/printers')
    },
  })
  return (
    <div>
      <button type="button" className="danger" onClick={() => { if (window.confirm(`Remove ${printer.name} from PrintStash?`)) remove.mutate() }}>Remove printer</button>
      <ErrorMessage error={remove.error} title="Not removed" />
    </div>
  )
}

/** Beside the printer's name: green only while this page gets updates AND the printer answers
 * (a green "Live" next to an offline printer read as if the printer were live). */
function Freshness({ live, online }: { live: ReturnType<typeof usePrinterEvents>; online: boolean }) {
  if (live !== 'live') return <span className="live live-reconnecting">{live === 'connecting' ? 'Connecting…' : 'Reconnecting…'}</span>
  if (!online) {
    return <span className="live live-offline" title="No answer from the printer: this page shows what it last said and updates by itself when it answers again">○ Printer offline</span>
  }
  return <span className="live live-live" title="This page updates by itself while connected">● Live updates</span>
}

/** The time now, again every `everyMs`: "last contact 40s ago" keeps counting while nothing changes. */
function useNow(everyMs: number): Date {
  const [now, setNow] = useState(() => new Date())
  useEffect(() => {
    const timer = window.setInterval(() => setNow(new Date()), everyMs)
    return () => window.clearInterval(timer)
  }, [everyMs])
  return now
}

export function PrinterDetailPage() {
  const id = Number(useParams().id)
  const printer = useQuery({ queryKey: printerKeys.one(id), queryFn: () => printersApi.get(id) })
  const live = usePrinterEvents()
  const current = useCurrentFile(printer.data)
  const isAdmin = useIsAdmin()
  const now = useNow(5000)
  if (printer.isPending) return <Loading what="Loading printer" />
  if (printer.error) return <ErrorMessage error={printer.error} title="Could not load the printer" />
  const data = printer.data
  const state = stateOf(data.status)
  return (
    <article className="stack">
      <p><Link to="/printers">← Printers</Link></p>
      <div className="page-head">
        <h1>{data.name}</h1>
        <Freshness live={live} online={Boolean(data.status?.online)} />
      </div>
      <p className="muted break">{humanize(data.provider)} at <code>{data.url}</code> · {data.status?.online ? 'connected' : 'not connected'}, last contact {formatAge(data.status?.last_seen, now)}</p>
      <div className="detail-grid">
        <section aria-labelledby="printer-status" className="panel stack" aria-live="polite">
          <h2 id="printer-status" className="h3">Status: <Badge status={state} label={humanize(state)} /></h2>
          {state === 'printing' || state === 'paused' ? (
            <progress max={100} value={Math.round((data.status?.progress ?? 0) * 100)} aria-label="Print progress" />
          ) : null}
          <StatusLines status={data.status} />
          <Controls printer={data} />
        </section>
        <section aria-labelledby="printer-file" className="stack">
          <h2 id="printer-file" className="h3">Current file</h2>
          {current.data ? (
            <>
              <Link to={`/files/${current.data.id}`} className="current-file"><Thumbnail file={current.data} /><span>{current.data.name}</span></Link>
              {(state === 'printing' || state === 'paused') && data.status?.file_id ? <p><Link to={`/printers/${id}/preview`}>Follow the print layer by layer</Link></p> : null}
            </>
          ) : <p className="muted">{data.status?.filename ? `${baseName(data.status.filename)} (not from the library)` : 'Nothing loaded.'}</p>}
        </section>
      </div>
      <PrintFromLibrary printer={data} />
      <div className="detail-grid">
        <PrinterTemperatures printer={data} />
        <PrinterWebcams printer={data} />
      </div>
      <History id={id} state={state} />
      {isAdmin ? <EditPrinter key={data.id} printer={data} /> : null}
      {isAdmin ? <RemovePrinter printer={data} /> : null}
    </article>
  )
}
