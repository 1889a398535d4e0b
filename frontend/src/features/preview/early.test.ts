import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

const index = { plate: 2, count: 2, features: ['Unknown'], layers: [{ index: 0, z: 0.2 }, { index: 1, z: 0.4 }] }

/** The api as the browser sees it: every request logged; the index answers `status`. */
function serve(status = 200) {
  const asked: string[] = []
  vi.stubGlobal('fetch', vi.fn(async (request: Request) => {
    const url = new URL(request.url)
    asked.push(url.pathname + url.search)
    if (url.pathname.endsWith('/layers')) {
      return new Response(JSON.stringify(status === 200 ? index : { detail: 'Please sign in.', code: 'not_authenticated' }),
        { status, headers: { 'Content-Type': 'application/json' } })
    }
    return new Response(new Uint8Array(28 * Number(url.pathname.split('/').pop())), { status: 200 }) // layer n: n segments
  }))
  return asked
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0))

// The module keeps what it started: a fresh copy for each test.
const early = () => import('./early')

beforeEach(() => vi.resetModules())
afterEach(() => vi.unstubAllGlobals())

describe('the preview opened by address', () => {
  it('asks for the index and layer 0 at once, and hands each answer over once', async () => {
    const asked = serve()
    const { startEarly, layerIndex, layerSegments } = await early()
    startEarly({ pathname: '/files/7/preview', search: '?plate=2' })
    await settle() // before the page asks for anything
    expect(new Set(asked)).toEqual(new Set(['/api/v1/files/7/layers?plate=2', '/api/v1/files/7/layers/0?plate=2']))
    expect(await layerIndex(7, 2)).toEqual(index)
    expect((await layerSegments(7, 2, 0, new AbortController().signal)).byteLength).toBe(0)
    expect(asked).toHaveLength(2) // both answers came from the early requests
    await layerIndex(7, 2)
    await layerSegments(7, 2, 0, new AbortController().signal)
    expect((await layerSegments(7, 2, 3, new AbortController().signal)).byteLength).toBe(3 * 28)
    expect(asked.slice(2)).toEqual(['/api/v1/files/7/layers?plate=2', '/api/v1/files/7/layers/0?plate=2', '/api/v1/files/7/layers/3?plate=2'])
  })

  it('asks again when the early answer failed (signed out then)', async () => {
    const asked = serve(401)
    const { startEarly, layerIndex } = await early()
    startEarly({ pathname: '/files/7/preview', search: '?plate=2' })
    await expect(layerIndex(7, 2)).rejects.toMatchObject({ status: 401 })
    expect(asked.filter((url) => url.endsWith('/layers?plate=2'))).toHaveLength(2)
  })

  it('gives nothing of another file or plate', async () => {
    const asked = serve()
    const { startEarly, layerIndex } = await early()
    startEarly({ pathname: '/files/7/preview', search: '' })
    await layerIndex(8, 1)
    await layerIndex(7, 2)
    expect(asked.slice(2)).toEqual(['/api/v1/files/8/layers?plate=1', '/api/v1/files/7/layers?plate=2'])
  })

  it('starts nothing on other pages or a bad address', async () => {
    const asked = serve()
    const { startEarly } = await early()
    for (const [pathname, search] of [['/files/7', ''], ['/files/x/preview', ''], ['/files/7/preview', '?plate=0'], ['/printers/7/preview', '']]) {
      startEarly({ pathname, search })
    }
    await settle()
    expect(asked).toEqual([])
  })
})
