import { cleanup, fireEvent, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { NewKey } from './ApiKeysPage'

afterEach(cleanup)

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
