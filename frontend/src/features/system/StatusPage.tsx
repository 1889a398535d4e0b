import { useQuery } from '@tanstack/react-query'
import { getHealth, healthKey } from '../../api/health'
import { useIsAdmin } from '../../api/session'
import type { HealthComponent } from '../../api/types'
import { Badge, ErrorMessage, Loading } from '../../components/Status'
import { formatAge, formatBytes, formatDate, formatDuration, humanize } from '../../lib/format'
import { Maintenance } from './Maintenance'

const NAMES: Record<string, string> = {
  database: 'Database',
  storage: 'Storage',
  backup: 'Backups',
  printer_providers: 'Printer providers',
}

/** Health details by the shape of their key: bytes, percentages, times, ages. */
function detailValue(key: string, value: unknown): string {
  if (value === null || value === undefined || value === '') return '—'
  if (typeof value === 'boolean') return value ? 'yes' : 'no'
  if (typeof value === 'number') {
    if (key.endsWith('_bytes')) return formatBytes(value)
    if (key.endsWith('_percent')) return `${value.toFixed(1)}%`
    if (key.endsWith('_ms')) return `${value.toFixed(1)} ms`
    if (key.endsWith('_s') || key.endsWith('_seconds')) return formatDuration(value)
  }
  if (typeof value === 'string' && key.endsWith('_at')) return `${formatDate(value)} (${formatAge(value)})`
  if (key === 'reason' && typeof value === 'string') return humanize(value)
  if (typeof value === 'object') return summarise(value as Record<string, unknown>)
  return String(value)
}

function summarise(value: Record<string, unknown> | unknown[]): string {
  if (Array.isArray(value)) return value.map(String).join(', ') || 'none'
  const entries = Object.entries(value)
  if (!entries.length) return 'none'
  return entries.map(([k, v]) => `${humanize(k)}: ${typeof v === 'object' && v !== null ? summarise(v as Record<string, unknown>) : String(v)}`).join('; ')
}

/** "free_bytes" -> "Free", "latency_ms" -> "Latency", "last_name" -> "Last backup". */
function detailLabel(key: string): string {
  if (key === 'last_name') return 'Last backup'
  return humanize(key.replace(/_(bytes|ms|s|seconds)$/, ''))
}

export function ComponentCard({ name, component }: { name: string; component: HealthComponent }) {
  const details = Object.entries(component).filter(([key]) => key !== 'status')
  return (
    <li className="card health-card" data-component={name}>
      <div className="card-body">
        <div className="card-title">
          <h2 className="h3">{NAMES[name] ?? humanize(name)}</h2>
          <Badge status={component.status} />
        </div>
        <dl className="meta compact">
          {details.map(([key, value]) => <div key={key}><dt>{detailLabel(key)}</dt><dd className="break">{detailValue(key, value)}</dd></div>)}
        </dl>
      </div>
    </li>
  )
}

function maintenanceOn(flag: unknown): boolean {
  return flag === true || (typeof flag === 'object' && flag !== null && (flag as { on?: unknown }).on === true)
}

export function StatusPage() {
  const health = useQuery({ queryKey: healthKey, queryFn: getHealth, refetchInterval: 10_000 })
  const isAdmin = useIsAdmin()
  return (
    <div className="stack">
      <div className="page-head">
        <h1>System status</h1>
        {health.data ? <span>Overall: <Badge status={health.data.status} /></span> : null}
      </div>
      {health.data?.version ? <p className="muted">PrintStash {health.data.version}</p> : null}
      {maintenanceOn(health.data?.maintenance) ? (
        <div role="status" className="message error">Maintenance mode is on: uploads are paused and scheduled jobs wait until an admin turns it off.</div>
      ) : null}
      <ErrorMessage error={health.error} title="Health check failed" />
      {health.isPending ? <Loading what="Checking" /> : null}
      <ul className="health-grid" aria-label="Components">
        {Object.entries(health.data?.components ?? {}).map(([name, component]) => <ComponentCard key={name} name={name} component={component} />)}
      </ul>
      {isAdmin ? <Maintenance /> : null}
    </div>
  )
}
