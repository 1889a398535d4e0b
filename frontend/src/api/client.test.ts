import { describe, expect, it } from 'vitest'
import { ApiError, apiUrl, errorFromBody, query } from './client'

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

describe('query', () => {
  it('skips empty values', () => {
    expect(query({ q: 'benchy', slicer: '', limit: 24, offset: 0, tag: undefined })).toBe('?q=benchy&limit=24&offset=0')
    expect(query({})).toBe('')
  })
})

describe('apiUrl', () => {
  it('prefixes relative api paths, including ones that start with "api"', () => {
    expect(apiUrl('/files')).toBe('/api/v1/files')
    expect(apiUrl('/api-keys')).toBe('/api/v1/api-keys')
    expect(apiUrl('/api/v1/health')).toBe('/api/v1/health')
  })
})
