import { QueryClient } from '@tanstack/react-query'
import { describe, expect, it } from 'vitest'
import { printerKeys } from '../../api/printers'
import type { Printer } from '../../api/types'
import { applyStatusEvent } from './usePrinterEvents'

describe('applyStatusEvent', () => {
  it('merges a pushed status into the cached list and detail', () => {
    const client = new QueryClient()
    const printer = { id: 3, name: 'Voron', provider: 'moonraker', url: 'http://x', status: { online: true, state: 'standby', progress: 0 } } as Printer
    client.setQueryData(printerKeys.list, [printer])
    client.setQueryData(printerKeys.one(3), printer)
    expect(applyStatusEvent(client, { printer_id: 3, status: { online: true, state: 'printing', progress: 0.1 } })).toBe(true)
    expect(client.getQueryData<Printer[]>(printerKeys.list)?.[0].status?.state).toBe('printing')
    expect(client.getQueryData<Printer>(printerKeys.one(3))?.status?.progress).toBe(0.1)
    expect(applyStatusEvent(client, { printer_id: 3 })).toBe(false)
  })
})
