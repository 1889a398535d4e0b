import { describe, expect, it } from 'vitest'
import { ordered } from './query'
import { metadataRows, summary } from './metadata'

const meta = {
  slicer: 'PrusaSlicer',
  slicer_version: '2.5.0',
  estimated_time: 3725,
  filament_total: 12345.6,
  filament_weight_total: 36.8,
  filament_type: 'PETG',
  nozzle_diameter: 0.4,
  layer_height: 0.2,
  first_layer_bed_temp: 80,
  infill_pattern: 'gyroid',
  infill: 20,
  max_z: 20,
  extruder_colors: [],
  estimated_time_silent: 1237,
}

describe('metadata rows', () => {
  it('shows every field in readable units', () => {
    const rows = Object.fromEntries(metadataRows(meta).map((row) => [row.label, row.value]))
    expect(rows['Slicer']).toBe('PrusaSlicer 2.5.0')
    expect(rows['Print time']).toBe('1h 2m')
    expect(rows['Filament']).toBe('12.3 m / 37 g of PETG')
    expect(rows['Nozzle']).toBe('0.4 mm')
    expect(rows['First layer bed temperature']).toBe('80 °C')
    expect(rows['infill pattern']).toBe('gyroid')
    expect(rows).not.toHaveProperty('slicer version')
    expect(rows['Infill']).toBe('20%')
    expect(rows['Highest Z']).toBe('20 mm')
    expect(rows['Print time (silent mode)']).toBe('20m 37s')
    expect(rows).not.toHaveProperty('Extruder colours') // empty lists are left out
  })
  it('summarises a card in one line', () => {
    expect(summary(meta)).toBe('1h 2m · 12.3 m / 37 g of PETG · 0.4 mm nozzle · 0.2 mm layers')
    expect(summary({})).toBe('')
  })
})

describe('ordered', () => {
  it('sorts nozzle sizes by size and leaves words in the api order', () => {
    expect(ordered([{ value: 0.6, count: 1 }, { value: 0.25, count: 4 }, { value: 0.4, count: 9 }]).map((v) => v.value)).toEqual([0.25, 0.4, 0.6])
    expect(ordered([{ value: 'PLA', count: 9 }, { value: 'ABS', count: 1 }]).map((v) => v.value)).toEqual(['PLA', 'ABS'])
  })
})
