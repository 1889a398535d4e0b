import { useMutation, useQueryClient } from '@tanstack/react-query'
import { Link } from 'react-router'
import { fileKeys } from '../../api/files'
import type { FileRead } from '../../api/types'
import { Thumbnail } from '../../components/Thumbnail'
import { formatBytes, formatDate } from '../../lib/format'
import { libraryApi } from './api'
import { modelSummary, summary } from './metadata'

export function FavouriteButton({ file }: { file: FileRead }) {
  const client = useQueryClient()
  const toggle = useMutation({
    mutationFn: () => libraryApi.setFavourite(file.id, !file.favourite),
    onSettled: () => client.invalidateQueries({ queryKey: fileKeys.all }),
  })
  const label = file.favourite ? `Remove ${file.name} from favourites` : `Add ${file.name} to favourites`
  return (
    <span className="favourite">
      <button type="button" className={`star ${file.favourite ? 'on' : ''}`} aria-pressed={file.favourite}
        aria-label={label} title={label} disabled={toggle.isPending} onClick={() => toggle.mutate()}>
        {file.favourite ? '★' : '☆'}
      </button>
      {toggle.error ? <span role="alert" className="error-text small">Favourite not saved: {toggle.error.message}</span> : null}
    </span>
  )
}

function Tags({ tags }: { tags: string[] }) {
  if (!tags.length) return null
  return <ul className="tags" aria-label="Tags">{tags.map((tag) => <li key={tag}>{tag}</li>)}</ul>
}

export function ParseNote({ file }: { file: FileRead }) {
  // parse_status is 'ok' or 'error'; an 'ok' parse may still carry warnings in parse_error.
  if (file.parse_status === 'error') return <span className="badge badge-error" title={file.parse_error ?? undefined}>not parsed</span>
  if (file.parse_error) return <span className="badge" title={file.parse_error}>parsed with warnings</span>
  return null
}

export type Selection = { selected: Set<number>; toggle: (id: number) => void }

function SelectBox({ file, selection }: { file: FileRead; selection: Selection }) {
  return <input type="checkbox" className="select" aria-label={`Select ${file.name}`} checked={selection.selected.has(file.id)} onChange={() => selection.toggle(file.id)} />
}

/** Cards; the picture links to the file too, but only the name is a Tab stop (one per file). */
export function FileGrid({ files, selection }: { files: FileRead[]; selection?: Selection }) {
  return (
    <ul className="file-grid" aria-label="Files">
      {files.map((file) => (
        <li key={file.id} className={`card file-card ${selection?.selected.has(file.id) ? 'selected' : ''}`}>
          {selection ? <SelectBox file={file} selection={selection} /> : null}
          <Link to={`/files/${file.id}`} className="card-link" tabIndex={-1}><Thumbnail file={file} /></Link>
          <div className="card-body">
            <div className="card-title">
              <Link to={`/files/${file.id}`}>{file.name}</Link>
              <FavouriteButton file={file} />
            </div>
            <p className="muted small">{summary(file.metadata) || (file.model ? modelSummary(file.model) : formatBytes(file.size))}</p>
            <ParseNote file={file} />
            <Tags tags={file.tags} />
          </div>
        </li>
      ))}
    </ul>
  )
}

/** Columns that sort, the key the api sorts by and the direction a first click picks. */
const SORTABLE: Record<string, { key: string; first: '' | '-' }> = {
  Name: { key: 'name', first: '' },
  Size: { key: 'size', first: '-' },
  Uploaded: { key: 'uploaded_at', first: '-' },
}

function SortHeader({ label, sort, onSort }: { label: string; sort: string; onSort: (sort: string) => void }) {
  const { key, first } = SORTABLE[label]
  const current = sort.replace(/^-/, '') === key ? (sort.startsWith('-') ? 'descending' : 'ascending') : undefined
  const next = current === 'ascending' ? `-${key}` : current === 'descending' ? key : `${first}${key}`
  const arrow = current === 'ascending' ? ' ▲' : current === 'descending' ? ' ▼' : ''
  return (
    <th scope="col" aria-sort={current ?? 'none'}>
      <button type="button" className="sort" onClick={() => onSort(next)}>{label}<span aria-hidden="true">{arrow}</span></button>
    </th>
  )
}

export function FileTable({ files, selection, sort, onSort }: { files: FileRead[]; selection?: Selection; sort?: string; onSort?: (sort: string) => void }) {
  const head = (label: string) => (sort !== undefined && onSort ? <SortHeader key={label} label={label} sort={sort} onSort={onSort} /> : <th key={label} scope="col">{label}</th>)
  return (
    <div className="table-wrap">
      <table className="file-table responsive">
        <caption className="sr-only">Files</caption>
        <thead>
          <tr>
            {selection ? <th scope="col"><span className="sr-only">Select</span></th> : null}
            <th scope="col"><span className="sr-only">Preview</span></th>
            <th scope="col"><span className="sr-only">Favourite</span></th>
            {head('Name')}<th scope="col">Details</th>{head('Size')}{head('Uploaded')}<th scope="col">Printed</th>
          </tr>
        </thead>
        <tbody>
          {files.map((file) => (
            <tr key={file.id} className={selection?.selected.has(file.id) ? 'selected' : undefined}>
              {selection ? <td><SelectBox file={file} selection={selection} /></td> : null}
              <td className="thumb-cell"><Thumbnail file={file} size="small" /></td>
              <td><FavouriteButton file={file} /></td>
              <td className="break"><Link to={`/files/${file.id}`}>{file.name}</Link> <ParseNote file={file} /><Tags tags={file.tags} /></td>
              <td className="small" data-label="Details">{file.model ? modelSummary(file.model) : summary(file.metadata)}</td>
              <td data-label="Size">{formatBytes(file.size)}</td>
              <td data-label="Uploaded">{formatDate(file.uploaded_at)}</td>
              <td data-label="Printed">{file.print_count ? `${file.print_count}×` : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
