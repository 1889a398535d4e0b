// Which layers the preview holds: the current one and the layers right below it, until their
// segments fill a fixed budget. That bound, not the file's size, sets the memory a preview uses
// (a 500 MB file has ~49k layers; all of them would be gigabytes in the browser).

export type Budget = {
  /** segments held at most (current layer included) */
  segments: number
  /** layers held at most: bounds the requests a jump can start */
  layers: number
}

/** About 14 MB of vertex data in the GPU and as much in the JS heap (24 bytes of positions
 * and 6 of colour per segment, kept by three.js for both). */
export const DEFAULT_BUDGET: Budget = { segments: 500_000, layers: 400 }

/**
 * The layers to hold at `current`: walk down from it, counting each layer's segments (`sizeOf`;
 * a layer not loaded yet counts as `estimate`), until the budget is full. The current layer is
 * always held. Returned current first, then downwards: the order to fetch them in.
 */
export function planLayers(current: number, sizeOf: (index: number) => number | undefined, estimate: number, budget: Budget): number[] {
  const keep: number[] = []
  let used = 0
  for (let index = current; index >= 0 && keep.length < budget.layers; index--) {
    const cost = sizeOf(index) ?? estimate
    if (keep.length > 0 && used + cost > budget.segments) break
    keep.push(index)
    used += cost
  }
  return keep
}

/** The mean size of the layers seen so far (0 before any): the guess for the ones not loaded. */
export function meanSize(sizes: Iterable<number>): number {
  let total = 0
  let count = 0
  for (const size of sizes) {
    total += size
    count++
  }
  return count ? Math.ceil(total / count) : 0
}
