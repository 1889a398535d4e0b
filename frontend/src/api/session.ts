// Who is signed in, shared by the layout, the route guard and every page that shows admin-only
// controls. Signing in and out lives here too, next to the cache entry it changes.
import { queryOptions, useQuery, type QueryClient } from '@tanstack/react-query'
import { api, ApiError, unwrap } from './client'
import type { User } from './types'
import { mark } from '../lib/marks'

export const authKeys = { all: ['auth'] as const, status: ['auth', 'status'] as const, me: ['auth', 'me'] as const }

export const sessionApi = {
  status: () => unwrap(api.GET('/api/v1/auth/status')),
  me: () => unwrap(api.GET('/api/v1/auth/me')),
  setup: (body: { setup_token: string; username: string; password: string }) => unwrap(api.POST('/api/v1/auth/setup', { body })),
  login: (body: { username: string; password: string; remember: boolean }) => unwrap(api.POST('/api/v1/auth/login', { body })),
  logout: () => unwrap(api.POST('/api/v1/auth/logout')),
}

const statusQuery = queryOptions({ queryKey: authKeys.status, queryFn: sessionApi.status, staleTime: 60_000 })

/** The signed-in user; null when not signed in (401), an error for anything else. */
const meQuery = queryOptions({
  queryKey: authKeys.me,
  queryFn: async (): Promise<User | null> => {
    try {
      return await sessionApi.me()
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return null
      throw error
    } finally {
      mark('session')
    }
  },
  staleTime: 60_000,
})

/** Ask who is signed in as the app starts: the route guard needs it on every page, and the
 * router renders nothing until a lazily loaded page's code (the preview's) has arrived. */
export function prefetchSession(client: QueryClient): void {
  void client.prefetchQuery(statusQuery)
  void client.prefetchQuery(meQuery)
}

export function useAuthStatus() {
  return useQuery(statusQuery)
}

export function useMe() {
  return useQuery(meQuery)
}

export function useIsAdmin(): boolean {
  const me = useMe()
  return me.data?.role === 'admin'
}
