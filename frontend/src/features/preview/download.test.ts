import { describe, expect, it } from 'vitest'
import { percent, readAll } from './download'

function streamOf(...chunks: number[][]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new Uint8Array(chunk))
      controller.close()
    },
  })
}

describe('readAll', () => {
  it('joins the chunks and tells the bytes received after each', async () => {
    const seen: number[] = []
    const data = await readAll(streamOf([1, 2], [3], [4, 5, 6]), 6, (received) => seen.push(received))
    expect([...new Uint8Array(data)]).toEqual([1, 2, 3, 4, 5, 6])
    expect(seen).toEqual([2, 3, 6])
  })

  it('takes more or fewer bytes than the file was said to have', async () => {
    expect([...new Uint8Array(await readAll(streamOf([1, 2, 3], [4, 5]), 2, () => {}))]).toEqual([1, 2, 3, 4, 5])
    expect(new Uint8Array(await readAll(streamOf([7]), 10, () => {})).length).toBe(1)
    expect((await readAll(null, 10, () => {})).byteLength).toBe(0)
  })
})

describe('percent', () => {
  it('is whole, at most 100, and 0 for an empty file', () => {
    expect([percent(0, 200), percent(199, 200), percent(200, 200), percent(300, 200), percent(5, 0)]).toEqual([0, 99, 100, 100, 0])
  })
})
