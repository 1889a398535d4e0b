import { cleanup, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import type { FileRead } from '../../api/types'
import { MAX_VIEW_BYTES } from './mesh'
import { MeshViewer } from './MeshViewer'

afterEach(cleanup)

const model = { id: 7, name: 'cone.stl', kind: 'stl', size: 6_484 } as FileRead

describe('MeshViewer', () => {
  it('says so in words when the browser cannot draw WebGL (jsdom cannot)', () => {
    render(<MeshViewer file={model} />)
    expect(screen.getByRole('alert').textContent).toContain('WebGL')
  })

  it('does not take a model larger than the browser should hold, and says what to do', () => {
    render(<MeshViewer file={{ ...model, size: MAX_VIEW_BYTES + 1 }} />)
    expect(screen.getByText(/too large to view in the browser/).textContent).toContain('open it in your slicer')
    expect(screen.queryByRole('img')).toBeNull()
  })
})
