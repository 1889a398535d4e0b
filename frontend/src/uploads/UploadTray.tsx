import { useState } from 'react'
import { Link, useLocation } from 'react-router'
import { formatBytes } from '../lib/format'
import { isActive, useUploads, type UploadItem } from './queue'

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

/** This tab's uploads on every page but the Upload page (which lists them itself), while any
 * is still running; afterwards only failures stay, until dismissed. */
export function UploadTray() {
  const { uploads, clearFinished } = useUploads()
  const [open, setOpen] = useState(true)
  const { pathname } = useLocation()
  const active = uploads.filter(isActive).length
  const failed = uploads.filter((item) => item.state === 'error')
  if (pathname === '/upload' || (!active && !failed.length)) return null
  const rows = active ? uploads : failed
  const title = active ? `Uploading ${active} of ${uploads.length}` : `${failed.length} ${failed.length === 1 ? 'upload' : 'uploads'} failed`
  return (
    <aside className="upload-tray panel" aria-label="Uploads">
      <div className="upload-tray-head">
        <strong aria-live="polite">{title}</strong>
        <div className="inline">
          <button type="button" className="link" aria-expanded={open} onClick={() => setOpen(!open)}>{open ? 'Hide' : 'Show'}</button>
          {active ? null : <button type="button" className="link" onClick={clearFinished}>Dismiss</button>}
        </div>
      </div>
      {open ? <ul className="uploads">{rows.map((item) => <UploadRow key={item.key} item={item} />)}</ul> : null}
    </aside>
  )
}
