import { useRef, useState, type DragEvent } from 'react'
import { Link } from 'react-router'
import { formatBytes } from '../../lib/format'
import { useUploads, type UploadItem } from './useUploads'

const STATE_TEXT: Record<UploadItem['state'], string> = {
  queued: 'Waiting',
  uploading: 'Uploading',
  done: 'Uploaded',
  duplicate: 'Already in the library',
  error: 'Failed',
}

export function UploadRow({ item }: { item: UploadItem }) {
  const percent = Math.round(item.progress * 100)
  return (
    <li className={`upload upload-${item.state}`}>
      <div className="upload-head">
        <span className="break">{item.name}</span>
        <span className="muted small">{formatBytes(item.size)}</span>
      </div>
      <progress max={100} value={percent} aria-label={`Upload of ${item.name}`}>{percent}%</progress>
      <div className="small" role={item.state === 'error' ? 'alert' : undefined}>
        <strong>{STATE_TEXT[item.state]}</strong>
        {item.state === 'uploading' ? ` ${percent}%` : null}
        {item.state === 'error' ? `: ${item.error}` : null}
        {item.file && (item.state === 'done' || item.state === 'duplicate') ? <> — <Link to={`/files/${item.file.id}`}>open {item.file.name}</Link></> : null}
      </div>
    </li>
  )
}

export function UploadPage() {
  const { uploads, add, clearFinished } = useUploads()
  const [over, setOver] = useState(false)
  const input = useRef<HTMLInputElement>(null)

  const drop = (event: DragEvent) => {
    event.preventDefault()
    setOver(false)
    if (event.dataTransfer.files.length) add(event.dataTransfer.files)
  }

  return (
    <div className="stack">
      <h1>Upload G-code</h1>
      <div
        className={`dropzone ${over ? 'over' : ''}`}
        onDragOver={(e) => { e.preventDefault(); setOver(true) }}
        onDragLeave={() => setOver(false)}
        onDrop={drop}
      >
        <p>Drop G-code files here, as many as you like.</p>
        <label htmlFor="upload-input" className="button primary">Choose files…</label>
        <input id="upload-input" ref={input} className="sr-only-input" type="file" multiple accept=".gcode,.gco,.g,.bgcode,text/x-gcode"
          onChange={(e) => { if (e.target.files?.length) add(e.target.files); e.target.value = '' }} />
        <p className="muted small">Slicers can also upload directly: see the API keys page.</p>
      </div>
      {uploads.length ? (
        <section aria-label="Uploads" className="stack">
          <div className="page-head">
            <h2 className="h3">Uploads</h2>
            <button type="button" onClick={clearFinished}>Clear finished</button>
          </div>
          <ul className="uploads">{uploads.map((item) => <UploadRow key={item.key} item={item} />)}</ul>
        </section>
      ) : null}
    </div>
  )
}
