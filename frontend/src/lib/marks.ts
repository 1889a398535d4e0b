// Named points on the way to a page's first useful frame, as performance marks
// ("printstash:<name>"; the first of each name counts). bench/preview/bench_preview.py reads them
// to say where the time from navigation to the first drawn layer goes; they cost nothing else.
export type MarkName =
  | 'bundle' // the app's bundle has run
  | 'session' // the sign-in check answered
  | 'three' // the 3D view's chunk (three.js) has run
  | 'index' // the layer index answered
  | 'layer0' // layer 0's segments answered
  | 'webgl' // the view's WebGL renderer is made
  | 'drawn' // a frame with the current layer is on the canvas

export function mark(name: MarkName): void {
  const label = `printstash:${name}`
  if (typeof performance === 'undefined' || !performance.mark || performance.getEntriesByName(label).length) return
  performance.mark(label)
}
