import { useQuery } from '@tanstack/react-query'
import { getHealth, healthKey } from '../../api/health'
import { useIsAdmin } from '../../api/session'
import type { HealthComponent } from '../../api/types'
import { Badge, ErrorMessage, Loading } from '../../components/Status'
import { humanize } from '../../lib/format'
import { detailRows } from './details'
import { LibraryPreferences } from './LibraryPreferences'
import { Maintenance } from './Maintenance'

const NAMES: Record<string, string> = {
  database: 'Database',
  storage: 'Storage',
  backup: 'Backups',
  printer_providers: 'Printer providers',
}

export function ComponentCard({ name, component }: { name: string; component: HealthComponent }) {
  return (
    <li className="card health-card" data-component={name}>
      <div className="card-body">
        <div className="card-title">
          <h2 className="h3">{NAMES[name] ?? humanize(name)}</h2>
          <Badge status={component.status} />
        </div>
        <dl className="meta compact">
          {detailRows(component).map((row) => <div key={row.key}><dt>{row.label}</dt><dd className="break">{row.value}</dd></div>)}
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
      {isAdmin ? <LibraryPreferences /> : null}
    </div>
  )
}
