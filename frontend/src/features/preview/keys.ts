// The layer slider's keys, the same on every browser (a native range input's PageUp/PageDown
// step differs between engines): arrows one layer, PageUp/PageDown ten, Home/End the ends.
const MOVES: Record<string, (layer: number, last: number) => number> = {
  ArrowUp: (layer) => layer + 1,
  ArrowRight: (layer) => layer + 1,
  ArrowDown: (layer) => layer - 1,
  ArrowLeft: (layer) => layer - 1,
  PageUp: (layer) => layer + 10,
  PageDown: (layer) => layer - 10,
  Home: () => 0,
  End: (_, last) => last,
}

/** The layer a key moves to from `layer` (0…last), or null for a key that is not a move. */
export function layerAfterKey(key: string, layer: number, last: number): number | null {
  const move = MOVES[key]
  return move ? Math.min(Math.max(move(layer, last), 0), last) : null
}
