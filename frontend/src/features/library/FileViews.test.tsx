import { cleanup, fireEvent, render, screen } from '@testing-library/react'
import { MemoryRouter } from 'react-router'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { FileRead } from '../../api/types'
import { FileTable, ParseNote } from './FileViews'

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

describe('FileTable column headers', () => {
  const sorted = (sort: string) => {
    const onSort = vi.fn()
    render(<MemoryRouter><FileTable files={[]} sort={sort} onSort={onSort} /></MemoryRouter>)
    return onSort
  }

  it('sort by their column, a second click turns the order round', () => {
    let onSort = sorted('-uploaded_at')
    expect(screen.getByRole('columnheader', { name: /Uploaded/ }).getAttribute('aria-sort')).toBe('descending')
    fireEvent.click(screen.getByRole('button', { name: 'Name' }))
    expect(onSort).toHaveBeenLastCalledWith('name') // names start A-Z
    fireEvent.click(screen.getByRole('button', { name: 'Size' }))
    expect(onSort).toHaveBeenLastCalledWith('-size') // sizes start with the largest
    fireEvent.click(screen.getByRole('button', { name: /Uploaded/ }))
    expect(onSort).toHaveBeenLastCalledWith('uploaded_at')
    cleanup()
    onSort = sorted('name')
    expect(screen.getByRole('columnheader', { name: /Name/ }).getAttribute('aria-sort')).toBe('ascending')
    fireEvent.click(screen.getByRole('button', { name: /Name/ }))
    expect(onSort).toHaveBeenLastCalledWith('-name')
  })
})
