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
  it.each([
    [403, 'admin_required'],
    [401, 'invalid_credentials'], // a mistyped current password in a form
  ])('keeps the user on %s %s', async (status, code) => {
    const client = makeQueryClient()
    client.setQueryData(['auth', 'me'], { id: 1, username: 'admin' })
    await client.fetchQuery({ queryKey: ['files'], queryFn: () => Promise.reject(new ApiError(status, code, 'no')) }).catch(() => {})
    expect(client.getQueryData(['auth', 'me'])).toEqual({ id: 1, username: 'admin' })
  })
})
