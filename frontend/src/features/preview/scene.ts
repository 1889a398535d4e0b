// The drawing: three.js (on stage.ts), one LineSegments (one BufferGeometry) per layer for its
// extrusions and one for its travels, so a layer that leaves the plan is disposed on its own.
//
// Why three.js itself and not gcode-preview or @sindarius/gcodeviewer: both take the whole
// G-code text and parse it in the browser, which is what issue 14 sets out to avoid (memory
// grows with the file; bench/preview/ measures gcode-preview beside this view). Here the server
// sends ready segments per layer and the view only holds the few it draws.
import { BufferAttribute, BufferGeometry, Color, Group, LinearSRGBColorSpace, LineBasicMaterial, LineSegments, Vector3 } from 'three'
import { TRAVEL, featureColour, vertexColours, type Rgb } from './palette'
import type { LayerSegments } from './records'
import { Stage } from './stage'

type Drawn = { source: LayerSegments; group: Group; extrusions: LineSegments; travels: LineSegments }

export type ViewState = { current: number; travels: boolean }

// The palette is in display colours already: they go to the screen as written (no colour-space
// conversion on the way in or out), so the legend's swatches and the lines match.
const display = ([r, g, b]: Rgb) => new Color().setRGB(r / 255, g / 255, b / 255, LinearSRGBColorSpace)

function geometry(positions: Float32Array): BufferGeometry {
  const made = new BufferGeometry()
  made.setAttribute('position', new BufferAttribute(positions, 3))
  return made
}

/** Where the camera looks: the middle of what the first drawn layer covers, bed to top. */
function extent(positions: Float32Array, top: number): { centre: Vector3; radius: number } {
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity]
  for (let i = 0; i < positions.length; i += 3) {
    minX = Math.min(minX, positions[i]); maxX = Math.max(maxX, positions[i])
    minY = Math.min(minY, positions[i + 1]); maxY = Math.max(maxY, positions[i + 1])
  }
  if (!Number.isFinite(minX)) return { centre: new Vector3(0, 0, top / 2), radius: Math.max(top, 10) }
  const centre = new Vector3((minX + maxX) / 2, (minY + maxY) / 2, top / 2)
  return { centre, radius: Math.max(Math.hypot(maxX - minX, maxY - minY, top) / 2, 5) }
}

export class ToolpathView {
  private readonly stage: Stage
  private readonly drawn = new Map<number, Drawn>()
  // Below-layer colours are the feature colours times grey: dimmer, still readable.
  private readonly materials = {
    current: new LineBasicMaterial({ vertexColors: true }),
    below: new LineBasicMaterial({ vertexColors: true, color: display([100, 100, 100]) }),
    travel: new LineBasicMaterial({ color: display(TRAVEL) }),
  }
  private palette: Rgb[] = []
  private state: ViewState = { current: 0, travels: false }
  private framed = false

  /** Only where canDraw() (stage.ts). `onDrawn` is told each layer drawn as the current one. */
  constructor(canvas: HTMLCanvasElement, onDrawn: (index: number) => void) {
    this.stage = new Stage(canvas, () => {
      if (this.drawn.has(this.state.current)) onDrawn(this.state.current)
    })
    this.stage.renderer.outputColorSpace = LinearSRGBColorSpace
  }

  setFeatures(names: string[]): void {
    this.palette = names.map(featureColour)
  }

  /** Draw exactly `layers`; `top` is the highest layer's Z (for the first camera position). */
  sync(layers: ReadonlyMap<number, LayerSegments>, state: ViewState, top: number): void {
    for (const [index, drawn] of this.drawn) if (layers.get(index) !== drawn.source) this.drop(index)
    for (const [index, layer] of layers) if (!this.drawn.has(index)) this.add(index, layer)
    this.state = state
    for (const [index, drawn] of this.drawn) {
      drawn.extrusions.material = index === state.current ? this.materials.current : this.materials.below
      drawn.travels.visible = state.travels && index === state.current
    }
    const first = layers.get(state.current)
    if (!this.framed && first) this.frameOn(first, top)
    this.stage.invalidate()
  }

  dispose(): void {
    for (const index of [...this.drawn.keys()]) this.drop(index)
    for (const material of Object.values(this.materials)) material.dispose()
    this.stage.dispose()
  }

  private add(index: number, layer: LayerSegments): void {
    const shape = geometry(layer.extrusions)
    shape.setAttribute('color', new BufferAttribute(vertexColours(layer.features, this.palette), 3, true))
    const extrusions = new LineSegments(shape, this.materials.current)
    const travels = new LineSegments(geometry(layer.travels), this.materials.travel)
    const group = new Group()
    group.add(extrusions, travels)
    this.stage.scene.add(group)
    this.drawn.set(index, { source: layer, group, extrusions, travels })
  }

  private drop(index: number): void {
    const drawn = this.drawn.get(index)
    if (!drawn) return
    this.stage.scene.remove(drawn.group)
    drawn.extrusions.geometry.dispose()
    drawn.travels.geometry.dispose()
    this.drawn.delete(index)
  }

  private frameOn(layer: LayerSegments, top: number): void {
    const { centre, radius } = extent(layer.extrusions.length ? layer.extrusions : layer.travels, top)
    this.stage.lookAt(centre, radius)
    this.framed = true
  }
}
