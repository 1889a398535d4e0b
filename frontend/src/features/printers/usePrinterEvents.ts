import { useQueryClient, type QueryClient } from '@tanstack/react-query'
import { useEffect, useState } from 'react'
import { apiHref } from '../../api/client'
import { printerKeys } from '../../api/printers'
import type { Printer, PrinterStatus } from '../../api/types'

type StatusEvent = { printer_id?: number; status?: PrinterStatus }

/** Merge one pushed status into the cached printer list and detail. */
export function applyStatusEvent(client: QueryClient, event: StatusEvent): boolean {
  const id = event.printer_id
  const status = event.status
  if (typeof id !== 'number' || !status) return false
  const merge = (printer: Printer): Printer => (printer.id === id ? { ...printer, status: { ...printer.status, ...status } } : printer)
  client.setQueryData<Printer[]>(printerKeys.list, (list) => list?.map(merge))
  client.setQueryData<Printer>(printerKeys.one(id), (printer) => (printer ? merge(printer) : printer))
  return true
}

// `status` carries {printer_id, status}; `removed` means a printer was deleted.
const EVENT_NAMES = ['message', 'status', 'removed']

/** Live printer status from the api's Server-Sent Events stream (reconnects on its own). */
export function usePrinterEvents(): 'connecting' | 'live' | 'reconnecting' {
  const client = useQueryClient()
  const [state, setState] = useState<'connecting' | 'live' | 'reconnecting'>('connecting')
  useEffect(() => {
    const source = new EventSource(apiHref('/api/v1/printers/events', {}), { withCredentials: true })
    const onEvent = (message: MessageEvent<string>) => {
      try {
        const data = JSON.parse(message.data) as StatusEvent | StatusEvent[]
        const events = Array.isArray(data) ? data : [data]
        const applied = events.map((event) => applyStatusEvent(client, event)).every(Boolean)
        if (!applied) void client.invalidateQueries({ queryKey: printerKeys.all })
      } catch {
        void client.invalidateQueries({ queryKey: printerKeys.all })
      }
    }
    source.onopen = () => setState('live')
    source.onerror = () => setState('reconnecting')
    for (const name of EVENT_NAMES) source.addEventListener(name, onEvent as EventListener)
    return () => source.close()
  }, [client])
  return state
}
