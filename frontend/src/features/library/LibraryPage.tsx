import { keepPreviousData, useQuery } from '@tanstack/react-query'
import { useEffect, useState } from 'react'
import { Link, useLocation, useSearchParams } from 'react-router'
import { fileKeys, filesApi } from '../../api/files'
import { Pagination } from '../../components/Pagination'
import { ErrorMessage, Loading } from '../../components/Status'
import { useUploads } from '../../uploads/queue'
import { BulkActions, UndoTrash } from './BulkActions'
import { FileGrid, FileTable } from './FileViews'
import { FilterSidebar } from './FilterSidebar'
import { FILTERS, SORTS, effectiveSort, fileQuery } from './query'

const LIMIT = 24

function useView(): ['grid' | 'list', (view: 'grid' | 'list') => void] {
  const [view, setView] = useState<'grid' | 'list'>(() => (localStorage.getItem('library-view') === 'list' ? 'list' : 'grid'))
  useEffect(() => localStorage.setItem('library-view', view), [view])
  return [view, setView]
}

const carriesFiles = (event: DragEvent) => Array.from(event.dataTransfer?.types ?? []).includes('Files')

/** Files dragged from the desktop onto any part of the library page are uploaded. */
function useDropAnywhere(): boolean {
  const { add } = useUploads()
  const [over, setOver] = useState(false)
  useEffect(() => {
    const onOver = (event: DragEvent) => {
      if (!carriesFiles(event)) return
      event.preventDefault()
      setOver(true)
    }
    const onLeave = (event: DragEvent) => { if (!event.relatedTarget) setOver(false) }
    const onDrop = (event: DragEvent) => {
      if (!carriesFiles(event)) return
      event.preventDefault()
      setOver(false)
      if (event.dataTransfer?.files.length) add(event.dataTransfer.files)
    }
    document.addEventListener('dragover', onOver)
    document.addEventListener('dragleave', onLeave)
    document.addEventListener('drop', onDrop)
    return () => {
      document.removeEventListener('dragover', onOver)
      document.removeEventListener('dragleave', onLeave)
      document.removeEventListener('drop', onDrop)
    }
  }, [add])
  return over
}

export function LibraryPage() {
  const [params, setParams] = useSearchParams()
  const [view, setView] = useView()
  const [text, setText] = useState(params.get('q') ?? '')
  const [selected, setSelected] = useState<Set<number>>(new Set())
  const [trashed, setTrashed] = useState<number[] | null>(null)
  const dropping = useDropAnywhere()
  const focusSearch = Boolean((useLocation().state as { focusSearch?: boolean } | null)?.focusSearch)
  const toggle = (id: number) => setSelected((prev) => {
    const next = new Set(prev)
    if (next.has(id)) next.delete(id)
    else next.add(id)
    return next
  })
  const offset = Number(params.get('offset') ?? 0) || 0
  const sort = effectiveSort(params)
  const searching = Boolean(params.get('q')?.trim())

  const update = (key: string, value: string | null, keepOffset = false) =>
    setParams((prev) => {
      const next = new URLSearchParams(prev)
      if (value === null || value === '') next.delete(key)
      else next.set(key, value)
      if (!keepOffset) next.delete('offset')
      return next
    })
  const clearFilters = () => setParams((prev) => {
    const next = new URLSearchParams(prev)
    for (const key of FILTERS) next.delete(key)
    next.delete('offset')
    return next
  })

  // Search as the person types, a moment after they pause (only typing restarts the wait;
  // a busy page re-rendering must not postpone it). Replace, not push: no history per key.
  // Nothing to change, no navigation: `prev` is the URL of the render that armed the timer,
  // and writing it back could undo a filter change made since ("Clear filters" came back).
  useEffect(() => {
    const timer = setTimeout(() => {
      if ((params.get('q') ?? '') === text.trim()) return
      setParams((prev) => {
        const q = text.trim()
        const next = new URLSearchParams(prev)
        if (q) next.set('q', q)
        else next.delete('q')
        next.delete('offset')
        return next
      }, { replace: true })
    }, 300)
    return () => clearTimeout(timer)
  }, [text, params, setParams])

  const query = fileQuery(params, LIMIT)
  const files = useQuery({ queryKey: fileKeys.list(query), queryFn: () => filesApi.list(query), placeholderData: keepPreviousData })
  const hasFilters = FILTERS.some((key) => params.has(key)) || searching
  const selection = { selected, toggle }
  const pageIds = files.data?.items.map((file) => file.id) ?? []
  const allSelected = pageIds.length > 0 && pageIds.every((id) => selected.has(id))
  const someSelected = !allSelected && pageIds.some((id) => selected.has(id))
  const selectPage = (on: boolean) => setSelected((prev) => {
    const next = new Set(prev)
    for (const id of pageIds) {
      if (on) next.add(id)
      else next.delete(id)
    }
    return next
  })

  return (
    <div className={`library ${dropping ? 'dropping' : ''}`}>
      {dropping ? <div className="drop-overlay" aria-hidden="true">Drop to upload to the library</div> : null}
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
        <input id="library-search" type="search" autoFocus={focusSearch} placeholder="Search by name, material, slicer, printer, notes, tags… (press /)" value={text} onChange={(e) => setText(e.target.value)} />
        <label htmlFor="library-sort" className="sr-only">Sort by</label>
        <select id="library-sort" value={sort} onChange={(e) => update('sort', e.target.value)}>
          {SORTS.map((option) => (
            <option key={option.value} value={option.value} disabled={option.value === 'relevance' && !searching}>
              {option.value === 'relevance' && !searching ? `${option.label} (when searching)` : option.label}
            </option>
          ))}
        </select>
        <div className="segmented" role="group" aria-label="View">
          <button type="button" aria-pressed={view === 'grid'} onClick={() => setView('grid')}>Grid</button>
          <button type="button" aria-pressed={view === 'list'} onClick={() => setView('list')}>List</button>
        </div>
      </form>
      <div className="library-body">
        <FilterSidebar params={params} onChange={(key, value) => update(key, value)} onClear={clearFilters} />
        <section aria-label="Results" className="results">
          <ErrorMessage error={files.error} title="Could not load files" />
          {files.isPending ? <Loading what="Loading files" /> : null}
          {files.data ? (
            <>
              <div className="results-head">
                <p className="muted" aria-live="polite">{files.data.total} {files.data.total === 1 ? 'file' : 'files'}{hasFilters ? ' match' : ''}</p>
                {pageIds.length ? (
                  <label className="checkbox small">
                    <input type="checkbox" checked={allSelected} ref={(box) => { if (box) box.indeterminate = someSelected }}
                      onChange={(e) => selectPage(e.target.checked)} />
                    Select all on this page
                  </label>
                ) : null}
              </div>
              {selected.size ? (
                <BulkActions ids={[...selected]} onDone={() => setSelected(new Set())}
                  onTrashed={(ids) => { setSelected(new Set()); setTrashed(ids) }} />
              ) : null}
              {files.data.items.length === 0 ? (
                <div className="empty">
                  {hasFilters ? <p>Nothing matches. Try fewer words or filters.</p> : <p>The library is empty. <Link to="/upload">Upload your first G-code</Link>, or drop files anywhere on this page.</p>}
                </div>
              ) : view === 'grid' ? <FileGrid files={files.data.items} selection={selection} />
                : <FileTable files={files.data.items} selection={selection} sort={sort} onSort={(value) => update('sort', value)} />}
              <Pagination total={files.data.total} limit={LIMIT} offset={offset} onOffset={(value) => update('offset', String(value), true)} />
            </>
          ) : null}
          {trashed ? <UndoTrash ids={trashed} onClose={() => setTrashed(null)} /> : null}
        </section>
      </div>
    </div>
  )
}
