import { cleanup, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { UploadRow } from '../uploads/UploadTray'
import { MemoryRouter } from 'react-router'
import { ErrorBoundary } from './ErrorBoundary'

afterEach(cleanup)

function Broken(): never {
  throw new Error('thumbnail index out of range')
}

describe('ErrorBoundary', () => {
  it('shows the failure in words instead of a blank page', () => {
    vi.spyOn(console, 'error').mockImplementation(() => {})
    render(<ErrorBoundary><Broken /></ErrorBoundary>)
    expect(screen.getByRole('alert').textContent).toContain('thumbnail index out of range')
    expect(screen.getByRole('button', { name: 'Try again' })).toBeTruthy()
  })
})

describe('UploadRow', () => {
  it('shows the api error message for a failed upload', () => {
    render(<UploadRow item={{ key: '1', name: 'notes.txt', size: 12, progress: 1, state: 'error', error: 'not G-code' }} />)
    expect(screen.getByRole('alert').textContent).toBe('Failed: not G-code')
  })
  it('shows progress while uploading', () => {
    render(<UploadRow item={{ key: '2', name: 'benchy.gcode', size: 2048, progress: 0.42, state: 'uploading' }} />)
    expect(screen.getByText('Uploading')).toBeTruthy()
    expect((screen.getByLabelText('Upload of benchy.gcode') as HTMLProgressElement).value).toBe(42)
  })
  it('links a duplicate to the stored file', () => {
    const file = { id: 7, name: 'benchy.gcode' } as never
    render(<MemoryRouter><UploadRow item={{ key: '3', name: 'benchy.gcode', size: 2048, progress: 1, state: 'duplicate', file }} /></MemoryRouter>)
    expect(screen.getByText('Already in the library')).toBeTruthy()
    expect(screen.getByRole('link').getAttribute('href')).toBe('/files/7')
  })
})

