import { describe, expect, it } from 'vitest'
import { describeCron, detailRows } from './details'

describe('detailRows', () => {
  it('names backup fields in words', () => {
    const rows = detailRows({ status: 'degraded', reason: 'no_backup_yet', last_success_at: null, max_age_hours: 36, schedule: '0 3 * * *' })
    expect(rows.map((row) => [row.label, row.value])).toEqual([
      ['State', 'No backup has been made yet: make one on the Backups page, or check the schedule'],
      ['Last backup', 'never'],
      ['Warn when older than', '1d 12h'],
      ['Schedule', 'daily at 03:00'],
    ])
  })
  it('says a new vault waits for its first scheduled backup', () => {
    expect(detailRows({ status: 'ok', reason: 'first_backup_pending' })[0]?.value).toBe('No backup yet: the schedule makes the first one')
  })
  it('folds revision and head into one schema line', () => {
    expect(detailRows({ status: 'ok', latency_ms: 0.31, revision: '0007', head: '0007' })).toEqual([
      { key: 'latency_ms', label: 'Response time', value: '0.3 ms' },
      { key: 'schema', label: 'Schema', value: 'up to date (0007)' },
    ])
    expect(detailRows({ status: 'error', revision: '0006', head: '0007' }).at(-1)?.value).toBe('at 0006, newest is 0007')
  })
})

describe('describeCron', () => {
  it('reads a daily schedule and leaves the rest as written', () => {
    expect(describeCron('30 4 * * *')).toBe('daily at 04:30')
    expect(describeCron('0 */6 * * *')).toBe('0 */6 * * *')
  })
})
