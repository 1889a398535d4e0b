import { cleanup, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { Toolpaths } from './Toolpaths'

afterEach(cleanup)

const index = { plate: 1, count: 3, features: ['Unknown', 'Perimeter'], layers: [{ index: 0, z: 0.2 }, { index: 1, z: 0.4 }, { index: 2, z: 0.6 }] }

describe('Toolpaths', () => {
  it('says so in words when the browser cannot draw WebGL (jsdom cannot)', async () => {
    render(<Toolpaths fileId={1} plate={1} index={index} />)
    expect((await screen.findByRole('alert')).textContent).toContain('WebGL')
  })

  it('has nothing to draw for a plate without layers', () => {
    render(<Toolpaths fileId={1} plate={1} index={{ ...index, count: 0, layers: [] }} />)
    expect(screen.getByText('This plate has no layers to show.')).toBeTruthy()
  })
})
