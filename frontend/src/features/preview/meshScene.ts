// The model viewer's drawing (on stage.ts): the mesh in one neutral material, stood on a grid
// at Z 0 with its middle over the grid's centre, lit from where the camera looks so the side
// a person turns towards is always lit. Colours follow the page's light or dark theme.
import { Box3, DirectionalLight, DoubleSide, GridHelper, Group, HemisphereLight, Mesh, MeshStandardMaterial, Sphere, Vector3, type Material, type Object3D } from 'three'
import type { Theme } from '../../lib/theme'
import { Stage } from './stage'

type Palette = { model: number; sky: number; ground: number; centre: number; lines: number }

// Chosen against the canvas's own background (styles.css --raised, light and dark).
const PALETTES: Record<Theme, Palette> = {
  light: { model: 0x8d9a95, sky: 0xffffff, ground: 0x6d7671, centre: 0x8f9994, lines: 0xc4cbc7 },
  dark: { model: 0xb8c4bf, sky: 0xffffff, ground: 0x2a312e, centre: 0x6a7772, lines: 0x3f4b47 },
}

/** The side of one grid square (mm): a power of ten that gives a few squares under the model. */
export function gridCell(footprint: number): number {
  return 10 ** Math.max(0, Math.floor(Math.log10(Math.max(footprint, 1) / 2)))
}

export type Shown = { size: Vector3; cell: number }

export class MeshView {
  private readonly stage: Stage
  private readonly material = new MeshStandardMaterial({ flatShading: true, side: DoubleSide, roughness: 0.75, metalness: 0 })
  private readonly sky = new HemisphereLight(0xffffff, 0x000000, 1.6)
  private readonly sun = new DirectionalLight(0xffffff, 1.8)
  private readonly holder = new Group()
  private grid: GridHelper | null = null
  private theme: Theme = 'light'

  /** Only where canDraw() (stage.ts). `onDrawn` is told each frame drawn with a model in it. */
  constructor(canvas: HTMLCanvasElement, onDrawn: () => void) {
    this.stage = new Stage(canvas, () => { if (this.holder.children.length) onDrawn() })
    this.sky.position.set(0, 0, 1) // the sky's colour from above (Z up), the ground's from below
    // The sun sits beside the camera (above and to its left) and shines where it looks.
    this.sun.position.set(-1, 1, 0.5)
    this.sun.target.position.set(0, 0, -1)
    this.stage.camera.add(this.sun, this.sun.target)
    this.stage.scene.add(this.stage.camera, this.sky, this.holder)
    this.setTheme('light')
  }

  /** Show `model` (replacing none: one view per model): its materials become the viewer's. */
  show(model: Object3D): Shown {
    model.traverse((part) => {
      if (!(part instanceof Mesh)) return
      disposeMaterials(part.material)
      part.material = this.material
    })
    const box = new Box3().setFromObject(model)
    const size = box.getSize(new Vector3())
    const middle = box.getCenter(new Vector3())
    this.holder.add(model)
    this.holder.position.set(-middle.x, -middle.y, -box.min.z) // on the bed, over its centre
    const cell = gridCell(Math.max(size.x, size.y))
    this.placeGrid(Math.max(size.x, size.y), cell)
    const radius = box.getBoundingSphere(new Sphere()).radius
    this.stage.lookAt(new Vector3(0, 0, size.z / 2), Math.max(radius, 1))
    this.stage.invalidate()
    return { size, cell }
  }

  setTheme(theme: Theme): void {
    this.theme = theme
    const palette = PALETTES[theme]
    this.material.color.setHex(palette.model)
    this.sky.color.setHex(palette.sky)
    this.sky.groundColor.setHex(palette.ground)
    if (this.grid) this.placeGrid(this.grid.userData.footprint as number, this.grid.userData.cell as number)
    this.stage.invalidate()
  }

  dispose(): void {
    this.holder.traverse((part) => { if (part instanceof Mesh) part.geometry.dispose() })
    this.dropGrid()
    this.material.dispose()
    this.stage.dispose()
  }

  /** A square grid of `cell` mm squares at Z 0, half as wide again as the model's footprint. */
  private placeGrid(footprint: number, cell: number): void {
    this.dropGrid()
    const squares = Math.max(4, Math.ceil((footprint * 1.5) / cell / 2) * 2)
    const palette = PALETTES[this.theme]
    const grid = new GridHelper(squares * cell, squares, palette.centre, palette.lines)
    grid.rotation.x = Math.PI / 2 // three.js lays it in XZ; the bed is XY
    grid.position.z = -cell / 1000 // just under the model's bottom face, which would hide lines
    grid.userData = { footprint, cell }
    this.grid = grid
    this.stage.scene.add(grid)
  }

  private dropGrid(): void {
    if (!this.grid) return
    this.stage.scene.remove(this.grid)
    this.grid.geometry.dispose()
    disposeMaterials(this.grid.material)
    this.grid = null
  }
}

function disposeMaterials(material: Material | Material[]): void {
  for (const one of Array.isArray(material) ? material : [material]) one.dispose()
}
