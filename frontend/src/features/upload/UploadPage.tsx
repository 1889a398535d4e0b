import { useRef, useState, type DragEvent } from 'react'
import { Link } from 'react-router'
import { useUploads } from '../../uploads/queue'
import { UploadRow } from '../../uploads/UploadTray'

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
        <p>Drop G-code files here, as many as you like. Uploads go on while you use other pages.</p>
        <label htmlFor="upload-input" className="button primary">Choose files…</label>
        <input id="upload-input" ref={input} className="sr-only-input" type="file" multiple accept=".gcode,.gco,.g,.bgcode,text/x-gcode"
          onChange={(e) => { if (e.target.files?.length) add(e.target.files); e.target.value = '' }} />
        <p className="muted small">Slicers can also upload directly: see <Link to="/api-keys">API keys</Link> for this server's address and a key.</p>
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
