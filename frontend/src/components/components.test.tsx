import { QueryClient } from '@tanstack/react-query'
import { cleanup, fireEvent, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Printer } from '../api/types'
import { NewKey } from '../features/apikeys/ApiKeysPage'
import { printerKeys } from '../features/printers/api'
import { applyStatusEvent } from '../features/printers/usePrinterEvents'
import { ComponentCard } from '../features/system/StatusPage'
import { UploadRow } from '../features/upload/UploadPage'
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

describe('NewKey', () => {
  it('shows the key once with a warning and a copy button', () => {
    const done = vi.fn()
    render(<NewKey created={{ id: 1, name: 'slicer', key: 'ps_secret123', prefix: 'ps_sec', created_at: '2026-01-01T00:00:00Z', last_used_at: null }} onDone={done} />)
    expect((screen.getByLabelText('New API key') as HTMLInputElement).value).toBe('ps_secret123')
    expect(screen.getByText('it will not be shown again.')).toBeTruthy()
    fireEvent.click(screen.getByRole('button', { name: 'I have saved it' }))
    expect(done).toHaveBeenCalledOnce()
  })
})

describe('ComponentCard', () => {
  it('names the component and its status and details', () => {
    render(<ComponentCard name="printer_providers" component={{ status: 'degraded', offline: 1, heartbeat_age_s: 3 }} />)
    expect(screen.getByRole('heading').textContent).toBe('Printer providers')
    expect(screen.getByText('degraded')).toBeTruthy()
    expect(screen.getByText('Heartbeat age')).toBeTruthy()
    expect(screen.getByText('3s')).toBeTruthy()
  })
})

describe('applyStatusEvent', () => {
  it('merges a pushed status into the cached list and detail', () => {
    const client = new QueryClient()
    const printer = { id: 3, name: 'Voron', provider: 'moonraker', url: 'http://x', status: { online: true, state: 'standby', progress: 0 } } as Printer
    client.setQueryData(printerKeys.list, [printer])
    client.setQueryData(printerKeys.one(3), printer)
    expect(applyStatusEvent(client, { printer_id: 3, status: { online: true, state: 'printing', progress: 0.1 } })).toBe(true)
    expect(client.getQueryData<Printer[]>(printerKeys.list)?.[0].status?.state).toBe('printing')
    expect(client.getQueryData<Printer>(printerKeys.one(3))?.status?.progress).toBe(0.1)
    expect(applyStatusEvent(client, { printer_id: 3 })).toBe(false)
  })
})
