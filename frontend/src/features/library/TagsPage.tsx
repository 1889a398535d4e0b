import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState, type FormEvent } from 'react'
import { Link } from 'react-router'
import { fileKeys } from '../../api/files'
import type { components } from '../../api/schema'
import { ErrorMessage, Loading } from '../../components/Status'
import { libraryApi } from './api'

type TagRead = components['schemas']['TagRead']
const tagsKey = ['files', 'tags'] as const

function TagRow({ tag }: { tag: TagRead }) {
  const client = useQueryClient()
  const [name, setName] = useState(tag.name)
  const done = () => client.invalidateQueries({ queryKey: fileKeys.all })
  const rename = useMutation({ mutationFn: () => libraryApi.renameTag(tag.id, name.trim()), onSettled: done })
  const remove = useMutation({ mutationFn: () => libraryApi.removeTag(tag.id), onSettled: done })
  const submit = (event: FormEvent) => {
    event.preventDefault()
    rename.mutate()
  }
  return (
    <tr>
      <td>
        <form onSubmit={submit} className="inline">
          <label htmlFor={`tag-${tag.id}`} className="sr-only">Name of tag {tag.name}</label>
          <input id={`tag-${tag.id}`} value={name} onChange={(e) => setName(e.target.value)} required />
          <button type="submit" disabled={rename.isPending || name.trim() === tag.name}>Rename</button>
        </form>
        <ErrorMessage error={rename.error ?? remove.error} />
      </td>
      <td><Link to={`/?tag=${encodeURIComponent(tag.name)}`}>{tag.file_count} {tag.file_count === 1 ? 'file' : 'files'}</Link></td>
      <td><button type="button" className="danger" aria-label={`Delete tag ${tag.name}`}
        onClick={() => { if (window.confirm(`Delete the tag "${tag.name}"? The files stay.`)) remove.mutate() }}>Delete</button></td>
    </tr>
  )
}

/** Every tag with how many files carry it: rename or delete across the library. */
export function TagsPage() {
  const tags = useQuery({ queryKey: tagsKey, queryFn: libraryApi.tags })
  return (
    <div className="stack">
      <p><Link to="/">← Library</Link></p>
      <h1>Tags</h1>
      <ErrorMessage error={tags.error} title="Could not load tags" />
      {tags.isPending ? <Loading what="Loading tags" /> : null}
      {tags.data?.items.length === 0 ? <p className="empty">No tags yet. Add them on a file's page, or to many files at once in the list view.</p> : null}
      {tags.data?.items.length ? (
        <div className="table-wrap">
          <table aria-label="Tags" className="responsive">
            <thead><tr><th scope="col">Tag</th><th scope="col">Files</th><th scope="col"><span className="sr-only">Delete</span></th></tr></thead>
            <tbody>{tags.data.items.map((tag) => <TagRow key={`${tag.id}-${tag.name}`} tag={tag} />)}</tbody>
          </table>
        </div>
      ) : null}
    </div>
  )
}
