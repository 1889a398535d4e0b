import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { api, apiHref, unwrap } from '../../api/client'
import { getHealth, healthKey } from '../../api/health'
import type { BackupRead, Health } from '../../api/types'
import { Badge, ErrorMessage, Loading, Notice } from '../../components/Status'
import { formatAge, formatBytes, formatDate, humanize } from '../../lib/format'

const backupKeys = { list: ['backups'] as const, policy: ['backups', 'policy'] as const }
const backup = (name: string) => ({ params: { path: { name } } })
const backupsApi = {
  list: async () => (await unwrap(api.GET('/api/v1/backups'))).items,
  policy: () => unwrap(api.GET('/api/v1/backups/policy')),
  create: (withObjects: boolean) =>
    unwrap(api.POST('/api/v1/backups', { params: { query: { with_objects: withObjects } } })),
  verify: (name: string) => unwrap(api.POST('/api/v1/backups/{name}/verify', backup(name))),
  remove: (name: string) => unwrap(api.DELETE('/api/v1/backups/{name}', backup(name))),
}

function LastBackup({ health }: { health: Health | undefined }) {
  const last = health?.components?.backup
  if (!last) return null
  const when = (last.last_success_at ?? last.last_backup_at ?? last.last_at) as string | undefined
  return (
    <p>
      Last backup: <Badge status={last.status} /> {when ? `${formatDate(when)} (${formatAge(when)})` : 'none yet'}
      {typeof last.last_error === 'string' && last.last_error ? <span className="error-text"> — last error: {last.last_error}</span> : null}
    </p>
  )
}

/** "0 3 * * *" as "every day at 03:00 UTC"; other schedules as the cron line itself. */
function scheduleWords(cron: string): string {
  const daily = /^(\d{1,2}) (\d{1,2}) \* \* \*$/.exec(cron.trim())
  if (!daily) return `cron ${cron} (UTC)`
  return `every day at ${daily[2].padStart(2, '0')}:${daily[1].padStart(2, '0')} UTC`
}

function Policy() {
  const policy = useQuery({ queryKey: backupKeys.policy, queryFn: backupsApi.policy })
  if (policy.error) return <ErrorMessage error={policy.error} title="Could not read the backup settings" />
  if (!policy.data) return null
  const p = policy.data
  return (
    <section aria-labelledby="backup-policy" className="panel stack">
      <h2 id="backup-policy" className="h3">Schedule and retention</h2>
      <dl className="meta">
        <div><dt>Schedule</dt><dd>{p.schedule ? <>{scheduleWords(p.schedule)}{p.next_run_at ? `; next ${formatDate(p.next_run_at)}` : ''}</> : 'off (no scheduled backups)'}</dd></div>
        <div><dt>Kept</dt><dd>the newest {p.keep} scheduled backups; manual ones stay until you delete them</dd></div>
        <div><dt>Health warns</dt><dd>when the last backup is older than {p.max_age_hours} hours</dd></div>
        <div><dt>Stored in</dt><dd className="break"><code>{p.directory}</code> on the server, on the same volume as the data: copy archives elsewhere (Download)</dd></div>
      </dl>
      <p className="muted small">Set by <code>VAULT_BACKUP_SCHEDULE</code>, <code>VAULT_BACKUP_KEEP</code> and <code>VAULT_BACKUP_MAX_AGE_HOURS</code> (docs/configuration.md).</p>
    </section>
  )
}

function Restore() {
  return (
    <section aria-labelledby="backup-restore" className="panel stack">
      <h2 id="backup-restore" className="h3">Restoring a backup</h2>
      <p>Restore runs on the server with PrintStash stopped, never from this page:</p>
      <ol>
        <li>Verify the archive here (or <code>printstash backup verify FILE</code>).</li>
        <li>Stop the api and worker: <code>docker compose stop api worker</code> (or stop <code>make run</code>).</li>
        <li>Restore: <code>docker compose run --rm api uv run printstash backup restore FILE</code> (from a checkout: <code>cd backend && uv run printstash backup restore FILE</code>). The data it replaces is kept aside; the command says where.</li>
        <li>Start again: <code>docker compose up -d</code> (or <code>make run</code>).</li>
      </ol>
      <p className="muted small">FILE is a name from the list above or a path. The whole procedure is in docs/backup-restore.md.</p>
    </section>
  )
}

function Row({ item }: { item: BackupRead }) {
  const client = useQueryClient()
  const verify = useMutation({ mutationFn: () => backupsApi.verify(item.name) })
  const remove = useMutation({
    mutationFn: () => backupsApi.remove(item.name),
    onSuccess: () => client.invalidateQueries({ queryKey: backupKeys.list }),
  })
  return (
    <tr>
      <td className="break">{item.name}</td>
      <td data-label="Kind">{humanize(item.kind)}</td>
      <td data-label="Created">{formatDate(item.created_at)}</td>
      <td data-label="Size">{formatBytes(item.size)}</td>
      <td data-label="Check" aria-live="polite">
        {verify.isPending ? 'Verifying…' : null}
        {verify.data ? <span className="ok-text">Intact: {verify.data.members} members, {formatBytes(verify.data.bytes)}</span> : null}
        <ErrorMessage error={verify.error} title="Not intact" />
        <ErrorMessage error={remove.error} title="Not deleted" />
      </td>
      <td className="actions">
        <button type="button" aria-label={`Verify ${item.name}`} disabled={verify.isPending} onClick={() => verify.mutate()}>Verify</button>
        <a className="button" href={apiHref('/api/v1/backups/{name}/download', { name: item.name })} download aria-label={`Download ${item.name}`}>Download</a>
        <button type="button" className="danger" aria-label={`Delete ${item.name}`} disabled={remove.isPending}
          onClick={() => { if (window.confirm(`Delete the backup ${item.name}? It cannot be brought back.`)) remove.mutate() }}>Delete</button>
      </td>
    </tr>
  )
}

export function BackupsPage() {
  const client = useQueryClient()
  const backups = useQuery({ queryKey: backupKeys.list, queryFn: backupsApi.list })
  const health = useQuery({ queryKey: healthKey, queryFn: getHealth })
  // a vault whose files live in a bucket: its backups list the objects unless asked to copy them
  const bucket = health.data?.components?.storage?.bucket
  const [withObjects, setWithObjects] = useState(false)
  const create = useMutation({
    mutationFn: backupsApi.create,
    onSettled: async () => {
      await client.invalidateQueries({ queryKey: backupKeys.list })
      await client.invalidateQueries({ queryKey: healthKey })
    },
  })
  return (
    <div className="stack">
      <div className="page-head">
        <h1>Backups</h1>
        <button type="button" className="primary" onClick={() => create.mutate(withObjects)} disabled={create.isPending}>
          {create.isPending ? 'Backing up…' : 'Back up now'}
        </button>
      </div>
      <LastBackup health={health.data} />
      <p className="muted small">A backup holds the database, every file and thumbnail, and a manifest of hashes.</p>
      {typeof bucket === 'string' ? (
        <>
          <p className="muted small">Files live in bucket <code>{bucket}</code>: a backup lists them with their hashes and restores only while the bucket keeps them, unless it copies them into the archive too.</p>
          <label className="checkbox">
            <input type="checkbox" checked={withObjects} onChange={(e) => setWithObjects(e.target.checked)} /> Copy the bucket's files into the archive
          </label>
        </>
      ) : null}
      <ErrorMessage error={create.error} title="Backup failed" />
      {create.isSuccess ? <Notice>Backup {create.data?.name} created.</Notice> : null}
      <ErrorMessage error={backups.error} title="Could not list backups" />
      {backups.isPending ? <Loading what="Loading backups" /> : null}
      {backups.data?.length === 0 ? <p className="empty">No backups yet.</p> : null}
      {backups.data?.length ? (
        <div className="table-wrap">
          <table className="responsive">
            <caption className="sr-only">Backups</caption>
            <thead><tr><th scope="col">Backup</th><th scope="col">Kind</th><th scope="col">Created</th><th scope="col">Size</th><th scope="col">Check</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
            <tbody>{backups.data.map((item) => <Row key={item.name} item={item} />)}</tbody>
          </table>
        </div>
      ) : null}
      <Policy />
      <Restore />
    </div>
  )
}
