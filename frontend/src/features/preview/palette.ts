// Colours of the feature types in the legend and the drawing. Slicers name them differently
// (PrusaSlicer "External perimeter", Cura "WALL-OUTER", Orca "Outer wall"), so a name is matched
// by the words in it, most specific first; a name none of them covers gets a stable colour of
// its own from its letters.

export type Rgb = readonly [number, number, number]

const RULES: [RegExp, Rgb][] = [
  [/unknown|custom/i, [150, 150, 150]],
  [/overhang/i, [40, 110, 255]],
  [/external|outer/i, [255, 125, 0]],
  [/perimeter|wall|inner/i, [255, 200, 40]],
  [/interface/i, [0, 160, 130]],
  [/support/i, [60, 190, 70]],
  [/bridge/i, [110, 190, 255]],
  [/ironing/i, [255, 150, 170]],
  [/top/i, [230, 40, 40]],
  [/bottom/i, [120, 70, 210]],
  [/solid|skin/i, [170, 60, 200]],
  [/gap/i, [250, 250, 250]],
  [/skirt|brim/i, [0, 190, 200]],
  [/wipe|prime|tower|purge/i, [120, 120, 170]],
  [/infill|fill|sparse/i, [180, 40, 60]],
]

function fromLetters(name: string): Rgb {
  let hash = 0
  for (const char of name) hash = (hash * 31 + char.charCodeAt(0)) >>> 0
  const hue = (hash % 360) / 60
  const x = Math.round(255 * (1 - Math.abs((hue % 2) - 1)))
  const sectors: Rgb[] = [[255, x, 0], [x, 255, 0], [0, 255, x], [0, x, 255], [x, 0, 255], [255, 0, x]]
  return sectors[Math.floor(hue)]
}

export function featureColour(name: string): Rgb {
  return RULES.find(([words]) => words.test(name))?.[1] ?? fromLetters(name)
}

/** Travel moves, drawn only on the current layer and only when asked for. */
export const TRAVEL: Rgb = [61, 123, 255]

export const cssColour = ([r, g, b]: Rgb) => `rgb(${r} ${g} ${b})`

/** Per-vertex colours (two vertices a segment, 8-bit RGB) for a layer's extrusions. */
export function vertexColours(features: Uint8Array, palette: readonly Rgb[]): Uint8Array {
  const colours = new Uint8Array(features.length * 6)
  features.forEach((code, i) => {
    const rgb = palette[code] ?? palette[0] ?? [150, 150, 150]
    colours.set(rgb, i * 6)
    colours.set(rgb, i * 6 + 3)
  })
  return colours
}
