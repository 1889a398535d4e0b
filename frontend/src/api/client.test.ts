import { afterEach, describe, expect, it, vi } from 'vitest'
import { api, ApiError, apiHref, errorFromBody, unwrap } from './client'

afterEach(() => vi.unstubAllGlobals())

describe('errorFromBody', () => {
  it('keeps the api detail and code', () => {
    const error = errorFromBody(415, { detail: 'not G-code: no G-code commands found', code: 'unsupported_media' })
    expect(error).toBeInstanceOf(ApiError)
    expect(error.message).toBe('not G-code: no G-code commands found')
    expect(error.code).toBe('unsupported_media')
    expect(error.status).toBe(415)
  })
  it('turns FastAPI validation lists into words', () => {
    const error = errorFromBody(422, { detail: [{ loc: ['body', 'password'], msg: 'too short' }, { loc: ['query', 'limit'], msg: 'must be positive' }] })
    expect(error.message).toBe('password: too short; limit: must be positive')
  })
  it('explains bodiless failures by status', () => {
    expect(errorFromBody(413, null).message).toMatch(/larger than the server accepts/)
    expect(errorFromBody(502, '<html>bad gateway</html>').message).toMatch(/api is not answering .*HTTP 502/)
    expect(errorFromBody(500, null).message).toBe('The server failed (HTTP 500).')
  })
})

describe('unwrap', () => {
  const answer = (status: number, body: string) => vi.fn(async (_request: Request) => new Response(body, { status, headers: { 'Content-Type': 'application/json' } }))

  it('sends the typed path with its parameters and returns the data', async () => {
    const fetch = answer(200, JSON.stringify({ items: [], total: 0 }))
    vi.stubGlobal('fetch', fetch)
    expect(await unwrap(api.GET('/api/v1/files', { params: { query: { q: 'benchy', slicer: ['Cura'], limit: 24 } } }))).toEqual({ items: [], total: 0 })
    const url = new URL(fetch.mock.calls[0][0].url)
    expect(url.pathname).toBe('/api/v1/files')
    expect(url.search).toBe('?q=benchy&slicer=Cura&limit=24')
  })
  it('throws the api error in words', async () => {
    vi.stubGlobal('fetch', answer(404, JSON.stringify({ detail: 'no file 9', code: 'not_found' })))
    await expect(unwrap(api.GET('/api/v1/files/{file_id}', { params: { path: { file_id: 9 } } }))).rejects.toMatchObject({ status: 404, code: 'not_found', message: 'no file 9' })
  })
  it('says so when the web server answers 502 with a page', async () => {
    vi.stubGlobal('fetch', answer(502, '<html>bad gateway</html>'))
    await expect(unwrap(api.PUT('/api/v1/files/{file_id}/favourite', { params: { path: { file_id: 1 } } }))).rejects.toThrow(/api is not answering/)
  })
  it('turns a network failure into a readable error', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => { throw new TypeError('Failed to fetch') }))
    await expect(unwrap(api.GET('/api/v1/auth/me'))).rejects.toMatchObject({ code: 'network' })
  })
})

describe('apiHref', () => {
  it('fills and escapes path parameters', () => {
    expect(apiHref('/api/v1/backups/{name}/download', { name: 'a b#1.tar' })).toBe('/api/v1/backups/a%20b%231.tar/download')
    expect(apiHref('/api/v1/files/{file_id}/download', { file_id: 7 })).toBe('/api/v1/files/7/download')
  })
})
