import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useEffect, useRef, useState, type FormEvent } from 'react'
import { downloadUrl, fileKeys } from '../../api/files'
import { ErrorMessage, Notice } from '../../components/Status'
import { archiveHref, libraryApi } from './api'

const files = (n: number) => `${n} ${n === 1 ? 'file' : 'files'}`

/** What can be done to every selected file at once: trash, download, tag. */
export function BulkActions({ ids, onDone, onTrashed }: { ids: number[]; onDone: () => void; onTrashed: (ids: number[]) => void }) {
  const client = useQueryClient()
  const [tag, setTag] = useState('')
  const tags = useMutation({
    mutationFn: (mode: 'add' | 'remove') => libraryApi.bulkTags({ file_ids: ids, [mode]: [tag.trim()] }),
    onSuccess: async () => {
      setTag('')
      await client.invalidateQueries({ queryKey: fileKeys.all })
    },
  })
  const trash = useMutation({
    mutationFn: () => libraryApi.trashMany(ids),
    onSuccess: async () => {
      onTrashed(ids)
      await client.invalidateQueries({ queryKey: fileKeys.all })
    },
  })
  const submit = (event: FormEvent) => {
    event.preventDefault()
    tags.mutate('add')
  }
  const busy = tags.isPending || trash.isPending
  return (
    <form className="panel inline bulk" onSubmit={submit} aria-label="Selected files">
      <strong>{ids.length} selected</strong>
      <button type="button" className="danger" disabled={busy} onClick={() => trash.mutate()}>Move to trash</button>
      <a className="button" href={ids.length === 1 ? downloadUrl(ids[0]) : archiveHref(ids)} download>
        {ids.length === 1 ? 'Download' : 'Download as zip'}
      </a>
      <label htmlFor="bulk-tag" className="sr-only">Tag for the selected files</label>
      <input id="bulk-tag" placeholder="tag" value={tag} onChange={(e) => setTag(e.target.value)} />
      <button type="submit" disabled={busy || !tag.trim()}>Add tag</button>
      <button type="button" disabled={busy || !tag.trim()} onClick={() => tags.mutate('remove')}>Remove tag</button>
      <button type="button" className="link" onClick={onDone}>Clear selection</button>
      <ErrorMessage error={tags.error} title="Tags not changed" />
      <ErrorMessage error={trash.error} title="Not moved to the trash" />
      {tags.isSuccess ? <Notice>{`${files(tags.data.files)}: ${tags.data.added} tags added, ${tags.data.removed} removed.`}</Notice> : null}
    </form>
  )
}

/** "Moved 3 files to the trash. Undo": restores exactly those files through the api. The
 * button that moved them is gone with the selection, so focus lands on Undo. */
export function UndoTrash({ ids, onClose }: { ids: number[]; onClose: () => void }) {
  const client = useQueryClient()
  const undoButton = useRef<HTMLButtonElement>(null)
  const undo = useMutation({
    mutationFn: () => libraryApi.restoreMany(ids),
    onSuccess: () => client.invalidateQueries({ queryKey: fileKeys.all }),
  })
  useEffect(() => undoButton.current?.focus(), [ids])
  return (
    <div className="toast panel" role="status" aria-label="Trash">
      {undo.isSuccess ? <span>{`Restored ${files(undo.data.files)}.`}</span> : (
        <>
          <span>{`Moved ${files(ids.length)} to the trash.`}</span>
          <button type="button" ref={undoButton} className="primary" disabled={undo.isPending} onClick={() => undo.mutate()}>Undo</button>
        </>
      )}
      <button type="button" className="link" aria-label="Dismiss" onClick={onClose}>×</button>
      <ErrorMessage error={undo.error} title="Not restored" />
    </div>
  )
}
