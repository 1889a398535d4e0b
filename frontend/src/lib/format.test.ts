import { describe, expect, it } from 'vitest'
import {
  formatAge, formatBytes, formatDuration, formatFilament, formatHeater, formatLength, formatMm,
  formatPercent, formatWeight, humanize,
} from './format'

describe('formatDuration', () => {
  it.each([
    [3720, '1h 2m'],
    [3600, '1h'],
    [45, '45s'],
    [0, '0s'],
    [61, '1m 1s'],
    [90061, '1d 1h'],
    [86400 + 59, '1d'],
    [59.6, '1m'],
  ])('%s s -> %s', (seconds, text) => expect(formatDuration(seconds)).toBe(text))

  it('says nothing for missing or negative values', () => {
    expect(formatDuration(undefined)).toBe('—')
    expect(formatDuration(-5)).toBe('—')
    expect(formatDuration('12')).toBe('—')
  })
})

describe('filament', () => {
  it('shows metres and grams of a material', () => {
    expect(formatFilament(12_345.6, 36.8, 'PETG')).toBe('12.3 m / 37 g of PETG')
  })
  it('shows what is known', () => {
    expect(formatFilament(850, undefined, 'PLA')).toBe('0.85 m of PLA')
    expect(formatFilament(undefined, undefined, 'PLA')).toBe('PLA')
    expect(formatFilament(undefined, undefined)).toBe('—')
  })
  it('scales lengths and weights', () => {
    expect(formatLength(999.4)).toBe('1.00 m')
    expect(formatLength(263.42)).toBe('0.26 m')
    expect(formatLength(1000)).toBe('1.0 m')
    expect(formatLength(250_000)).toBe('250 m')
    expect(formatWeight(4.23)).toBe('4.2 g')
    expect(formatWeight(1250)).toBe('1.25 kg')
  })
})

describe('other units', () => {
  it('formats bytes', () => {
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(1536)).toBe('1.5 KB')
    expect(formatBytes(2048 * 1024 * 1024)).toBe('2.0 GB')
  })
  it('formats millimetres without trailing zeros', () => {
    expect(formatMm(0.4)).toBe('0.4 mm')
    expect(formatMm(0.2000001)).toBe('0.2 mm')
  })
  it('formats heaters, percentages and words', () => {
    expect(formatHeater(212.4, 215)).toBe('212 / 215 °C')
    expect(formatHeater(24.2, 0)).toBe('24 °C')
    expect(formatPercent(0.424)).toBe('42%')
    expect(formatPercent(1.7)).toBe('100%')
    expect(humanize('klippy_not_ready')).toBe('Klippy not ready')
  })
  it('formats ages', () => {
    const now = new Date('2026-01-01T12:00:00Z')
    expect(formatAge('2026-01-01T11:57:00Z', now)).toBe('3m ago')
    expect(formatAge('2026-01-01T11:59:58Z', now)).toBe('just now')
    expect(formatAge(null, now)).toBe('never')
  })
})
