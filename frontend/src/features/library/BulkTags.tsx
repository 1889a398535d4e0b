import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useState, type FormEvent } from 'react'
import { fileKeys } from '../../api/files'
import { ErrorMessage, Notice } from '../../components/Status'
import { libraryApi } from './api'

/** Tag or untag every selected file at once (list view). */
export function BulkTags({ ids, onDone }: { ids: number[]; onDone: () => void }) {
  const client = useQueryClient()
  const [tag, setTag] = useState('')
  const apply = useMutation({
    mutationFn: (mode: 'add' | 'remove') => libraryApi.bulkTags({ file_ids: ids, [mode]: [tag.trim()] }),
    onSuccess: async () => {
      setTag('')
      onDone()
      await client.invalidateQueries({ queryKey: fileKeys.all })
    },
  })
  const submit = (event: FormEvent) => {
    event.preventDefault()
    apply.mutate('add')
  }
  return (
    <form className="panel inline bulk" onSubmit={submit} aria-label="Tag selected files">
      <strong>{ids.length} selected</strong>
      <label htmlFor="bulk-tag" className="sr-only">Tag for the selected files</label>
      <input id="bulk-tag" placeholder="tag" value={tag} onChange={(e) => setTag(e.target.value)} required />
      <button type="submit" className="primary" disabled={apply.isPending || !tag.trim()}>Add tag</button>
      <button type="button" disabled={apply.isPending || !tag.trim()} onClick={() => apply.mutate('remove')}>Remove tag</button>
      <button type="button" className="link" onClick={onDone}>Clear selection</button>
      <ErrorMessage error={apply.error} title="Tags not changed" />
      {apply.isSuccess ? <Notice>{`${apply.data.files} files: ${apply.data.added} tags added, ${apply.data.removed} removed.`}</Notice> : null}
    </form>
  )
}
