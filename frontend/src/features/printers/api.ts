// What only the printers pages do (listing and reading printers is in src/api/printers.ts).
import { api, unwrap } from '../../api/client'
import type { components } from '../../api/schema'

export type PrinterUpdate = components['schemas']['PrinterUpdate']
export type PrinterCreate = components['schemas']['PrinterCreate']
export type PrinterCheck = components['schemas']['PrinterCheck']
export type PrinterFound = components['schemas']['PrinterFound']
export type Temperatures = components['schemas']['Temperatures']
export type SensorRead = components['schemas']['SensorRead']
export type WebcamRead = components['schemas']['WebcamRead']
export type PrinterAction = 'pause' | 'resume' | 'cancel'

const printer = (id: number) => ({ params: { path: { printer_id: id } } })

export const printerAdminApi = {
  create: (body: PrinterCreate) => unwrap(api.POST('/api/v1/printers', { body })),
  check: (body: PrinterCheck) => unwrap(api.POST('/api/v1/printers/check', { body })),
  update: (id: number, body: PrinterUpdate) => unwrap(api.PATCH('/api/v1/printers/{printer_id}', { ...printer(id), body })),
  remove: (id: number) => unwrap(api.DELETE('/api/v1/printers/{printer_id}', printer(id))),
  history: (id: number, limit = 50) =>
    unwrap(api.GET('/api/v1/printers/{printer_id}/history', { params: { path: { printer_id: id }, query: { limit } } })),
  temperatures: (id: number) => unwrap(api.GET('/api/v1/printers/{printer_id}/temperatures', printer(id))),
  webcams: async (id: number) => (await unwrap(api.GET('/api/v1/printers/{printer_id}/webcams', printer(id)))).items,
  action: (id: number, action: PrinterAction) => {
    if (action === 'pause') return unwrap(api.POST('/api/v1/printers/{printer_id}/pause', printer(id)))
    if (action === 'resume') return unwrap(api.POST('/api/v1/printers/{printer_id}/resume', printer(id)))
    return unwrap(api.POST('/api/v1/printers/{printer_id}/cancel', printer(id)))
  },
}
