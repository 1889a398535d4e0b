import { del, get, patch, post } from '../../api/client'
import type { components } from '../../api/schema'
import type { Page, Printer, PrinterCreate, PrintJob } from '../../api/types'

export type PrinterUpdate = components['schemas']['PrinterUpdate']

export type PrinterInput = PrinterCreate

export const printerKeys = {
  all: ['printers'] as const,
  list: ['printers', 'list'] as const,
  one: (id: number) => ['printers', 'one', id] as const,
  history: (id: number) => ['printers', 'history', id] as const,
}

/** Lists may come as {items, total} or a bare array. */
export function items<T>(data: Page<T> | T[] | undefined): T[] {
  if (!data) return []
  return Array.isArray(data) ? data : data.items
}

export const printersApi = {
  list: async () => items(await get<Page<Printer> | Printer[]>('/printers')),
  get: (id: number) => get<Printer>(`/printers/${id}`),
  create: (body: PrinterInput) => post<Printer>('/printers', body),
  update: (id: number, body: PrinterUpdate) => patch<Printer>(`/printers/${id}`, body),
  remove: (id: number) => del(`/printers/${id}`),
  history: async (id: number, limit = 50) => items(await get<Page<PrintJob> | PrintJob[]>(`/printers/${id}/history?limit=${limit}`)),
  print: (id: number, fileId: number) => post<unknown>(`/printers/${id}/print`, { file_id: fileId }),
  action: (id: number, action: 'pause' | 'resume' | 'cancel') => post<unknown>(`/printers/${id}/${action}`),
}
