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

export function FileGrid({ files }: { files: FileRead[] }) {
  return (
    <ul className="file-grid" aria-label="Files">
      {files.map((file) => (
        <li key={file.id} className="card file-card">
          <Link to={`/files/${file.id}`} className="card-link"><Thumbnail file={file} /></Link>
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

type Selection = { selected: Set<number>; toggle: (id: number) => void }

export function FileTable({ files, selection }: { files: FileRead[]; selection?: Selection }) {
  return (
    <div className="table-wrap">
      <table className="file-table responsive">
        <caption className="sr-only">Files</caption>
        <thead>
          <tr>{selection ? <th scope="col"><span className="sr-only">Select</span></th> : null}<th scope="col"><span className="sr-only">Favourite</span></th><th scope="col">Name</th><th scope="col">Details</th><th scope="col">Size</th><th scope="col">Uploaded</th><th scope="col">Printed</th></tr>
        </thead>
        <tbody>
          {files.map((file) => (
            <tr key={file.id}>
              {selection ? (
                <td><input type="checkbox" aria-label={`Select ${file.name}`} checked={selection.selected.has(file.id)} onChange={() => selection.toggle(file.id)} /></td>
              ) : null}
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
