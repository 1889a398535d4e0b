import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState, type FormEvent } from 'react'
import { Link, useNavigate, useParams } from 'react-router'
import { MODEL_KINDS, downloadUrl, fileKeys, filesApi } from '../../api/files'
import { preferencesApi, preferencesKey } from '../../api/preferences'
import { printerKeys, printersApi } from '../../api/printers'
import type { FileRead } from '../../api/types'
import { ErrorMessage, Loading, Notice } from '../../components/Status'
import { formatBytes, formatDate, formatDuration, humanize } from '../../lib/format'
import { libraryApi } from './api'
import { FavouriteButton } from './FileViews'
import { colours, glance, metadataRows, modelRows } from './metadata'
import { PlatePicker, Plates } from './Plates'

function Swatches({ colours: list }: { colours: string[] }) {
  if (!list.length) return null
  return <span className="swatches">{list.map((colour, index) => <span key={`${colour}-${index}`} className="swatch" style={{ background: colour }} title={colour} role="img" aria-label={`colour ${colour}`} />)}</span>
}

/** The few lines a person reads before printing; every parsed field under "All fields". */
function MetadataTable({ file }: { file: FileRead }) {
  const currency = useQuery({ queryKey: preferencesKey, queryFn: preferencesApi.get }).data?.currency
  const rows = glance(file.metadata, currency)
  const all = metadataRows(file.metadata, currency)
  if (!all.length) return <p className="muted">No slicer metadata was found in this file.</p>
  return (
    <div className="stack">
      <dl className="meta">
        {rows.map((row) => (
          <div key={row.key}><dt>{row.label}</dt><dd>{row.key === 'filament' ? <Swatches colours={colours(file.metadata)} /> : null}{row.value}</dd></div>
        ))}
      </dl>
      <details className="all-fields">
        <summary>All fields ({all.length})</summary>
        <dl className="fields compact">
          {all.map((row) => <div key={row.key}><dt>{row.label}</dt><dd className="break">{row.value}</dd></div>)}
        </dl>
      </details>
    </div>
  )
}

/** A model's mesh facts (triangles, size, volume, watertight) instead of slicer metadata. */
function ModelTable({ file }: { file: FileRead }) {
  if (!file.model) return <p className="muted">The mesh of this model could not be analysed.</p>
  return (
    <dl className="meta" aria-label="Model">
      {modelRows(file.model).map((row) => <div key={row.key}><dt>{row.label}</dt><dd>{row.value}</dd></div>)}
    </dl>
  )
}

function Thumbnails({ file }: { file: FileRead }) {
  const thumbs = [...file.thumbnails].sort((a, b) => b.width - a.width)
  if (!thumbs.length) return <div className="thumb placeholder large" aria-label="No preview in this file">No preview</div>
  return (
    <figure className="thumbs">
      <img className="thumb large" src={thumbs[0].url} alt={`Preview of ${file.name}`} />
      <figcaption className="muted small">{thumbs.map((t) => `${t.width}×${t.height} ${t.format}`).join(' · ')}</figcaption>
    </figure>
  )
}

/** The toolpath preview (its own page, a feature of its own): one per plate of a sliced file;
 * a model's 3D view. */
function PreviewLinks({ file }: { file: FileRead }) {
  if (MODEL_KINDS.includes(file.kind)) return <Link className="button" to={`/files/${file.id}/model`}>View in 3D</Link>
  if (file.plates.length === 1) return <Link className="button" to={`/files/${file.id}/preview`}>Preview</Link>
  return file.plates.map((plate) => (
    <Link key={plate.index} className="button" to={`/files/${file.id}/preview?plate=${plate.index}`}>Preview plate {plate.index}</Link>
  ))
}

function Notes({ file }: { file: FileRead }) {
  const client = useQueryClient()
  const [notes, setNotes] = useState(file.notes)
  const save = useMutation({
    mutationFn: () => libraryApi.update(file.id, { notes }),
    onSuccess: (updated) => client.setQueryData(fileKeys.one(file.id), updated),
  })
  return (
    <form onSubmit={(e) => { e.preventDefault(); save.mutate() }} className="stack">
      <label htmlFor="file-notes">Notes</label>
      <textarea id="file-notes" rows={4} value={notes} onChange={(e) => setNotes(e.target.value)} />
      <ErrorMessage error={save.error} title="Notes not saved" />
      {save.isSuccess && notes === file.notes ? <Notice>Notes saved.</Notice> : null}
      <div><button type="submit" disabled={save.isPending || notes === file.notes}>Save notes</button></div>
    </form>
  )
}

function TagEditor({ file }: { file: FileRead }) {
  const client = useQueryClient()
  const [text, setText] = useState('')
  const save = useMutation({
    mutationFn: (tags: string[]) => libraryApi.setTags(file.id, tags),
    onSuccess: () => client.invalidateQueries({ queryKey: fileKeys.all }),
  })
  const add = (event: FormEvent) => {
    event.preventDefault()
    const fresh = text.split(',').map((tag) => tag.trim()).filter((tag) => tag && !file.tags.includes(tag))
    if (fresh.length) save.mutate([...file.tags, ...fresh], { onSuccess: () => setText('') })
  }
  return (
    <div className="stack">
      <h2 className="h3">Tags</h2>
      <ul className="tags editable" aria-label="Tags">
        {file.tags.map((tag) => (
          <li key={tag}>{tag} <button type="button" className="link" aria-label={`Remove tag ${tag}`} onClick={() => save.mutate(file.tags.filter((t) => t !== tag))}>×</button></li>
        ))}
        {file.tags.length === 0 ? <li className="muted plain">No tags yet</li> : null}
      </ul>
      <form onSubmit={add} className="inline">
        <label htmlFor="tag-input" className="sr-only">Add tags (comma separated)</label>
        <input id="tag-input" placeholder="Add tags, comma separated" value={text} onChange={(e) => setText(e.target.value)} />
        <button type="submit" disabled={save.isPending}>Add</button>
      </form>
      <ErrorMessage error={save.error} title="Tags not saved" />
    </div>
  )
}

function SendToPrinter({ file }: { file: FileRead }) {
  const printers = useQuery({ queryKey: printerKeys.list, queryFn: printersApi.list })
  const [printerId, setPrinterId] = useState('')
  const [plate, setPlate] = useState(file.plates[0]?.index ?? 1)
  const send = useMutation({ mutationFn: () => printersApi.print(Number(printerId), file.id, plate) })
  const list = printers.data ?? []
  return (
    <form className="stack" onSubmit={(e) => { e.preventDefault(); send.mutate() }}>
      <h2 className="h3">Send to printer</h2>
      {list.length === 0 && !printers.isPending ? <p className="muted">No printers yet. <Link to="/printers">Add one</Link>.</p> : null}
      <div className="inline">
        <label htmlFor="print-printer" className="sr-only">Printer</label>
        <select id="print-printer" value={printerId} onChange={(e) => setPrinterId(e.target.value)} required>
          <option value="">Choose a printer…</option>
          {list.map((p) => <option key={p.id} value={p.id}>{p.name} — {humanize(p.status?.state ?? 'unknown')}</option>)}
        </select>
        <PlatePicker file={file} plate={plate} onChange={setPlate} />
        <button type="submit" className="primary" disabled={!printerId || send.isPending}>Start print</button>
      </div>
      <ErrorMessage error={printers.error ?? send.error} title="Not sent" />
      {send.isSuccess ? <Notice>Sent. <Link to={`/printers/${printerId}`}>Watch the printer</Link>.</Notice> : null}
    </form>
  )
}

/** Completed prints count; a cancelled or failed last attempt is said as such. */
function printedSummary(file: FileRead): string {
  const count = file.print_count ? `Printed ${file.print_count} ${file.print_count === 1 ? 'time' : 'times'}` : 'Never printed to the end'
  if (!file.last_printed_at) return file.print_count ? `${count}.` : 'Never printed from PrintStash.'
  return `${count}; last attempt ${formatDate(file.last_printed_at)} (${humanize(file.last_print_result)}).`
}

function History({ file }: { file: FileRead }) {
  const history = useQuery({ queryKey: fileKeys.history(file.id), queryFn: () => libraryApi.history(file.id) })
  return (
    <section className="stack" aria-labelledby="history-title">
      <h2 id="history-title" className="h3">Print history</h2>
      <p className="muted">
        {printedSummary(file)}
      </p>
      <ErrorMessage error={history.error} title="History unavailable" />
      {history.data?.items.length ? (
        <ul className="plain-list" aria-label="Prints of this file">
          {history.data.items.map((job) => (
            <li key={job.id}>{formatDate(job.start_time)} · {job.printer_name} · {humanize(job.status)} · {formatDuration(job.total_duration ?? job.print_duration)}</li>
          ))}
        </ul>
      ) : null}
    </section>
  )
}

/** The file's name in the library (the stored bytes and their hash stay as they are). */
function Rename({ file }: { file: FileRead }) {
  const client = useQueryClient()
  const [editing, setEditing] = useState(false)
  const [name, setName] = useState(file.name)
  const rename = useMutation({
    mutationFn: () => libraryApi.update(file.id, { name: name.trim() }),
    onSuccess: async (updated) => {
      client.setQueryData(fileKeys.one(file.id), updated)
      setEditing(false)
      await client.invalidateQueries({ queryKey: fileKeys.all })
    },
  })
  if (!editing) {
    return <button type="button" onClick={() => { setName(file.name); rename.reset(); setEditing(true) }}>Rename</button>
  }
  return (
    <form className="inline-form span-all" aria-label="Rename file" onSubmit={(e) => { e.preventDefault(); rename.mutate() }}>
      <label htmlFor="file-name" className="sr-only">File name</label>
      <input id="file-name" value={name} onChange={(e) => setName(e.target.value)} required autoFocus
        onKeyDown={(e) => { if (e.key === 'Escape') setEditing(false) }} />
      <button type="submit" className="primary" disabled={rename.isPending || !name.trim() || name.trim() === file.name}>Save name</button>
      <button type="button" onClick={() => setEditing(false)}>Cancel</button>
      <ErrorMessage error={rename.error} title="Not renamed" />
    </form>
  )
}

function Danger({ file }: { file: FileRead }) {
  const navigate = useNavigate()
  const client = useQueryClient()
  const remove = useMutation({
    mutationFn: () => libraryApi.remove(file.id),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: fileKeys.all })
      navigate('/')
    },
  })
  // Re-reading runs in the worker (new parser version, or a file that failed to parse).
  const reparse = useMutation({ mutationFn: () => libraryApi.reparse(file.id) })
  return (
    <div className="stack">
      <div className="inline">
        <button type="button" onClick={() => reparse.mutate()} disabled={reparse.isPending}>Read the metadata again</button>
        <button type="button" className="danger" onClick={() => { if (window.confirm(`Move ${file.name} to the trash?`)) remove.mutate() }}>Move to trash</button>
      </div>
      {reparse.isSuccess ? <Notice>Queued: the worker reads the file again; reload in a moment.</Notice> : null}
      <ErrorMessage error={reparse.error ?? remove.error} title="Not done" />
    </div>
  )
}

export function FileDetailPage() {
  const id = Number(useParams().id)
  const file = useQuery({ queryKey: fileKeys.one(id), queryFn: () => filesApi.get(id), enabled: Number.isInteger(id) })
  if (!Number.isInteger(id)) return <ErrorMessage error="This is not a file address." />
  if (file.isPending) return <Loading what="Loading file" />
  if (file.error) return <ErrorMessage error={file.error} title="Could not load the file" />
  const data = file.data
  const isModel = MODEL_KINDS.includes(data.kind)
  return (
    <article className="file-detail">
      <p><Link to="/">← Library</Link></p>
      <div className="page-head">
        <h1 className="break">{data.name}</h1>
        <div className="inline"><FavouriteButton file={data} /><Rename key={data.id} file={data} /></div>
      </div>
      <p className="muted">{formatBytes(data.size)} · uploaded {formatDate(data.uploaded_at)} · <span title={data.sha256}>SHA-256 {data.sha256.slice(0, 12)}…</span></p>
      {data.parse_error ? <div role="alert" className="message error">The metadata could not be read: {data.parse_error}</div> : null}
      <div className="detail-grid">
        <div className="stack">
          <Thumbnails file={data} />
          <div className="inline">
            <a className="button primary" href={downloadUrl(data.id)} download={data.name}>{isModel ? 'Download model' : 'Download G-code'}</a>
            <PreviewLinks file={data} />
          </div>
          <Notes key={data.id} file={data} />
          <TagEditor file={data} />
        </div>
        <div className="stack">
          <section aria-labelledby="meta-title">
            <h2 id="meta-title" className="h3">Details</h2>
            {isModel ? <ModelTable file={data} /> : <MetadataTable file={data} />}
          </section>
          <Plates file={data} />
          {isModel ? <p className="muted">A model is sliced before it prints: open it in your slicer, then send the G-code here.</p> : <SendToPrinter file={data} />}
          <History file={data} />
          <Danger file={data} />
        </div>
      </div>
    </article>
  )
}
