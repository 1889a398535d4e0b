import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { api, apiHref, unwrap } from '../../api/client'
import { getHealth, healthKey } from '../../api/health'
import type { Health } from '../../api/types'
import { Badge, ErrorMessage, Loading, Notice } from '../../components/Status'
import { formatAge, formatBytes, formatDate } from '../../lib/format'

const backupKeys = { list: ['backups'] as const }
const backupsApi = {
  list: async () => (await unwrap(api.GET('/api/v1/backups'))).items,
  create: (withObjects: boolean) =>
    unwrap(api.POST('/api/v1/backups', { params: { query: { with_objects: withObjects } } })),
}

function LastBackup({ health }: { health: Health | undefined }) {
  const backup = health?.components?.backup
  if (!backup) return null
  const last = (backup.last_success_at ?? backup.last_backup_at ?? backup.last_at) as string | undefined
  return (
    <p>
      Last backup: <Badge status={backup.status} /> {last ? `${formatDate(last)} (${formatAge(last)})` : 'none yet'}
      {typeof backup.last_error === 'string' && backup.last_error ? <span className="error-text"> — last error: {backup.last_error}</span> : null}
    </p>
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
      <p className="muted small">A backup holds the database, every file and thumbnail, and a manifest of hashes. Restore with <code>printstash backup restore FILE</code> while PrintStash is stopped (see docs/backup-restore.md).</p>
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
            <thead><tr><th scope="col">Backup</th><th scope="col">Created</th><th scope="col">Size</th><th scope="col"><span className="sr-only">Download</span></th></tr></thead>
            <tbody>
              {backups.data.map((backup) => (
                <tr key={backup.name}>
                  <td className="break">{backup.name}</td>
                  <td data-label="Created">{formatDate(backup.created_at)}</td>
                  <td data-label="Size">{formatBytes(backup.size)}</td>
                  <td><a href={apiHref('/api/v1/backups/{name}/download', { name: backup.name })} download>Download</a></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  )
}
