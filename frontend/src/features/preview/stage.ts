// What both 3D views stand on (the toolpaths of scene.ts, the models of meshScene.ts): a
// three.js renderer on the given canvas, a Z-up camera that mouse and touch turn and zoom
// (OrbitControls), sized to the canvas's box. It draws on demand (a change of content, camera
// or size), never in a loop: an idle view costs nothing.
import { PerspectiveCamera, Scene, Vector3, WebGLRenderer } from 'three'
import { OrbitControls } from 'three/addons/controls/OrbitControls.js'

export const NO_WEBGL = 'This browser cannot draw the 3D view: WebGL is turned off or not supported.'

// The drawing buffer a view asks for (three.js would ask for these too): kept after each frame
// so the page (and the browser tests) can read the picture back.
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

export class Stage {
  readonly renderer: WebGLRenderer
  readonly scene = new Scene()
  readonly camera = new PerspectiveCamera(40, 1, 0.1, 10_000)
  private readonly canvas: HTMLCanvasElement
  private readonly controls: OrbitControls
  private readonly resize: ResizeObserver
  private readonly rendered: () => void
  private frame = 0

  /** Only where canDraw(), on a viewCanvas(): three.js throws when it gets no WebGL context. `rendered` is told
   * after each frame drawn. */
  constructor(canvas: HTMLCanvasElement, rendered: () => void) {
    this.canvas = canvas
    this.rendered = rendered
    // The context made here (or by canDraw() on this canvas) with CONTEXT: three.js takes it as it is.
    const context = canvas.getContext('webgl2', CONTEXT) ?? undefined
    this.renderer = new WebGLRenderer({ canvas, context, ...CONTEXT })
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2))
    this.camera.up.set(0, 0, 1) // a printer's Z is up
    this.controls = new OrbitControls(this.camera, canvas) // mouse and touch: rotate, zoom, pan
    this.controls.addEventListener('change', () => this.invalidate())
    this.resize = new ResizeObserver(() => this.fit())
    this.resize.observe(canvas.parentElement ?? canvas)
  }

  /** Look at `centre` from the front left and above, far enough away to see a ball of `radius`
   * across the narrower side of the canvas (a phone's is its width). */
  lookAt(centre: Vector3, radius: number): void {
    const tall = (this.camera.fov * Math.PI) / 360
    const half = Math.min(tall, Math.atan(Math.tan(tall) * this.camera.aspect))
    const distance = radius / Math.sin(half)
    this.camera.position.copy(centre).add(new Vector3(-0.5, -1, 0.8).normalize().multiplyScalar(distance))
    this.camera.near = distance / 100
    this.camera.far = distance * 20
    this.camera.updateProjectionMatrix()
    this.controls.target.copy(centre)
    this.controls.update()
  }

  /** Draw once more at the next animation frame (several calls before it: one frame). */
  invalidate(): void {
    if (this.frame) return
    this.frame = requestAnimationFrame(() => {
      this.frame = 0
      this.renderer.render(this.scene, this.camera)
      this.rendered()
    })
  }

  dispose(): void {
    cancelAnimationFrame(this.frame)
    this.resize.disconnect()
    this.controls.dispose()
    this.renderer.dispose()
    this.renderer.forceContextLoss() // browsers allow few live WebGL contexts: give this one back now
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
}
