// Library files as several features read them: the library pages, the printer page (the file
// being printed) and the upload tray (which refreshes them).
import { api, apiHref, unwrap } from './client'
import type { paths } from './schema'

/** The kinds that are models (meshes), not sliced G-code: no toolpaths, a 3D view of the mesh. */
export const MODEL_KINDS = ['stl', 'obj', '3mf']

export type FileQuery = NonNullable<paths['/api/v1/files']['get']['parameters']['query']>

export const fileKeys = {
  all: ['files'] as const,
  list: (params: FileQuery) => ['files', 'list', params] as const,
  facets: (params: FileQuery) => ['files', 'facets', params] as const,
  one: (id: number) => ['files', 'one', id] as const,
  history: (id: number) => ['files', 'history', id] as const,
}

export const filesApi = {
  list: (query: FileQuery) => unwrap(api.GET('/api/v1/files', { params: { query } })),
  get: (id: number) => unwrap(api.GET('/api/v1/files/{file_id}', { params: { path: { file_id: id } } })),
}

export const downloadUrl = (id: number) => apiHref('/api/v1/files/{file_id}/download', { file_id: id })
