import { cleanup, fireEvent, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Pagination } from './Pagination'

afterEach(cleanup)

describe('Pagination', () => {
  it('is absent when everything fits on one page', () => {
    render(<Pagination total={24} limit={24} offset={0} onOffset={() => {}} />)
    expect(screen.queryByRole('navigation')).toBeNull()
  })
  it('moves by whole pages and stops at the ends', () => {
    const onOffset = vi.fn()
    render(<Pagination total={50} limit={24} offset={24} onOffset={onOffset} />)
    expect(screen.getByText('Page 2 of 3')).toBeTruthy()
    fireEvent.click(screen.getByRole('button', { name: 'Next →' }))
    fireEvent.click(screen.getByRole('button', { name: '← Previous' }))
    expect(onOffset.mock.calls).toEqual([[48], [0]])
  })
  it('disables Next on the last page', () => {
    render(<Pagination total={50} limit={24} offset={48} onOffset={() => {}} />)
    expect((screen.getByRole('button', { name: 'Next →' }) as HTMLButtonElement).disabled).toBe(true)
  })
})
