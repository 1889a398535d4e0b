// Readable units for metadata and statuses: "1h 2m", "12.3 m / 37 g of PETG", "1.5 MB".

const isNum = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value)

/** Seconds as "1h 2m", "2d 3h", "45s"; the two largest units, rounded to the second. */
export function formatDuration(seconds: unknown): string {
  if (!isNum(seconds) || seconds < 0) return '—'
  const total = Math.round(seconds)
  if (total < 60) return `${total}s`
  const units: [string, number][] = [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]]
  const parts: string[] = []
  let rest = total
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size)
    rest -= count * size
    if (count > 0 || parts.length > 0) parts.push(`${count}${unit}`)
    if (parts.length === 2) break
  }
  return parts.filter((part) => !part.startsWith('0')).join(' ')
}

/** Filament length (given in mm) always in metres, so lengths compare at a glance:
 * "0.85 m", "12.3 m", "250 m" (short ones get a second decimal rather than "0.0 m"). */
export function formatLength(mm: unknown): string {
  if (!isNum(mm) || mm < 0) return '—'
  const metres = mm / 1000
  return `${metres.toFixed(metres < 1 ? 2 : metres < 100 ? 1 : 0)} m`
}

/** Grams as "37 g", "4.2 g" or "1.25 kg". */
export function formatWeight(grams: unknown): string {
  if (!isNum(grams) || grams < 0) return '—'
  if (grams >= 1000) return `${(grams / 1000).toFixed(2)} kg`
  return grams < 10 ? `${grams.toFixed(1)} g` : `${Math.round(grams)} g`
}

/** A slicer's filament cost in the admin's currency ("€0.41"), a bare number without one. */
export function formatCost(amount: unknown, currency?: string | null): string {
  if (!isNum(amount)) return String(amount ?? '—')
  if (!currency) return amount.toFixed(2)
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).format(amount)
  } catch {
    return `${amount.toFixed(2)} ${currency}`  // a code this browser does not know
  }
}

/** "12.3 m / 37 g of PETG" — whichever parts are known. */
export function formatFilament(mm: unknown, grams: unknown, type?: unknown): string {
  const parts = [isNum(mm) ? formatLength(mm) : null, isNum(grams) ? formatWeight(grams) : null].filter(Boolean)
  if (parts.length === 0) return typeof type === 'string' && type ? type : '—'
  const material = typeof type === 'string' && type ? ` of ${type}` : ''
  return parts.join(' / ') + material
}

/** Bytes with binary prefixes shown the way file managers do ("1.5 MB"). */
export function formatBytes(bytes: unknown): string {
  if (!isNum(bytes) || bytes < 0) return '—'
  if (bytes < 1024) return `${bytes} B`
  const units = ['KB', 'MB', 'GB', 'TB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit += 1
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`
}

/** Millimetres such as a nozzle or layer height: "0.4 mm" (trailing zeros dropped). */
export function formatMm(mm: unknown): string {
  if (!isNum(mm)) return '—'
  return `${Number(mm.toFixed(3))} mm`
}

export function formatTemp(celsius: unknown): string {
  return isNum(celsius) ? `${Math.round(celsius)} °C` : '—'
}

/** "212 / 215 °C" for a heater with a target, "24 °C" when it is off. */
export function formatHeater(current: unknown, target: unknown): string {
  if (!isNum(current)) return '—'
  if (isNum(target) && target > 0) return `${Math.round(current)} / ${Math.round(target)} °C`
  return formatTemp(current)
}

/** A 0–1 fraction as "42%". */
export function formatPercent(fraction: unknown): string {
  if (!isNum(fraction)) return '—'
  return `${Math.round(Math.min(Math.max(fraction, 0), 1) * 100)}%`
}

export function formatDate(iso: unknown): string {
  if (typeof iso !== 'string' || !iso) return '—'
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return '—'
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
}

/** "3 min ago" style age of a timestamp relative to `now`. */
export function formatAge(iso: unknown, now: Date = new Date()): string {
  if (typeof iso !== 'string' || !iso) return 'never'
  const then = new Date(iso).getTime()
  if (Number.isNaN(then)) return 'never'
  const seconds = Math.max(0, (now.getTime() - then) / 1000)
  if (seconds < 10) return 'just now'
  return `${formatDuration(seconds < 3600 ? Math.round(seconds) : Math.round(seconds / 60) * 60)} ago`
}

/** snake_case states and keys as words: "klippy_not_ready" -> "Klippy not ready". */
export function humanize(text: unknown): string {
  if (typeof text !== 'string' || !text) return '—'
  const words = text.replace(/_/g, ' ')
  return words.charAt(0).toUpperCase() + words.slice(1)
}
