// Health details in words: a label and a readable value per known field, the rest by the shape
// of its key. Revision and head become one "Schema" line; a cron schedule reads as a time.
import type { HealthComponent } from '../../api/types'
import { formatAge, formatBytes, formatDate, formatDuration, humanize } from '../../lib/format'

type Row = { key: string; label: string; value: string }
const hours = (value: unknown) => (typeof value === 'number' ? formatDuration(value * 3600) : String(value))
const when = (value: unknown) => (typeof value === 'string' ? `${formatDate(value)} (${formatAge(value)})` : 'never')

const REASONS: Record<string, string> = {
  no_backup_yet: 'No backup has been made yet: make one on the Backups page, or check the schedule',
  first_backup_pending: 'No backup yet: the schedule makes the first one',
  too_old: 'The last backup is older than allowed',
  last_backup_failed: 'The last backup failed',
  failed: 'Backups fail',
  low_free_space: 'Little free space left',
  not_writable: 'The data folder cannot be written',
  unreachable: 'The database does not answer',
  schema_mismatch: 'The database needs an upgrade (printstash migrate)',
  database_unavailable: 'Unknown while the database is unavailable',
}

const LABELS: Record<string, [string, (value: unknown) => string]> = {
  reason: ['State', (v) => REASONS[String(v)] ?? humanize(v)],
  latency_ms: ['Response time', (v) => (typeof v === 'number' ? `${v.toFixed(1)} ms` : String(v))],
  free_bytes: ['Free space', formatBytes],
  total_bytes: ['Disk size', formatBytes],
  free_percent: ['Free', (v) => (typeof v === 'number' ? `${v.toFixed(1)}%` : String(v))],
  data_dir: ['Data folder', String],
  last_success_at: ['Last backup', when],
  last_name: ['Backup file', String],
  age_hours: ['Age', hours],
  max_age_hours: ['Warn when older than', hours],
  schedule: ['Schedule', (v) => describeCron(String(v))],
  last_error: ['Last error', String],
  last_error_at: ['Failed at', when],
  printers: ['Printers', String],
  heartbeat_age_s: ['Worker last seen', (v) => (typeof v === 'number' ? `${formatDuration(v)} ago` : String(v))],
  detail: ['Note', String],
  error: ['Error', String],
}

/** "0 3 * * *" -> "daily at 03:00"; other schedules as written. */
export function describeCron(cron: string): string {
  const [minute, hour, day, month, weekday] = cron.trim().split(/\s+/)
  const time = /^\d+$/.test(minute ?? '') && /^\d+$/.test(hour ?? '') ? `${hour.padStart(2, '0')}:${minute.padStart(2, '0')}` : null
  if (time && day === '*' && month === '*' && weekday === '*') return `daily at ${time}`
  return cron
}

function other(key: string, value: unknown): string {
  if (value === null || value === undefined || value === '') return '—'
  if (typeof value === 'boolean') return value ? 'yes' : 'no'
  if (typeof value === 'number') {
    if (key.endsWith('_bytes')) return formatBytes(value)
    if (key.endsWith('_s') || key.endsWith('_seconds')) return formatDuration(value)
  }
  if (typeof value === 'string' && key.endsWith('_at')) return when(value)
  if (typeof value === 'object') return summarise(value as Record<string, unknown>)
  return String(value)
}

function summarise(value: Record<string, unknown> | unknown[]): string {
  if (Array.isArray(value)) return value.map(String).join(', ') || 'none'
  const entries = Object.entries(value)
  if (!entries.length) return 'none'
  return entries.map(([k, v]) => `${humanize(k)}: ${typeof v === 'object' && v !== null ? summarise(v as Record<string, unknown>) : String(v)}`).join('; ')
}

export function detailRows(component: HealthComponent): Row[] {
  const rows: Row[] = []
  const { status: _status, revision, head, ...rest } = component
  for (const [key, value] of Object.entries(rest)) {
    if (key === 'reason' && (value === null || value === undefined)) continue  // an ok component may still say why
    const known = LABELS[key]
    rows.push({ key, label: known?.[0] ?? humanize(key.replace(/_(bytes|ms|s|seconds)$/, '')), value: known ? known[1](value) : other(key, value) })
  }
  if (revision !== undefined || head !== undefined) {
    const value = revision === head ? `up to date (${String(revision)})` : `at ${String(revision)}, newest is ${String(head)}`
    rows.splice(1, 0, { key: 'schema', label: 'Schema', value })
  }
  return rows
}
