import { keepPreviousData, useQuery } from '@tanstack/react-query'
import { useEffect, useState } from 'react'
import { Link, useSearchParams } from 'react-router'
import { Pagination } from '../../components/Pagination'
import { ErrorMessage, Loading } from '../../components/Status'
import { libraryApi, libraryKeys, type FileQuery } from './api'
import { BulkTags } from './BulkTags'
import { FileGrid, FileTable } from './FileViews'
import { FilterSidebar } from './FilterSidebar'

const LIMIT = 24
const SORTS = [
  { value: 'relevance', label: 'Best match' },
  { value: '-uploaded_at', label: 'Newest first' },
  { value: 'uploaded_at', label: 'Oldest first' },
  { value: 'name', label: 'Name A–Z' },
  { value: '-name', label: 'Name Z–A' },
  { value: 'estimated_time', label: 'Shortest print' },
  { value: '-estimated_time', label: 'Longest print' },
  { value: 'filament_total', label: 'Least filament' },
  { value: '-size', label: 'Largest file' },
  { value: '-last_printed', label: 'Recently printed' },
]
// URL parameters that are passed through to GET /files as they are.
const FILTERS = ['slicer', 'filament_type', 'nozzle_diameter', 'printer_model', 'tag', 'printed', 'favourite']

function useView(): ['grid' | 'list', (view: 'grid' | 'list') => void] {
  const [view, setView] = useState<'grid' | 'list'>(() => (localStorage.getItem('library-view') === 'list' ? 'list' : 'grid'))
  useEffect(() => localStorage.setItem('library-view', view), [view])
  return [view, setView]
}

export function LibraryPage() {
  const [params, setParams] = useSearchParams()
  const [view, setView] = useView()
  const [text, setText] = useState(params.get('q') ?? '')
  const [selected, setSelected] = useState<Set<number>>(new Set())
  const toggle = (id: number) => setSelected((prev) => {
    const next = new Set(prev)
    if (next.has(id)) next.delete(id)
    else next.add(id)
    return next
  })
  const offset = Number(params.get('offset') ?? 0) || 0
  // Best match while searching, newest first while browsing, unless the person chose.
  const sort = params.get('sort') ?? (params.get('q') ? 'relevance' : '-uploaded_at')

  const update = (key: string, value: string | null, keepOffset = false) =>
    setParams((prev) => {
      const next = new URLSearchParams(prev)
      if (value === null || value === '') next.delete(key)
      else next.set(key, value)
      if (!keepOffset) next.delete('offset')
      return next
    })

  // Search as the person types, a moment after they pause (only typing restarts the wait;
  // a busy page re-rendering must not postpone it). Replace, not push: no history per key.
  useEffect(() => {
    const timer = setTimeout(() => {
      setParams((prev) => {
        const q = text.trim()
        if ((prev.get('q') ?? '') === q) return prev
        const next = new URLSearchParams(prev)
        if (q) next.set('q', q)
        else next.delete('q')
        next.delete('offset')
        return next
      }, { replace: true })
    }, 300)
    return () => clearTimeout(timer)
  }, [text, setParams])

  const fileQuery: FileQuery = { q: params.get('q') ?? undefined, sort, limit: LIMIT, offset }
  for (const key of FILTERS) fileQuery[key] = params.get(key) ?? undefined
  const files = useQuery({ queryKey: libraryKeys.list(fileQuery), queryFn: () => libraryApi.list(fileQuery), placeholderData: keepPreviousData })
  const hasFilters = FILTERS.some((key) => params.has(key)) || params.has('q')

  return (
    <div className="library">
      <div className="page-head">
        <h1>Library</h1>
        <div className="inline">
          <Link to="/tags" className="button">Tags</Link>
          <Link to="/trash" className="button">Trash</Link>
          <Link to="/upload" className="button primary">Upload files</Link>
        </div>
      </div>
      <form className="toolbar" role="search" onSubmit={(e) => { e.preventDefault(); update('q', text.trim() || null) }}>
        <label htmlFor="library-search" className="sr-only">Search files</label>
        <input id="library-search" type="search" placeholder="Search by name, material, slicer, printer, notes, tags…" value={text} onChange={(e) => setText(e.target.value)} />
        <label htmlFor="library-sort" className="sr-only">Sort by</label>
        <select id="library-sort" value={sort} onChange={(e) => update('sort', e.target.value)}>
          {SORTS.map((option) => <option key={option.value} value={option.value}>{option.label}</option>)}
        </select>
        <div className="segmented" role="group" aria-label="View">
          <button type="button" aria-pressed={view === 'grid'} onClick={() => setView('grid')}>Grid</button>
          <button type="button" aria-pressed={view === 'list'} onClick={() => setView('list')}>List</button>
        </div>
      </form>
      <div className="library-body">
        <FilterSidebar params={params} onChange={(key, value) => update(key, value)} />
        <section aria-label="Results" className="results">
          <ErrorMessage error={files.error} title="Could not load files" />
          {files.isPending ? <Loading what="Loading files" /> : null}
          {files.data ? (
            <>
              <p className="muted" aria-live="polite">{files.data.total} {files.data.total === 1 ? 'file' : 'files'}{hasFilters ? ' match' : ''}</p>
              {files.data.items.length === 0 ? (
                <div className="empty">
                  {hasFilters ? <p>Nothing matches. Try fewer words or filters.</p> : <p>The library is empty. <Link to="/upload">Upload your first G-code</Link>.</p>}
                </div>
              ) : view === 'grid' ? <FileGrid files={files.data.items} /> : (
                <>
                  {selected.size ? <BulkTags ids={[...selected]} onDone={() => setSelected(new Set())} /> : null}
                  <FileTable files={files.data.items} selection={{ selected, toggle }} />
                </>
              )}
              <Pagination total={files.data.total} limit={LIMIT} offset={offset} onOffset={(value) => update('offset', String(value), true)} />
            </>
          ) : null}
        </section>
      </div>
    </div>
  )
}
