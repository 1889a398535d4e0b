import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { Link } from 'react-router'
import { fileKeys } from '../../api/files'
import { useIsAdmin } from '../../api/session'
import { Pagination } from '../../components/Pagination'
import { ErrorMessage, Loading } from '../../components/Status'
import { formatBytes, formatDate } from '../../lib/format'
import { libraryApi } from './api'

const LIMIT = 50
const trashKey = (offset: number) => ['files', 'trash', offset] as const

export function TrashPage() {
  const client = useQueryClient()
  const isAdmin = useIsAdmin()
  const [offset, setOffset] = useState(0)
  const trash = useQuery({
    queryKey: trashKey(offset),
    queryFn: () => libraryApi.trash(LIMIT, offset),
    placeholderData: keepPreviousData,
  })
  const refresh = () => client.invalidateQueries({ queryKey: fileKeys.all })
  const restore = useMutation({ mutationFn: libraryApi.restore, onSettled: refresh })
  const empty = useMutation({ mutationFn: libraryApi.emptyTrash, onSettled: refresh })
  return (
    <div className="stack">
      <p><Link to="/">← Library</Link></p>
      <div className="page-head">
        <h1>Trash</h1>
        {isAdmin && trash.data?.total ? (
          <button type="button" className="danger" disabled={empty.isPending}
            onClick={() => { if (window.confirm('Delete every file in the trash for good?')) empty.mutate() }}>Empty trash</button>
        ) : null}
      </div>
      <p className="muted">Deleted files stay here until the retention period ends; restore them any time before.</p>
      <ErrorMessage error={trash.error ?? restore.error ?? empty.error} title="Trash" />
      {trash.isPending ? <Loading what="Loading the trash" /> : null}
      {trash.data?.total === 0 ? <p className="empty">The trash is empty.</p> : null}
      {trash.data?.items.length ? (
        <div className="table-wrap">
          <table aria-label="Deleted files" className="responsive">
            <thead><tr><th scope="col">Name</th><th scope="col">Size</th><th scope="col">Deleted</th><th scope="col"><span className="sr-only">Restore</span></th></tr></thead>
            <tbody>
              {trash.data.items.map((file) => (
                <tr key={file.id}>
                  <td className="break">{file.name}</td>
                  <td data-label="Size">{formatBytes(file.size)}</td>
                  <td data-label="Deleted">{formatDate(file.deleted_at)}</td>
                  <td><button type="button" aria-label={`Restore ${file.name}`} onClick={() => restore.mutate(file.id)}>Restore</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {trash.data ? <Pagination total={trash.data.total} limit={LIMIT} offset={offset} onOffset={setOffset} /> : null}
    </div>
  )
}
