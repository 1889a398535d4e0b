import { del, get, patch, post, put, query } from '../../api/client'
import type { Facets, FileRead, Page, PrintJob } from '../../api/types'

export type FileQuery = Record<string, string | number | undefined>

export const libraryKeys = {
  all: ['files'] as const,
  list: (params: FileQuery) => ['files', 'list', params] as const,
  facets: ['files', 'facets'] as const,
  file: (id: number) => ['files', 'one', id] as const,
  history: (id: number) => ['files', 'history', id] as const,
}

type RawFacet = { value: string | number | null; count: number } | [string | number, number]

/** Facets as {field: [{value, count}]} whatever list/dict form the api chose. */
export function normaliseFacets(raw: unknown): Facets {
  const facets: Facets = {}
  if (!raw || typeof raw !== 'object') return facets
  for (const [field, values] of Object.entries(raw as Record<string, unknown>)) {
    if (Array.isArray(values)) {
      facets[field] = (values as RawFacet[])
        .map((entry) => (Array.isArray(entry) ? { value: entry[0], count: entry[1] } : entry))
        .filter((entry): entry is { value: string | number; count: number } => entry.value !== null && entry.value !== '')
    } else if (values && typeof values === 'object') {
      facets[field] = Object.entries(values as Record<string, number>).map(([value, count]) => ({ value, count }))
    }
  }
  return facets
}

export const libraryApi = {
  list: (params: FileQuery) => get<Page<FileRead>>(`/files${query(params)}`),
  facets: async () => normaliseFacets(await get<unknown>('/files/facets')),
  get: (id: number) => get<FileRead>(`/files/${id}`),
  update: (id: number, body: { name?: string; notes?: string }) => patch<FileRead>(`/files/${id}`, body),
  remove: (id: number) => del(`/files/${id}`),
  reparse: (id: number) => post<unknown>(`/files/${id}/reparse`),
  setFavourite: (id: number, favourite: boolean) =>
    favourite ? put<unknown>(`/files/${id}/favourite`) : del(`/files/${id}/favourite`),
  setTags: (id: number, tags: string[]) => put<FileRead>(`/files/${id}/tags`, { tags }),
  history: async (id: number, limit = 200) => (await get<Page<PrintJob>>(`/files/${id}/history?limit=${limit}`)).items,
}

export const downloadUrl = (id: number) => `/api/v1/files/${id}/download`
