import { useQueryClient, type QueryClient } from '@tanstack/react-query'
import { useEffect, useState } from 'react'
import { apiHref } from '../../api/client'
import { printerKeys } from '../../api/printers'
import type { Printer, PrinterStatus } from '../../api/types'

type StatusEvent = { printer_id?: number; status?: PrinterStatus }
type SeenEntry = { printer_id?: number; last_seen?: string }

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

/** Move the cached printers' last contact forward (a `seen` event: {printers: [{printer_id, last_seen}]});
 *  an older or unreadable time is ignored, so a late event never turns "last contact" back. */
export function applySeenEvent(client: QueryClient, entries: SeenEntry[]): boolean {
  const times = new Map<number, string>()
  for (const { printer_id: id, last_seen: at } of entries) {
    if (typeof id !== 'number' || typeof at !== 'string' || Number.isNaN(Date.parse(at))) return false
    times.set(id, at)
  }
  const merge = (printer: Printer): Printer => {
    const at = times.get(printer.id)
    const before = printer.status?.last_seen
    if (at === undefined || !printer.status || (before && Date.parse(before) >= Date.parse(at))) return printer
    return { ...printer, status: { ...printer.status, last_seen: at } }
  }
  client.setQueryData<Printer[]>(printerKeys.list, (list) => list?.map(merge))
  for (const id of times.keys()) client.setQueryData<Printer>(printerKeys.one(id), (printer) => (printer ? merge(printer) : printer))
  return true
}

// `status` carries {printer_id, status}; `removed` means a printer was deleted; `seen` (its
// own listener) carries the printers whose last contact moved.
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
    const onSeen = (message: MessageEvent<string>) => {
      try {
        const data = JSON.parse(message.data) as { printers?: unknown }
        if (Array.isArray(data?.printers) && applySeenEvent(client, data.printers as SeenEntry[])) return
      } catch {
        // not JSON: refetch below
      }
      void client.invalidateQueries({ queryKey: printerKeys.all })
    }
    source.onopen = () => setState('live')
    source.onerror = () => setState('reconnecting')
    for (const name of EVENT_NAMES) source.addEventListener(name, onEvent as EventListener)
    source.addEventListener('seen', onSeen as EventListener)
    return () => source.close()
  }, [client])
  return state
}
