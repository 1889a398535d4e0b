import { describe, expect, it } from 'vitest'
import { LayerLoader } from './loader'

/** A layer of `segments` travel records (28 zero bytes each), answered when the test says. */
function server() {
  const asked: { index: number; signal: AbortSignal; answer: (segments: number) => void }[] = []
  const fetchLayer = (index: number, signal: AbortSignal) =>
    new Promise<ArrayBuffer>((resolve, reject) => {
      signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))) // as fetch does
      asked.push({ index, signal, answer: (segments) => resolve(new ArrayBuffer(segments * 28)) })
    })
  return { asked, fetchLayer }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('LayerLoader', () => {
  it('asks for the current layer first and at most six at once', () => {
    const { asked, fetchLayer } = server()
    new LayerLoader(fetchLayer, () => {}, { segments: 1000, layers: 20 }).show(30)
    expect(asked.map((a) => a.index)).toEqual([30, 29, 28, 27, 26, 25])
  })

  it('aborts the requests of layers the slider left, and keeps what still fits', async () => {
    const { asked, fetchLayer } = server()
    const loader = new LayerLoader(fetchLayer, () => {}, { segments: 1000, layers: 3 })
    loader.show(10)
    asked[0].answer(5) // layer 10 arrives
    await settle()
    loader.show(2)
    expect(asked.filter((a) => a.signal.aborted).map((a) => a.index)).toEqual([9, 8])
    expect([...loader.layers.keys()]).toEqual([]) // 10 is no longer drawn: dropped
    expect(asked.slice(-3).map((a) => a.index)).toEqual([2, 1, 0])
  })

  it('asks again for a layer whose request was aborted when the slider comes back to it', async () => {
    const { asked, fetchLayer } = server()
    const loader = new LayerLoader(fetchLayer, () => {}, { segments: 1000, layers: 1 })
    loader.show(10)
    loader.show(5) // aborts 10
    loader.show(10) // back before the aborted request has settled
    await settle()
    expect(asked.map((a) => a.index)).toEqual([10, 5, 10])
    asked[2].answer(3)
    await settle()
    expect([...loader.layers.keys()]).toEqual([10])
  })

  it('holds no more layers than the segment budget allows once sizes are known', async () => {
    const { asked, fetchLayer } = server()
    const loader = new LayerLoader(fetchLayer, () => {}, { segments: 250, layers: 100 })
    loader.show(50)
    for (let round = 0; round < 10; round++) {
      for (const request of asked.filter((a) => !a.signal.aborted)) request.answer(100)
      await settle()
    }
    expect([...loader.layers.keys()].sort((a, b) => b - a)).toEqual([50, 49])
  })

  it('reports a failed layer and stops asking after close', async () => {
    const failing = (index: number) => Promise.reject(new Error(`layer ${index} failed`))
    let changes = 0
    const loader = new LayerLoader(failing, () => { changes++ }, { segments: 10, layers: 1 })
    loader.show(0)
    await settle()
    expect(String(loader.error)).toContain('layer 0 failed')
    expect(changes).toBeGreaterThan(0)
    loader.close()
    expect(loader.layers.size).toBe(0)
  })
})
