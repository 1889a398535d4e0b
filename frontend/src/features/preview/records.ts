// A layer's moves as the api sends them (docs/api.md, "Layer preview"): little-endian records of
// 28 bytes, float32 x0 y0 z0 x1 y1 z1, uint8 feature code, uint8 flags (bit 0: extruding),
// uint16 tool. Decoded straight into the typed arrays three.js draws from, so a layer is copied
// once (bytes to floats) and the fetched buffer can be dropped.

export const RECORD_BYTES = 28
const EXTRUDING = 1

/** One layer, split the way it is drawn: extrusions coloured by feature, travels on their own. */
export type LayerSegments = {
  /** extrusion segments, 6 floats each (both ends' x, y, z) */
  extrusions: Float32Array
  /** the feature code of each extrusion segment (an index into the layer index's `features`) */
  features: Uint8Array
  /** travel segments (no extrusion), 6 floats each */
  travels: Float32Array
  /** the feature codes that occur in the layer, ascending (for the legend) */
  codes: number[]
  /** all segments of the layer: what it costs against the segment budget */
  segments: number
}

export class LayerFormatError extends Error {}

function copyEnds(view: DataView, record: number, into: Float32Array, at: number) {
  for (let k = 0; k < 6; k++) into[at * 6 + k] = view.getFloat32(record + k * 4, true)
}

export function decodeLayer(buffer: ArrayBuffer): LayerSegments {
  if (buffer.byteLength % RECORD_BYTES !== 0) {
    throw new LayerFormatError(`A layer is a whole number of ${RECORD_BYTES}-byte records; got ${buffer.byteLength} bytes.`)
  }
  const view = new DataView(buffer)
  const segments = buffer.byteLength / RECORD_BYTES
  let extruding = 0
  for (let i = 0; i < segments; i++) extruding += view.getUint8(i * RECORD_BYTES + 25) & EXTRUDING
  const layer: LayerSegments = {
    extrusions: new Float32Array(extruding * 6),
    features: new Uint8Array(extruding),
    travels: new Float32Array((segments - extruding) * 6),
    codes: [],
    segments,
  }
  let e = 0
  let t = 0
  for (let i = 0; i < segments; i++) {
    const record = i * RECORD_BYTES
    if (view.getUint8(record + 25) & EXTRUDING) {
      layer.features[e] = view.getUint8(record + 24)
      copyEnds(view, record, layer.extrusions, e++)
    } else {
      copyEnds(view, record, layer.travels, t++)
    }
  }
  layer.codes = [...new Set(layer.features)].sort((a, b) => a - b)
  return layer
}
