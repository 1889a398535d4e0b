// A model's bytes as three.js objects, by three.js's own loaders (STL binary and ASCII, OBJ,
// 3MF). The loaders are lenient: for bytes they cannot make sense of they give an empty mesh
// rather than an error, so "no triangles" is what tells an unreadable file here.
import { Mesh, type BufferGeometry, type Object3D } from 'three'
import { ThreeMFLoader } from 'three/addons/loaders/3MFLoader.js'
import { OBJLoader } from 'three/addons/loaders/OBJLoader.js'
import { STLLoader } from 'three/addons/loaders/STLLoader.js'

export type ModelKind = 'stl' | 'obj' | '3mf'

// What the viewer takes into the browser's memory: the file, then about as much again as
// vertices. Larger models are for the slicer on a desktop.
export const MAX_VIEW_BYTES = 256 * 1024 * 1024

export type ReadMesh = { object: Object3D; triangles: number }

export class UnreadableMesh extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UnreadableMesh'
  }
}

/** The model in `bytes`, or an UnreadableMesh that says why in words. */
export function readMesh(kind: ModelKind, bytes: ArrayBuffer): ReadMesh {
  let object: Object3D
  try {
    object = parse(kind, bytes)
  } catch (error) {
    throw new UnreadableMesh(`The ${kind.toUpperCase()} file could not be read (${error instanceof Error ? error.message : String(error)}).`)
  }
  const triangles = countTriangles(object)
  if (!triangles) throw new UnreadableMesh(`The ${kind.toUpperCase()} file holds no triangles that can be drawn: it may be damaged or empty.`)
  return { object, triangles }
}

function parse(kind: ModelKind, bytes: ArrayBuffer): Object3D {
  if (kind === 'stl') return new Mesh(new STLLoader().parse(bytes))
  if (kind === 'obj') return new OBJLoader().parse(new TextDecoder().decode(bytes))
  return new ThreeMFLoader().parse(bytes)
}

/** The triangles of every mesh in `object` (indexed or not; lines and points are not). */
export function countTriangles(object: Object3D): number {
  let triangles = 0
  object.traverse((part) => {
    if (part instanceof Mesh) triangles += trianglesOf(part.geometry as BufferGeometry)
  })
  return triangles
}

function trianglesOf(geometry: BufferGeometry): number {
  const corners = geometry.index?.count ?? geometry.getAttribute('position')?.count ?? 0
  return Math.floor(corners / 3)
}
