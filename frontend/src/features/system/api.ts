import { API, errorFromBody } from '../../api/client'
import type { Health } from '../../api/types'

export const healthKey = ['health'] as const

export const healthApi = {
  // 503 still carries the full report (overall "error"): show it rather than fail.
  health: async (): Promise<Health> => {
    const response = await fetch(`${API}/health`, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
    const body = (await response.json().catch(() => null)) as Health | null
    if (body && typeof body === 'object' && 'components' in body) return body
    throw errorFromBody(response.status, body)
  },
}
