// The layer index of a sliced file's plate and one layer's segments (docs/api.md). A layer is
// immutable per file content and sent with a long max-age, so the browser's cache keeps it.
// A model's mesh is its stored file, read as a stream so the viewer can show its progress.
import { api, unwrap } from '../../api/client'

export const previewKeys = {
  index: (id: number, plate: number) => ['files', 'layers', id, plate] as const,
}

export const previewApi = {
  index: (id: number, plate: number) =>
    unwrap(api.GET('/api/v1/files/{file_id}/layers', { params: { path: { file_id: id }, query: { plate } } })),
  layer: (id: number, plate: number, index: number, signal: AbortSignal) =>
    unwrap(api.GET('/api/v1/files/{file_id}/layers/{index}', {
      params: { path: { file_id: id, index }, query: { plate } }, parseAs: 'arrayBuffer', signal,
      headers: { Accept: 'application/octet-stream' },
    })),
  model: (id: number, signal: AbortSignal) =>
    unwrap(api.GET('/api/v1/files/{file_id}/download', {
      params: { path: { file_id: id } }, parseAs: 'stream', signal, headers: { Accept: '*/*' },
    })),
}
