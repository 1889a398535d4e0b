import { describe, expect, it } from 'vitest'
import { featureColour, vertexColours } from './palette'

describe('featureColour', () => {
  it('gives the same kind of feature the same colour whatever the slicer calls it', () => {
    expect(featureColour('External perimeter')).toEqual(featureColour('WALL-OUTER'))
    expect(featureColour('Outer wall')).toEqual(featureColour('WALL-OUTER'))
    expect(featureColour('Perimeter')).toEqual(featureColour('WALL-INNER'))
    expect(featureColour('Support material interface')).not.toEqual(featureColour('Support material'))
    expect(featureColour('Top solid infill')).not.toEqual(featureColour('Solid infill'))
  })

  it('gives an unknown name a stable colour of its own', () => {
    expect(featureColour('Zebra stripes')).toEqual(featureColour('Zebra stripes'))
    expect(featureColour('Zebra stripes')).not.toEqual(featureColour('Unknown'))
  })
})

describe('vertexColours', () => {
  it('colours both ends of each segment by its feature code', () => {
    const colours = vertexColours(new Uint8Array([1, 0]), [[1, 2, 3], [4, 5, 6]])
    expect([...colours]).toEqual([4, 5, 6, 4, 5, 6, 1, 2, 3, 1, 2, 3])
  })

  it('falls back to code 0 for a code outside the legend', () => {
    expect([...vertexColours(new Uint8Array([9]), [[7, 7, 7]])]).toEqual([7, 7, 7, 7, 7, 7])
  })
})
