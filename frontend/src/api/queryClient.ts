import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query'
import { ApiError } from './client'

const ME = ['auth', 'me']

export function makeQueryClient(): QueryClient {
  // A 401 saying the session is gone (expired, signed out elsewhere, revoked): forget the
  // user, and RequireAuth sends the person to the sign-in page. A wrong password typed into
  // a form (invalid_credentials) is that form's error, not a sign-out.
  const onError = (error: unknown) => {
    if (error instanceof ApiError && error.status === 401 && error.code !== 'invalid_credentials') client.setQueryData(ME, null)
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
