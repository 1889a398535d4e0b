import type { PrinterStatus } from '../../api/types'

/** The state word for a badge; a printer never heard from yet is "unknown". */
export const stateOf = (status: PrinterStatus | null | undefined): string =>
  status?.state ?? (status?.online === false ? 'offline' : 'unknown')

/** Files PrintStash sends live under printstash/<sha256>/ on the printer: show the name. */
export const baseName = (path: string): string => path.split('/').pop() || path
