import { describe, expect, it } from 'vitest'
import { meanSize, planLayers } from './budget'

const sizes = (known: Record<number, number>) => (index: number) => known[index]

describe('planLayers', () => {
  it('keeps the current layer and those below it until the segment budget is full', () => {
    expect(planLayers(9, sizes({ 9: 100, 8: 100, 7: 100, 6: 100 }), 0, { segments: 250, layers: 50 })).toEqual([9, 8])
  })

  it('keeps the current layer even when it alone is over the budget', () => {
    expect(planLayers(3, sizes({ 3: 10_000, 2: 1 }), 0, { segments: 100, layers: 50 })).toEqual([3])
  })

  it('counts layers not loaded yet at the estimate', () => {
    expect(planLayers(10, sizes({ 10: 50, 8: 50 }), 60, { segments: 200, layers: 50 })).toEqual([10, 9, 8])
  })

  it('stops at the layer cap and at layer 0', () => {
    expect(planLayers(1000, sizes({}), 0, { segments: 1e9, layers: 5 })).toEqual([1000, 999, 998, 997, 996])
    expect(planLayers(2, sizes({}), 0, { segments: 1e9, layers: 50 })).toEqual([2, 1, 0])
  })

  it('holds a bounded number of segments wherever the slider is (49k layers)', () => {
    const size = (index: number) => 200 + (index % 7) * 50
    for (const current of [0, 123, 25_000, 48_999]) {
      const keep = planLayers(current, size, 0, { segments: 500_000, layers: 400 })
      const held = keep.reduce((total, index) => total + size(index), 0)
      expect(held).toBeLessThanOrEqual(500_000)
      expect(keep[0]).toBe(current)
      expect(keep.length).toBeLessThanOrEqual(400)
    }
  })
})

describe('meanSize', () => {
  it('is 0 before any layer is known and the rounded-up mean after', () => {
    expect(meanSize([])).toBe(0)
    expect(meanSize([1, 2])).toBe(2)
  })
})
