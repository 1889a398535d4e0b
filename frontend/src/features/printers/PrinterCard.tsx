import { Link } from 'react-router'
import type { Printer, PrinterStatus } from '../../api/types'
import { Badge } from '../../components/Status'
import { baseName, stateOf } from './state'
import { formatDuration, formatHeater, formatPercent, humanize } from '../../lib/format'

export function StatusLines({ status }: { status: PrinterStatus | null | undefined }) {
  const state = stateOf(status)
  const active = state === 'printing' || state === 'paused'
  return (
    <dl className="meta compact">
      {status?.filename ? <div><dt>File</dt><dd className="break" title={status.filename}>{baseName(status.filename)}</dd></div> : null}
      {active ? <div><dt>Progress</dt><dd>{formatPercent(status?.progress)}</dd></div> : null}
      {active && status?.layer?.total ? <div><dt>Layer</dt><dd>{status.layer.current ?? 0} of {status.layer.total}</dd></div> : null}
      {active && status?.eta_s != null ? <div><dt>Time left</dt><dd>{formatDuration(status.eta_s)}</dd></div> : null}
      {active && status?.print_duration != null ? <div><dt>Printing for</dt><dd>{formatDuration(status.print_duration)}</dd></div> : null}
      <div><dt>Nozzle</dt><dd>{formatHeater(status?.extruder?.temperature, status?.extruder?.target)}</dd></div>
      <div><dt>Bed</dt><dd>{formatHeater(status?.heater_bed?.temperature, status?.heater_bed?.target)}</dd></div>
      {status?.message ? <div><dt>Message</dt><dd>{status.message}</dd></div> : null}
      {status?.error ? <div><dt>Error</dt><dd>{status.error}</dd></div> : null}
      {status?.klippy_state && status.klippy_state !== 'ready' ? <div><dt>Klippy</dt><dd>{humanize(status.klippy_state)}</dd></div> : null}
    </dl>
  )
}

export function PrinterCard({ printer }: { printer: Printer }) {
  const state = stateOf(printer.status)
  const progress = printer.status?.progress ?? 0
  return (
    <li className="card printer-card" data-state={state}>
      <div className="card-body">
        <div className="card-title">
          <Link to={`/printers/${printer.id}`}>{printer.name}</Link>
          <Badge status={state} label={humanize(state)} />
        </div>
        {state === 'printing' || state === 'paused' ? (
          <progress max={100} value={Math.round(progress * 100)} aria-label={`${printer.name} progress`} />
        ) : null}
        <StatusLines status={printer.status} />
      </div>
    </li>
  )
}
