import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query'
import { ApiError } from './client'

const ME = ['auth', 'me']

export function makeQueryClient(): QueryClient {
  // A 401 anywhere means the session ended (expired, signed out elsewhere, revoked):
  // forget the user, and RequireAuth sends the person to the sign-in page.
  const onError = (error: unknown) => {
    if (error instanceof ApiError && error.status === 401) client.setQueryData(ME, null)
  }
  const client: QueryClient = new QueryClient({
    queryCache: new QueryCache({ onError }),
    mutationCache: new MutationCache({ onError }),
    defaultOptions: {
      queries: {
        // 4xx answers will not change by asking again; network blips and 5xx might.
        retry: (count, error) => count < 2 && !(error instanceof ApiError && error.status >= 400 && error.status < 500),
        refetchOnWindowFocus: false,
      },
    },
  })
  return client
}
