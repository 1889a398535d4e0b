import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useEffect, useState } from 'react'
import { fileKeys, filesApi } from '../../api/files'
import { printerKeys, printersApi } from '../../api/printers'
import type { FileRead, Printer } from '../../api/types'
import { ErrorMessage, Notice } from '../../components/Status'
import { Thumbnail } from '../../components/Thumbnail'
import { formatDuration } from '../../lib/format'
import { stateOf } from './state'

const RESULTS = 6
// Klipper takes the next print after a finished, cancelled or failed one.
const IDLE = new Set(['standby', 'complete', 'cancelled', 'error'])

function useDebounced(value: string, ms = 300): string {
  const [settled, setSettled] = useState(value)
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms)
    return () => clearTimeout(timer)
  }, [value, ms])
  return settled
}

function Choice({ file, printer, onSent }: { file: FileRead; printer: Printer; onSent: (name: string) => void }) {
  const client = useQueryClient()
  const [plate, setPlate] = useState(1)
  const send = useMutation({
    mutationFn: () => printersApi.print(printer.id, file.id, plate),
    onSuccess: async () => {
      onSent(file.plates.length > 1 ? `${file.name} (plate ${plate})` : file.name)
      await client.invalidateQueries({ queryKey: printerKeys.one(printer.id) })
    },
  })
  const time = file.metadata.estimated_time
  return (
    <li className="print-choice">
      <Thumbnail file={file} size="small" />
      <div className="stack tight">
        <span className="break">{file.name}</span>
        {time !== undefined ? <span className="muted small">{formatDuration(time)}</span> : null}
        <ErrorMessage error={send.error} title="Not sent" />
      </div>
      <div className="inline">
        {file.plates.length > 1 ? (
          <select aria-label={`Plate of ${file.name}`} value={plate} onChange={(e) => setPlate(Number(e.target.value))}>
            {file.plates.map((p) => <option key={p.index} value={p.index}>Plate {p.index}</option>)}
          </select>
        ) : null}
        <button type="button" className="primary" aria-label={`Print ${file.name}`} disabled={send.isPending}
          onClick={() => send.mutate()}>{send.isPending ? 'Sending…' : 'Print'}</button>
      </div>
    </li>
  )
}

/** Start a print from this page: find a file in the library (newest first until words are
 * typed) and send it, with the plate for a multi-plate package. Only while the printer is idle. */
export function PrintFromLibrary({ printer }: { printer: Printer }) {
  const [text, setText] = useState('')
  const [sent, setSent] = useState<string | null>(null)
  const q = useDebounced(text.trim())
  const query = { q: q || undefined, sort: q ? 'relevance' : '-uploaded_at', limit: RESULTS }
  const idle = Boolean(printer.status?.online) && IDLE.has(stateOf(printer.status))
  const files = useQuery({ queryKey: fileKeys.list(query), queryFn: () => filesApi.list(query), placeholderData: keepPreviousData, enabled: idle })
  if (!idle) return sent ? <Notice>{`Sent ${sent} to ${printer.name}.`}</Notice> : null
  return (
    <section aria-labelledby="print-a-file" className="panel stack">
      <h2 id="print-a-file" className="h3">Print a file</h2>
      <label htmlFor="print-search" className="sr-only">Find a file to print</label>
      <input id="print-search" type="search" placeholder="Find a file in the library…" value={text} onChange={(e) => setText(e.target.value)} />
      <ErrorMessage error={files.error} title="Could not search the library" />
      {files.data?.items.length === 0 ? <p className="muted">{q ? 'Nothing matches.' : 'The library is empty.'}</p> : null}
      <ul className="plain-list stack" aria-label="Files to print">
        {files.data?.items.map((file) => <Choice key={file.id} file={file} printer={printer} onSent={setSent} />)}
      </ul>
      {sent ? <Notice>{`Sent ${sent} to ${printer.name}.`}</Notice> : null}
    </section>
  )
}
