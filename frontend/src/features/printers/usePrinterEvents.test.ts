import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { renderHook } from '@testing-library/react'
import { createElement, type ReactNode } from 'react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { printerKeys } from '../../api/printers'
import type { Printer } from '../../api/types'
import { applySeenEvent, applyStatusEvent, usePrinterEvents } from './usePrinterEvents'

const SEEN_BEFORE = '2026-12-03T16:00:00Z'
const SEEN_NOW = '2026-12-03T16:00:05.250000Z'

function cached(): QueryClient {
  const client = new QueryClient()
  const printer = { id: 3, name: 'Voron', provider: 'moonraker', url: 'http://x', status: { online: true, state: 'standby', progress: 0, last_seen: SEEN_BEFORE } } as Printer
  client.setQueryData(printerKeys.list, [printer, { ...printer, id: 4, name: 'Prusa' }])
  client.setQueryData(printerKeys.one(3), printer)
  return client
}

const lastSeen = (client: QueryClient) => [
  client.getQueryData<Printer[]>(printerKeys.list)?.map((p) => p.status?.last_seen),
  client.getQueryData<Printer>(printerKeys.one(3))?.status?.last_seen,
]

describe('applyStatusEvent', () => {
  it('merges a pushed status into the cached list and detail', () => {
    const client = cached()
    expect(applyStatusEvent(client, { printer_id: 3, status: { online: true, state: 'printing', progress: 0.1 } })).toBe(true)
    expect(client.getQueryData<Printer[]>(printerKeys.list)?.[0].status?.state).toBe('printing')
    expect(client.getQueryData<Printer>(printerKeys.one(3))?.status?.progress).toBe(0.1)
    expect(applyStatusEvent(client, { printer_id: 3 })).toBe(false)
  })
})

describe('applySeenEvent', () => {
  it('moves the cached last contact forward, only of the printers named', () => {
    const client = cached()
    expect(applySeenEvent(client, [{ printer_id: 3, last_seen: SEEN_NOW }])).toBe(true)
    expect(lastSeen(client)).toEqual([[SEEN_NOW, SEEN_BEFORE], SEEN_NOW])
    expect(client.getQueryData<Printer>(printerKeys.one(3))?.status?.state).toBe('standby')
  })

  it('never turns the last contact back, and refuses an entry it cannot read', () => {
    const client = cached()
    expect(applySeenEvent(client, [{ printer_id: 3, last_seen: '2026-12-03T15:59:00Z' }])).toBe(true)
    expect(lastSeen(client)).toEqual([[SEEN_BEFORE, SEEN_BEFORE], SEEN_BEFORE])
    expect(applySeenEvent(client, [{ printer_id: 3, last_seen: 'soon' }])).toBe(false)
    expect(applySeenEvent(client, [{ last_seen: SEEN_NOW }])).toBe(false)
    expect(lastSeen(client)).toEqual([[SEEN_BEFORE, SEEN_BEFORE], SEEN_BEFORE])
  })
})

// jsdom has no EventSource: this stand-in records the listeners the hook adds, so a test can
// deliver an event as the browser would.
class RecordingSource {
  static last: RecordingSource | undefined
  listeners = new Map<string, EventListener>()
  onopen: (() => void) | null = null
  onerror: (() => void) | null = null
  constructor() {
    RecordingSource.last = this
  }
  addEventListener(name: string, listener: EventListener) {
    this.listeners.set(name, listener)
  }
  close() {}
}

describe('usePrinterEvents', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('applies a `seen` event from the stream to the cached printers', () => {
    vi.stubGlobal('EventSource', RecordingSource)
    const client = cached()
    const wrapper = ({ children }: { children: ReactNode }) => createElement(QueryClientProvider, { client }, children)
    renderHook(() => usePrinterEvents(), { wrapper })
    const listener = RecordingSource.last?.listeners.get('seen')
    expect(listener).toBeDefined()
    listener?.(new MessageEvent('seen', { data: JSON.stringify({ printers: [{ printer_id: 3, last_seen: SEEN_NOW }] }) }))
    expect(lastSeen(client)).toEqual([[SEEN_NOW, SEEN_BEFORE], SEEN_NOW])
  })
})
