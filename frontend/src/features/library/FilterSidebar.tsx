import { useQuery } from '@tanstack/react-query'
import { useState } from 'react'
import { fileKeys } from '../../api/files'
import type { FacetValue } from '../../api/types'
import { ErrorMessage } from '../../components/Status'
import { libraryApi } from './api'
import { FILTERS, filterQuery, ordered } from './query'

// Facet fields and the query parameter each one filters by.
const FACETS = [
  { field: 'slicer', param: 'slicer', label: 'Slicer' },
  { field: 'filament_type', param: 'filament_type', label: 'Material' },
  { field: 'nozzle_diameter', param: 'nozzle_diameter', label: 'Nozzle', unit: ' mm' },
  { field: 'printer_model', param: 'printer_model', label: 'Printer model' },
  { field: 'tags', param: 'tag', label: 'Tag' },
] as const

type Props = { params: URLSearchParams; onChange: (param: string, value: string | null) => void; onClear: () => void }

function FacetGroup({ values, param, label, unit, params, onChange }: Omit<Props, 'onClear'> & { values: FacetValue[]; param: string; label: string; unit?: string }) {
  const current = params.get(param)
  const id = `facet-${param}`
  return (
    <div className="facet">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={current ?? ''} onChange={(e) => onChange(param, e.target.value || null)}>
        <option value="">Any</option>
        {ordered(values).map((item) => (
          <option key={String(item.value)} value={String(item.value)}>{`${item.value}${unit ?? ''} (${item.count})`}</option>
        ))}
        {current && !values.some((item) => String(item.value) === current) ? <option value={current}>{current}</option> : null}
      </select>
    </div>
  )
}

export function FilterSidebar({ params, onChange, onClear }: Props) {
  // Counts among the files the other active filters (and the words) leave: the api ignores
  // each facet's own filter, so a chosen slicer still lists the other slicers.
  const query = filterQuery(params)
  const facets = useQuery({ queryKey: fileKeys.facets(query), queryFn: () => libraryApi.facets(query) })
  // Open beside the results on wide screens; folded above them on a phone.
  const [wide] = useState(() => window.matchMedia?.('(min-width: 761px)').matches ?? true)
  const active = FILTERS.filter((param) => params.has(param)).length
  return (
    <details className="sidebar" aria-label="Filters" open={wide || undefined}>
      <summary className="h3">Filters{active ? ` (${active})` : ''}</summary>
      <ErrorMessage error={facets.error} title="Filters unavailable" />
      {FACETS.map((facet) => (
        <FacetGroup key={facet.param} {...facet} values={facets.data?.[facet.field] ?? []} params={params} onChange={onChange} />
      ))}
      <div className="facet">
        <label htmlFor="facet-printed">Printed</label>
        <select id="facet-printed" value={params.get('printed') ?? ''} onChange={(e) => onChange('printed', e.target.value || null)}>
          <option value="">Any</option>
          <option value="true">Printed</option>
          <option value="false">Never printed</option>
        </select>
      </div>
      <label className="checkbox">
        <input type="checkbox" checked={params.get('favourite') === 'true'} onChange={(e) => onChange('favourite', e.target.checked ? 'true' : null)} /> Favourites only
      </label>
      {active ? <button type="button" onClick={onClear}>Clear filters</button> : null}
    </details>
  )
}
