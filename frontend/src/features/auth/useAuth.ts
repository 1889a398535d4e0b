import { useQuery } from '@tanstack/react-query'
import { ApiError } from '../../api/client'
import type { User } from '../../api/types'
import { authApi } from './api'

export const authKeys = { status: ['auth', 'status'] as const, me: ['auth', 'me'] as const }

export function useAuthStatus() {
  return useQuery({ queryKey: authKeys.status, queryFn: authApi.status, staleTime: 60_000 })
}

/** The signed-in user; null when not signed in (401), an error for anything else. */
export function useMe() {
  return useQuery<User | null>({
    queryKey: authKeys.me,
    queryFn: async () => {
      try {
        return await authApi.me()
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return null
        throw error
      }
    },
    staleTime: 60_000,
  })
}

export function useIsAdmin(): boolean {
  const me = useMe()
  return me.data?.role === 'admin'
}
