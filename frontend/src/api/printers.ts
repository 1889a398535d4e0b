// Printers as several features read them: the printers pages and "send to printer" on a file.
import { api, unwrap } from './client'

export const printerKeys = {
  all: ['printers'] as const,
  list: ['printers', 'list'] as const,
  one: (id: number) => ['printers', 'one', id] as const,
  history: (id: number) => ['printers', 'history', id] as const,
}

export const printersApi = {
  list: async () => (await unwrap(api.GET('/api/v1/printers'))).items,
  get: (id: number) => unwrap(api.GET('/api/v1/printers/{printer_id}', { params: { path: { printer_id: id } } })),
  // plate: which plate of a sliced package to print (1 for a plain G-code, the only plate)
  print: (id: number, fileId: number, plate = 1) =>
    unwrap(api.POST('/api/v1/printers/{printer_id}/print', { params: { path: { printer_id: id } }, body: { file_id: fileId, plate } })),
}
