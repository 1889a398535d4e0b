import { describe, expect, it } from 'vitest'
import { layerAfterKey } from './keys'

describe('layerAfterKey', () => {
  it.each([
    ['ArrowUp', 5, 6], ['ArrowRight', 5, 6], ['ArrowDown', 5, 4], ['ArrowLeft', 5, 4],
    ['PageUp', 5, 15], ['PageDown', 15, 5], ['Home', 42, 0], ['End', 3, 99],
  ])('%s from layer %i goes to %i', (key, from, to) => {
    expect(layerAfterKey(key, from, 99)).toBe(to)
  })

  it('stays within the first and last layer', () => {
    expect(layerAfterKey('PageDown', 3, 99)).toBe(0)
    expect(layerAfterKey('PageUp', 95, 99)).toBe(99)
    expect(layerAfterKey('ArrowDown', 0, 99)).toBe(0)
  })

  it('ignores other keys', () => {
    expect(layerAfterKey('a', 3, 99)).toBeNull()
    expect(layerAfterKey('Tab', 3, 99)).toBeNull()
  })
})
