// What only the library pages do with files and tags (reading them is in src/api/files.ts).
import { api, apiHref, unwrap } from '../../api/client'
import type { FileQuery } from '../../api/files'

const file = (id: number) => ({ params: { path: { file_id: id } } })

export const libraryApi = {
  facets: (query: FileQuery) => unwrap(api.GET('/api/v1/files/facets', { params: { query } })),
  history: (id: number) => unwrap(api.GET('/api/v1/files/{file_id}/history', { params: { path: { file_id: id }, query: { limit: 200 } } })),
  update: (id: number, body: { name?: string; notes?: string }) => unwrap(api.PATCH('/api/v1/files/{file_id}', { ...file(id), body })),
  remove: (id: number) => unwrap(api.DELETE('/api/v1/files/{file_id}', file(id))),
  reparse: (id: number) => unwrap(api.POST('/api/v1/files/{file_id}/reparse', file(id))),
  setFavourite: (id: number, favourite: boolean) =>
    unwrap(favourite ? api.PUT('/api/v1/files/{file_id}/favourite', file(id)) : api.DELETE('/api/v1/files/{file_id}/favourite', file(id))),
  setTags: (id: number, tags: string[]) => unwrap(api.PUT('/api/v1/files/{file_id}/tags', { ...file(id), body: { tags } })),
  bulkTags: (body: { file_ids: number[]; add?: string[]; remove?: string[] }) => unwrap(api.POST('/api/v1/tags/bulk', { body })),
  trashMany: (ids: number[]) => unwrap(api.POST('/api/v1/files/trash', { body: { file_ids: ids } })),
  restoreMany: (ids: number[]) => unwrap(api.POST('/api/v1/files/restore', { body: { file_ids: ids } })),
  trash: (limit: number, offset: number) => unwrap(api.GET('/api/v1/files/trash', { params: { query: { limit, offset } } })),
  restore: (id: number) => unwrap(api.POST('/api/v1/files/{file_id}/restore', file(id))),
  emptyTrash: () => unwrap(api.DELETE('/api/v1/files/trash')),
  tags: () => unwrap(api.GET('/api/v1/tags')),
  renameTag: (id: number, name: string) => unwrap(api.PATCH('/api/v1/tags/{tag_id}', { params: { path: { tag_id: id } }, body: { name } })),
  removeTag: (id: number) => unwrap(api.DELETE('/api/v1/tags/{tag_id}', { params: { path: { tag_id: id } } })),
}

/** One zip of the selected files (a browser refuses a burst of separate downloads). */
export const archiveHref = (ids: number[]) =>
  `${apiHref('/api/v1/files/archive', {})}?${ids.map((id) => `file_id=${id}`).join('&')}`
