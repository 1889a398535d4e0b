import { useMutation, useQueryClient } from '@tanstack/react-query'
import { Link } from 'react-router'
import type { FileRead } from '../../api/types'
import { formatBytes, formatDate } from '../../lib/format'
import { libraryApi, libraryKeys } from './api'
import { summary } from './metadata'

export function Thumbnail({ file, large = false }: { file: FileRead; large?: boolean }) {
  const thumbs = [...file.thumbnails].sort((a, b) => b.width - a.width)
  const thumb = large ? thumbs[0] : (thumbs.find((t) => t.width <= 400) ?? thumbs[0])
  if (!thumb) return <div className="thumb placeholder" aria-hidden="true">No preview</div>
  return <img className="thumb" src={thumb.url} alt={`Preview of ${file.name}`} loading="lazy" width={thumb.width} height={thumb.height} />
}

export function FavouriteButton({ file }: { file: FileRead }) {
  const client = useQueryClient()
  const toggle = useMutation({
    mutationFn: () => libraryApi.setFavourite(file.id, !file.favourite),
    onSettled: () => client.invalidateQueries({ queryKey: libraryKeys.all }),
  })
  const label = file.favourite ? `Remove ${file.name} from favourites` : `Add ${file.name} to favourites`
  return (
    <button type="button" className={`star ${file.favourite ? 'on' : ''}`} aria-pressed={file.favourite}
      aria-label={label} title={toggle.error ? toggle.error.message : label} onClick={() => toggle.mutate()}>
      {file.favourite ? '★' : '☆'}
    </button>
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
            <p className="muted small">{summary(file.metadata) || formatBytes(file.size)}</p>
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
      <table className="file-table">
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
              <td><Link to={`/files/${file.id}`}>{file.name}</Link> <ParseNote file={file} /><Tags tags={file.tags} /></td>
              <td className="small">{summary(file.metadata)}</td>
              <td>{formatBytes(file.size)}</td>
              <td>{formatDate(file.uploaded_at)}</td>
              <td>{file.print_count ? `${file.print_count}×` : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
