import { describe, expect, it } from 'vitest'
import { decodeLayer, LayerFormatError, RECORD_BYTES } from './records'

type Segment = { from: [number, number, number]; to: [number, number, number]; feature: number; extruding: boolean; tool?: number }

/** Records written field by field as docs/api.md lays them out (little-endian). */
function encode(segments: Segment[]): ArrayBuffer {
  const buffer = new ArrayBuffer(segments.length * 28)
  const view = new DataView(buffer)
  segments.forEach((s, i) => {
    const at = i * 28;
    [...s.from, ...s.to].forEach((value, k) => view.setFloat32(at + k * 4, value, true))
    view.setUint8(at + 24, s.feature)
    view.setUint8(at + 25, s.extruding ? 1 : 0)
    view.setUint16(at + 26, s.tool ?? 0, true)
  })
  return buffer
}

describe('decodeLayer', () => {
  it('splits extrusions (with their feature codes) from travels, in order', () => {
    const layer = decodeLayer(encode([
      { from: [10, 20, 0.2], to: [30.5, 20, 0.2], feature: 2, extruding: true },
      { from: [30.5, 20, 0.2], to: [100, 100, 0.2], feature: 0, extruding: false },
      { from: [100, 100, 0.2], to: [100, 120.25, 0.2], feature: 5, extruding: true, tool: 3 },
    ]))
    expect(layer.segments).toBe(3)
    expect([...layer.extrusions]).toEqual([10, 20, Math.fround(0.2), 30.5, 20, Math.fround(0.2), 100, 100, Math.fround(0.2), 100, 120.25, Math.fround(0.2)])
    expect([...layer.features]).toEqual([2, 5])
    expect([...layer.travels]).toEqual([30.5, 20, Math.fround(0.2), 100, 100, Math.fround(0.2)])
    expect(layer.codes).toEqual([2, 5])
  })

  it('reads only bit 0 of the flags as extruding', () => {
    const buffer = encode([{ from: [0, 0, 0], to: [1, 1, 0], feature: 1, extruding: false }])
    new DataView(buffer).setUint8(25, 0b10) // another flag bit, not extruding
    expect(decodeLayer(buffer).travels.length).toBe(6)
  })

  it('takes an empty layer', () => {
    const layer = decodeLayer(new ArrayBuffer(0))
    expect([layer.segments, layer.extrusions.length, layer.travels.length, layer.codes]).toEqual([0, 0, 0, []])
  })

  it('refuses a body that is not whole records', () => {
    expect(() => decodeLayer(new ArrayBuffer(RECORD_BYTES + 3))).toThrow(LayerFormatError)
  })
})
