import { cleanup, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import type { FileRead } from '../../api/types'
import { ParseNote } from './FileViews'

afterEach(cleanup)

// Only the fields ParseNote reads; the rest of FileRead does not matter here.
const file = (parse_status: FileRead['parse_status'], parse_error: string | null) => ({ parse_status, parse_error }) as FileRead

describe('ParseNote', () => {
  it('follows the parse_status values the api sends', () => {
    render(<ParseNote file={file('error', 'not G-code')} />)
    expect(screen.getByText('not parsed').getAttribute('title')).toBe('not G-code')
    cleanup()
    render(<ParseNote file={file('ok', 'thumbnail 32x32 unreadable')} />)
    expect(screen.getByText('parsed with warnings')).toBeTruthy()
    cleanup()
    const { container } = render(<ParseNote file={file('ok', null)} />)
    expect(container.textContent).toBe('')
  })
})
