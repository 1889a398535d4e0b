import { useQuery } from '@tanstack/react-query'
import type { Printer } from '../../api/types'
import { ErrorMessage } from '../../components/Status'
import { humanize } from '../../lib/format'
import { printerAdminApi, type SensorRead } from './api'

const COLOURS = ['#e4572e', '#2e86ab', '#8fb339', '#a05195', '#f3a712', '#29335c', '#17bebb', '#c45baa']
const WIDTH = 600
const HEIGHT = 180
const KIND_WORDS: Record<SensorRead['kind'], string> = {
  heater: 'Heater', temperature_sensor: 'Sensor', temperature_fan: 'Temperature fan', other: 'Other',
}

const celsius = (value: number | null | undefined) => (typeof value === 'number' ? `${value.toFixed(1)} °C` : '—')

/** The polyline of one series, x: seconds ago (right edge: now), y: degrees in [low, high]. */
function points(values: (number | null)[], length: number, low: number, high: number): string {
  const offset = length - values.length
  return values
    .map((value, i) => (value === null ? null : `${(((offset + i) / Math.max(length - 1, 1)) * WIDTH).toFixed(1)},${(HEIGHT - ((value - low) / (high - low)) * HEIGHT).toFixed(1)}`))
    .filter(Boolean)
    .join(' ')
}

function Graph({ sensors }: { sensors: SensorRead[] }) {
  const all = sensors.flatMap((s) => [...s.history, ...(s.target_history ?? [])]).filter((v): v is number => typeof v === 'number')
  if (!all.length) return <p className="muted">No readings yet.</p>
  const low = Math.min(0, Math.floor(Math.min(...all) / 10) * 10)
  const high = Math.max(low + 10, Math.ceil((Math.max(...all) + 5) / 10) * 10)
  const length = Math.max(...sensors.map((s) => s.history.length))
  const minutes = Math.round(length / 60)
  return (
    <figure className="temp-graph">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none" role="img"
        aria-label={`Temperatures over the last ${minutes || 1} min, ${low} to ${high} °C`}>
        {[0.25, 0.5, 0.75].map((f) => <line key={f} x1={0} x2={WIDTH} y1={HEIGHT * f} y2={HEIGHT * f} className="grid-line" />)}
        {sensors.map((sensor, i) => (
          <g key={sensor.name} stroke={COLOURS[i % COLOURS.length]}>
            <polyline points={points(sensor.history, length, low, high)} fill="none" strokeWidth={2} vectorEffect="non-scaling-stroke" />
            {sensor.target_history?.some((t) => t) ? (
              <polyline points={points(sensor.target_history, length, low, high)} fill="none" strokeWidth={1} strokeDasharray="4 3" vectorEffect="non-scaling-stroke" />
            ) : null}
          </g>
        ))}
      </svg>
      <figcaption className="muted small">{high} °C top, {low} °C bottom; the last {minutes || 1} min, now at the right. Dashed: targets.</figcaption>
    </figure>
  )
}

/** Every heater, sensor (chamber, MCU, host…) and temperature fan the printer reports, now
 * and as a graph, from the printer's own one-a-second record (asked again every 3 s). */
export function PrinterTemperatures({ printer }: { printer: Printer }) {
  const temps = useQuery({
    queryKey: ['printers', 'temperatures', printer.id],
    queryFn: () => printerAdminApi.temperatures(printer.id),
    refetchInterval: 3_000,
    enabled: Boolean(printer.status?.online),
  })
  if (!printer.status?.online) return null
  const sensors = temps.data?.sensors ?? []
  return (
    <section aria-labelledby="printer-temperatures" className="panel stack">
      <h2 id="printer-temperatures" className="h3">Temperatures</h2>
      <ErrorMessage error={temps.error} title="Temperatures unavailable" />
      {temps.data && !sensors.length ? <p className="muted">This printer reports no heaters or sensors.</p> : null}
      {sensors.length ? (
        <>
          <Graph sensors={sensors} />
          <div className="table-wrap">
            <table className="responsive" aria-label="Sensors">
              <thead><tr><th scope="col">Sensor</th><th scope="col">Now</th><th scope="col">Target</th><th scope="col">Kind</th></tr></thead>
              <tbody>
                {sensors.map((sensor, i) => (
                  <tr key={sensor.name}>
                    <th scope="row"><span className="swatch" style={{ background: COLOURS[i % COLOURS.length] }} aria-hidden="true" /> {humanize(sensor.name)}</th>
                    <td data-label="Now">{celsius(sensor.temperature)}</td>
                    <td data-label="Target">{sensor.target ? celsius(sensor.target) : sensor.kind === 'heater' ? 'off' : ''}</td>
                    <td data-label="Kind">{KIND_WORDS[sensor.kind]}{sensor.speed != null ? `, fan ${Math.round(sensor.speed * 100)}%` : ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </section>
  )
}
