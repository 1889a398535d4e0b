import { zipSync, strToU8 } from 'three/addons/libs/fflate.module.js'
import { describe, expect, it } from 'vitest'
import { readMesh, UnreadableMesh } from './mesh'
import { gridCell } from './meshScene'

// A tetrahedron: 4 corners, 4 triangles, written by hand in each format.
const CORNERS = [[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10]]
const FACES = [[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]]
const bytes = (text: string) => new TextEncoder().encode(text).buffer as ArrayBuffer

function asciiStl(): ArrayBuffer {
  const facets = FACES.map((face) => `facet normal 0 0 0\nouter loop\n${face.map((i) => `vertex ${CORNERS[i].join(' ')}`).join('\n')}\nendloop\nendfacet`)
  return bytes(`solid tetra\n${facets.join('\n')}\nendsolid tetra\n`)
}

function binaryStl(): ArrayBuffer {
  const view = new DataView(new ArrayBuffer(84 + FACES.length * 50))
  view.setUint32(80, FACES.length, true)
  FACES.forEach((face, n) => face.forEach((corner, k) => CORNERS[corner].forEach((value, axis) => {
    view.setFloat32(84 + n * 50 + 12 + k * 12 + axis * 4, value, true)
  })))
  return view.buffer
}

function threeMf(): ArrayBuffer {
  const vertices = CORNERS.map(([x, y, z]) => `<vertex x="${x}" y="${y}" z="${z}"/>`).join('')
  const triangles = FACES.map(([a, b, c]) => `<triangle v1="${a}" v2="${b}" v3="${c}"/>`).join('')
  const model = `<?xml version="1.0" encoding="UTF-8"?><model unit="millimeter" xml:lang="en-US" xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02"><resources><object id="1" type="model"><mesh><vertices>${vertices}</vertices><triangles>${triangles}</triangles></mesh></object></resources><build><item objectid="1"/></build></model>`
  const rels = '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Target="/3D/3dmodel.model" Id="rel0" Type="http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"/></Relationships>'
  return zipSync({ '_rels/.rels': strToU8(rels), '3D/3dmodel.model': strToU8(model) }).buffer as ArrayBuffer
}

describe('readMesh', () => {
  it('reads every model kind with three.js loaders and counts its triangles', () => {
    expect(readMesh('stl', asciiStl()).triangles).toBe(4)
    expect(readMesh('stl', binaryStl()).triangles).toBe(4)
    expect(readMesh('3mf', threeMf()).triangles).toBe(4)
    // An OBJ's quad is two triangles: the tetrahedron's base written as one quad of a pyramid.
    const obj = 'v 0 0 0\nv 10 0 0\nv 10 10 0\nv 0 10 0\nv 5 5 8\nf 1 4 3 2\nf 1 2 5\nf 2 3 5\nf 3 4 5\nf 4 1 5\n'
    expect(readMesh('obj', bytes(obj)).triangles).toBe(6)
  })

  it('says in words when a file holds nothing it can draw', () => {
    const cases: [Parameters<typeof readMesh>[0], ArrayBuffer][] = [
      ['stl', bytes('solid broken\nthis is not a facet\nendsolid\n')],
      ['stl', new ArrayBuffer(0)],
      ['obj', bytes('v 0 0 0\nv 1 0 0\nv 0 1 0\n')], // corners, no faces
      ['3mf', bytes('PK not really a zip')],
    ]
    for (const [kind, data] of cases) {
      expect(() => readMesh(kind, data)).toThrow(UnreadableMesh)
      expect(() => readMesh(kind, data)).toThrow(/could not be read|no triangles/)
    }
  })
})

describe('gridCell', () => {
  it('gives a few squares under the model, in powers of ten millimetres', () => {
    expect([0.5, 5, 16, 20, 150, 300].map(gridCell)).toEqual([1, 1, 1, 10, 10, 100])
  })
})
