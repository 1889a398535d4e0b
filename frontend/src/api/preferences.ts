// Library-wide display preferences an admin sets for everyone (the file page reads them,
// the System page writes them).
import { api, unwrap } from './client'

export const preferencesKey = ['library', 'preferences'] as const

export const preferencesApi = {
  get: () => unwrap(api.GET('/api/v1/library/preferences')),
  set: (body: { currency: string | null }) => unwrap(api.PUT('/api/v1/library/preferences', { body })),
}
