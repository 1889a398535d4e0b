import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { cleanup, fireEvent, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { FilterSidebar } from './FilterSidebar'

afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
})

const FACETS = {
  total: 3,
  slicer: [{ value: 'PrusaSlicer', count: 2 }, { value: 'Cura', count: 1 }],
  filament_type: [{ value: 'PETG', count: 1 }],
  nozzle_diameter: [{ value: 0.4, count: 3 }],
  printer_model: [],
  tags: [{ value: 'calibration', count: 1 }],
}

describe('FilterSidebar', () => {
  it('offers the facet values with counts and reports a choice', async () => {
    const fetch = vi.fn(async (_request: Request) => new Response(JSON.stringify(FACETS), { status: 200 }))
    vi.stubGlobal('fetch', fetch)
    const onChange = vi.fn()
    render(
      <QueryClientProvider client={new QueryClient()}>
        <FilterSidebar params={new URLSearchParams('tag=calibration')} onChange={onChange} onClear={() => {}} />
      </QueryClientProvider>,
    )
    expect(await screen.findByRole('option', { name: 'PrusaSlicer (2)' }, { timeout: 5000 })).toBeTruthy()
    expect(screen.getByRole('option', { name: '0.4 mm (3)' })).toBeTruthy()
    expect((screen.getByLabelText('Tag') as HTMLSelectElement).value).toBe('calibration')
    expect(screen.getByText('Filters (1)')).toBeTruthy()
    // Counts come from the files the active filters leave (the api ignores each facet's own).
    expect(new URL(fetch.mock.calls[0][0].url).search).toBe('?tag=calibration')
    expect(screen.getByRole('button', { name: 'Clear filters' })).toBeTruthy()
    fireEvent.change(screen.getByLabelText('Slicer'), { target: { value: 'Cura' } })
    fireEvent.change(screen.getByLabelText('Tag'), { target: { value: '' } })
    expect(onChange.mock.calls).toEqual([['slicer', 'Cura'], ['tag', null]])
  })
})
