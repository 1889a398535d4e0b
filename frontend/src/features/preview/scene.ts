// The drawing: three.js, one LineSegments (one BufferGeometry) per layer for its extrusions and
// one for its travels, so a layer that leaves the plan is disposed on its own. Drawn on demand
// (a change of layers, camera or size), never in a loop: an idle preview costs nothing.
//
// Why three.js itself and not gcode-preview or @sindarius/gcodeviewer: both take the whole
// G-code text and parse it in the browser, which is what issue 14 sets out to avoid (memory
// grows with the file; bench/preview/ measures gcode-preview beside this view). Here the server
// sends ready segments per layer and the view only holds the few it draws.
import { BufferAttribute, BufferGeometry, Color, Group, LinearSRGBColorSpace, LineBasicMaterial, LineSegments, PerspectiveCamera, Scene, Vector3, WebGLRenderer } from 'three'
import { OrbitControls } from 'three/addons/controls/OrbitControls.js'
import { TRAVEL, featureColour, vertexColours, type Rgb } from './palette'
import type { LayerSegments } from './records'

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

// The drawing buffer the view asks for (three.js would ask for these too): kept after each
// frame so the page (and the browser tests) can read the picture back.
const CONTEXT: WebGLContextAttributes = { alpha: true, antialias: true, depth: true, stencil: false, preserveDrawingBuffer: true }

let webgl: boolean | undefined
let probe: HTMLCanvasElement | undefined

/** Whether this browser can draw WebGL at all (asked once). */
export function canDraw(): boolean {
  if (webgl === undefined) {
    const canvas = document.createElement('canvas')
    webgl = canvas.getContext('webgl2', CONTEXT) !== null
    if (webgl) probe = canvas
  }
  return webgl
}

/** A canvas for a new view: the first gets the one canDraw() made its WebGL context on (making
 * one takes tens of milliseconds without a GPU, on the way to the preview's first frame). */
export function viewCanvas(): HTMLCanvasElement {
  const canvas = probe ?? document.createElement('canvas')
  probe = undefined
  return canvas
}

export class ToolpathView {
  private readonly canvas: HTMLCanvasElement
  private readonly onDrawn: (index: number) => void
  private readonly renderer: WebGLRenderer
  private readonly scene = new Scene()
  private readonly camera = new PerspectiveCamera(40, 1, 0.1, 10_000)
  private readonly controls: OrbitControls
  private readonly resize: ResizeObserver
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
  private frame = 0

  /** Only where canDraw(), on a viewCanvas(): three.js throws when it gets no WebGL context. */
  constructor(canvas: HTMLCanvasElement, onDrawn: (index: number) => void) {
    this.canvas = canvas
    this.onDrawn = onDrawn
    // The context made here (or by canDraw() on this canvas) with CONTEXT: three.js takes it as it is.
    const context = canvas.getContext('webgl2', CONTEXT) ?? undefined
    this.renderer = new WebGLRenderer({ canvas, context, ...CONTEXT })
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2))
    this.renderer.outputColorSpace = LinearSRGBColorSpace
    this.camera.up.set(0, 0, 1) // G-code's Z is up
    this.controls = new OrbitControls(this.camera, canvas) // mouse and touch: rotate, zoom, pan
    this.controls.addEventListener('change', () => this.invalidate())
    this.resize = new ResizeObserver(() => this.fit())
    this.resize.observe(canvas.parentElement ?? canvas)
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
    this.invalidate()
  }

  dispose(): void {
    cancelAnimationFrame(this.frame)
    this.resize.disconnect()
    this.controls.dispose()
    for (const index of [...this.drawn.keys()]) this.drop(index)
    for (const material of Object.values(this.materials)) material.dispose()
    this.renderer.dispose()
    this.renderer.forceContextLoss() // browsers allow few live WebGL contexts: give this one back now
  }

  private add(index: number, layer: LayerSegments): void {
    const shape = geometry(layer.extrusions)
    shape.setAttribute('color', new BufferAttribute(vertexColours(layer.features, this.palette), 3, true))
    const extrusions = new LineSegments(shape, this.materials.current)
    const travels = new LineSegments(geometry(layer.travels), this.materials.travel)
    const group = new Group()
    group.add(extrusions, travels)
    this.scene.add(group)
    this.drawn.set(index, { source: layer, group, extrusions, travels })
  }

  private drop(index: number): void {
    const drawn = this.drawn.get(index)
    if (!drawn) return
    this.scene.remove(drawn.group)
    drawn.extrusions.geometry.dispose()
    drawn.travels.geometry.dispose()
    this.drawn.delete(index)
  }

  private frameOn(layer: LayerSegments, top: number): void {
    const { centre, radius } = extent(layer.extrusions.length ? layer.extrusions : layer.travels, top)
    const distance = radius / Math.sin((this.camera.fov * Math.PI) / 360)
    this.camera.position.copy(centre).add(new Vector3(-0.5, -1, 0.8).normalize().multiplyScalar(distance))
    this.camera.near = distance / 100
    this.camera.far = distance * 20
    this.camera.updateProjectionMatrix()
    this.controls.target.copy(centre)
    this.controls.update()
    this.framed = true
  }

  private fit(): void {
    const box = this.canvas.parentElement ?? this.canvas
    const width = Math.max(box.clientWidth, 1)
    const height = Math.max(box.clientHeight, 1)
    this.renderer.setSize(width, height, false)
    this.camera.aspect = width / height
    this.camera.updateProjectionMatrix()
    this.invalidate()
  }

  private invalidate(): void {
    if (this.frame) return
    this.frame = requestAnimationFrame(() => {
      this.frame = 0
      this.renderer.render(this.scene, this.camera)
      if (this.drawn.has(this.state.current)) this.onDrawn(this.state.current)
    })
  }
}
