// The health report, read by the System page and the Backups page (last backup).
import { api, networkError, errorFromBody } from './client'
import type { Health } from './types'

export const healthKey = ['health'] as const

/** A 503 still carries the full report (overall "error"): show it rather than fail. */
export async function getHealth(): Promise<Health> {
  const answer = await api.GET('/api/v1/health').catch(() => { throw networkError() })
  const report = answer.data ?? answer.error
  if (report && typeof report === 'object' && 'components' in report) return report
  throw errorFromBody(answer.response.status, answer.error)
}
