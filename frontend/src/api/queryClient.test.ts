import { describe, expect, it } from 'vitest'
import { ApiError } from './client'
import { makeQueryClient } from './queryClient'

describe('makeQueryClient', () => {
  it('forgets the signed-in user when any request answers 401', async () => {
    const client = makeQueryClient()
    client.setQueryData(['auth', 'me'], { id: 1, username: 'admin' })
    await client.fetchQuery({ queryKey: ['files'], queryFn: () => Promise.reject(new ApiError(401, 'session_expired', 'sign in again')) }).catch(() => {})
    expect(client.getQueryData(['auth', 'me'])).toBeNull()
  })
  it('keeps the user on other errors', async () => {
    const client = makeQueryClient()
    client.setQueryData(['auth', 'me'], { id: 1, username: 'admin' })
    await client.fetchQuery({ queryKey: ['files'], queryFn: () => Promise.reject(new ApiError(403, 'admin_required', 'admin only')) }).catch(() => {})
    expect(client.getQueryData(['auth', 'me'])).toEqual({ id: 1, username: 'admin' })
  })
})
