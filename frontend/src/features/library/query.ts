// The library's URL parameters as a typed file query: the address bar is the state, so a
// search can be bookmarked, shared and walked back with the browser's back button.
import type { FileQuery } from '../../api/files'
import type { FacetValue } from '../../api/types'

export type Filter = 'slicer' | 'filament_type' | 'nozzle_diameter' | 'printer_model' | 'tag' | 'printed' | 'favourite'
export const FILTERS: Filter[] = ['slicer', 'filament_type', 'nozzle_diameter', 'printer_model', 'tag', 'printed', 'favourite']

export const SORTS = [
  { value: 'relevance', label: 'Best match' },
  { value: '-uploaded_at', label: 'Newest first' },
  { value: 'uploaded_at', label: 'Oldest first' },
  { value: 'name', label: 'Name A–Z' },
  { value: '-name', label: 'Name Z–A' },
  { value: 'estimated_time', label: 'Shortest print' },
  { value: '-estimated_time', label: 'Longest print' },
  { value: 'filament_total', label: 'Least filament' },
  { value: '-size', label: 'Largest file' },
  { value: 'size', label: 'Smallest file' },
  { value: '-last_printed', label: 'Recently printed' },
]

/** Best match only means something while searching: without words it is newest first. */
export function effectiveSort(params: URLSearchParams): string {
  const q = (params.get('q') ?? '').trim()
  const chosen = params.get('sort')
  if (!q) return !chosen || chosen === 'relevance' ? '-uploaded_at' : chosen
  return chosen ?? 'relevance'
}

const flag = (value: string | null) => (value === 'true' ? true : value === 'false' ? false : undefined)
const list = (value: string | null) => (value ? [value] : undefined)

/** Filters and words only (what the facet counts depend on). */
export function filterQuery(params: URLSearchParams): FileQuery {
  const nozzle = Number(params.get('nozzle_diameter'))
  return {
    q: params.get('q')?.trim() || undefined,
    slicer: list(params.get('slicer')),
    filament_type: list(params.get('filament_type')),
    nozzle_diameter: params.get('nozzle_diameter') && Number.isFinite(nozzle) ? [nozzle] : undefined,
    printer_model: list(params.get('printer_model')),
    tag: list(params.get('tag')),
    printed: flag(params.get('printed')),
    favourite: flag(params.get('favourite')),
  }
}

export function fileQuery(params: URLSearchParams, limit: number): FileQuery {
  const offset = Number(params.get('offset') ?? 0) || 0
  return { ...filterQuery(params), sort: effectiveSort(params), limit, offset }
}

/** Numbers (nozzle sizes) smallest first; words by count, as the api sends them. */
export function ordered(values: FacetValue[]): FacetValue[] {
  return values.every((item) => typeof item.value === 'number') ? [...values].sort((a, b) => Number(a.value) - Number(b.value)) : values
}
