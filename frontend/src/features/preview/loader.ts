// Keeps the layers the preview shows, and only those: the plan (budget.ts) says which; layers
// that fall out of it are dropped, fetches for them are aborted, and at most a few requests run
// at once, nearest the current layer first. Each layer is immutable per file content, so the
// browser's HTTP cache answers a layer seen before without asking the server again.
import { DEFAULT_BUDGET, meanSize, planLayers, type Budget } from './budget'
import { decodeLayer, type LayerSegments } from './records'

export type FetchLayer = (index: number, signal: AbortSignal) => Promise<ArrayBuffer>

const PARALLEL = 6

export class LayerLoader {
  readonly layers = new Map<number, LayerSegments>()
  error: unknown = null
  private readonly sizes = new Map<number, number>()
  private readonly failed = new Set<number>() // not asked again: a retry loop helps nobody
  private readonly running = new Map<number, AbortController>()
  private queue: number[] = []
  private keep = new Set<number>()
  private current = 0
  private closed = false

  private readonly fetchLayer: FetchLayer
  private readonly changed: () => void
  private readonly budget: Budget

  constructor(fetchLayer: FetchLayer, changed: () => void, budget: Budget = DEFAULT_BUDGET) {
    this.fetchLayer = fetchLayer
    this.changed = changed
    this.budget = budget
  }

  /** Layers still to come (queued or on the way). */
  get pending(): number {
    return this.queue.length + this.running.size
  }

  /** Show `current` (and what fits below it): drop the rest, fetch what is missing. */
  show(current: number): void {
    this.current = current
    const sizeOf = (index: number) => this.sizes.get(index) ?? (this.failed.has(index) ? 0 : undefined)
    const plan = planLayers(current, sizeOf, meanSize(this.sizes.values()), this.budget)
    this.keep = new Set(plan)
    for (const [index, request] of this.running) if (!this.keep.has(index)) request.abort()
    const dropped = [...this.layers.keys()].filter((index) => !this.keep.has(index))
    for (const index of dropped) this.layers.delete(index)
    this.queue = plan.filter((index) => !this.layers.has(index) && !this.running.has(index) && !this.failed.has(index))
    this.pump()
    this.changed()
  }

  close(): void {
    this.closed = true
    for (const request of this.running.values()) request.abort()
    this.layers.clear()
  }

  private pump(): void {
    while (!this.closed && this.running.size < PARALLEL && this.queue.length) void this.load(this.queue.shift()!)
  }

  private async load(index: number): Promise<void> {
    const request = new AbortController()
    this.running.set(index, request)
    try {
      const layer = decodeLayer(await this.fetchLayer(index, request.signal))
      this.sizes.set(index, layer.segments)
      if (!request.signal.aborted && this.keep.has(index)) this.layers.set(index, layer)
    } catch (error) {
      if (!request.signal.aborted) {
        this.error = error
        this.failed.add(index)
      }
    } finally {
      this.running.delete(index)
    }
    // Sizes are better known now (the plan may hold fewer or more layers) and a slot is free;
    // an aborted layer the slider came back to is asked for again.
    if (!this.closed) this.show(this.current)
  }
}
