// A preview opened by address (a link, a reload, a bookmark) starts its first requests as the
// app's bundle runs, all at once: the layer index, layer 0 (always the first layer drawn, so it
// need not wait for the index) and the three.js view's chunk. Without this they waited in a
// row behind the route's chunk, the sign-in check and the index (bench/preview/bench_preview.py
// prints that breakdown). The answers are handed to the page once; one that failed (signed out:
// 401) is asked again the ordinary way when the page needs it.
import type { LayersRead } from '../../api/types'
import { mark } from '../../lib/marks'
import { previewApi } from './api'

const ADDRESS = /^\/files\/(\d+)\/preview\/?$/

type Early = { id: number; plate: number; index?: Promise<LayersRead | null>; layer0?: Promise<ArrayBuffer | null> }

let early: Early | null = null

function settled<T>(answer: Promise<T>): Promise<T | null> {
  return answer.catch(() => null)
}

/** Start the preview's requests if the page was opened on a file's preview address. */
export function startEarly(location: Pick<Location, 'pathname' | 'search'>): void {
  const id = Number(ADDRESS.exec(location.pathname)?.[1])
  const plate = Number(new URLSearchParams(location.search).get('plate') ?? '1')
  if (!Number.isSafeInteger(id) || !Number.isInteger(plate) || plate < 1) return
  // Layer 0 first, then the index, then the view's chunk: each request is made before the one
  // that could keep it waiting for a connection.
  const layer0 = settled(previewApi.layer(id, plate, 0, new AbortController().signal).then((layer) => { mark('layer0'); return layer }))
  const index = settled(previewApi.index(id, plate).then((answer) => { mark('index'); return answer }))
  void import('./Toolpaths') // the same chunk the page loads: the browser fetches it once
  early = { id, plate, index, layer0 }
}

/** The plate's layer index: the early answer once if there is one, else a request. */
export async function layerIndex(id: number, plate: number): Promise<LayersRead> {
  const answer = early?.id === id && early.plate === plate ? early.index : undefined
  if (early && answer) early.index = undefined
  const index = (await answer) ?? await previewApi.index(id, plate)
  mark('index')
  return index
}

/** One layer's segments: layer 0's early answer once if there is one, else a request. */
export async function layerSegments(id: number, plate: number, layer: number, signal: AbortSignal): Promise<ArrayBuffer> {
  const answer = layer === 0 && early?.id === id && early.plate === plate ? early.layer0 : undefined
  if (early && answer) early.layer0 = undefined
  const segments = (await answer) ?? await previewApi.layer(id, plate, layer, signal)
  if (layer === 0) mark('layer0')
  return segments
}
