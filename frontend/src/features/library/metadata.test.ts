import { describe, expect, it } from 'vitest'
import { ordered } from './query'
import { colours, glance, metadataRows, modelRows, modelSummary, summary } from './metadata'

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

describe('glance', () => {
  it('groups what a person needs before printing', () => {
    const rows = glance({ ...meta, extruder_temp: 240, first_layer_extr_temp: 235, bed_temp: 80, layer_count: 100, objects: ['a', 'b'], filament_colors: ['#FF8000'] })
    expect(Object.fromEntries(rows.map((row) => [row.label, row.value]))).toEqual({
      Slicer: 'PrusaSlicer 2.5.0',
      'Print time': '1h 2m',
      Filament: '12.3 m / 37 g of PETG',
      'Nozzle and layers': '0.4 mm nozzle · 0.2 mm layer height · 100 layers',
      Temperatures: 'nozzle 240 °C (first layer 235 °C) · bed 80 °C',
      Objects: '2: a, b',
    })
    expect(colours({ filament_colors: ['#FF8000', 'red', ''] })).toEqual(['#FF8000'])
  })
  it('says the filament cost in the admin\'s currency, a bare number without one', () => {
    const cost = { ...meta, filament_cost: 0.9 }
    expect(glance(cost, 'EUR').find((row) => row.label === 'Filament')?.value).toBe('12.3 m / 37 g of PETG · costs €0.90')
    expect(glance(cost).find((row) => row.label === 'Filament')?.value).toBe('12.3 m / 37 g of PETG · costs 0.90')
    expect(metadataRows(cost, 'USD').find((row) => row.label === 'Filament cost')?.value).toBe('$0.90')
    expect(metadataRows(cost, 'XYZ').find((row) => row.label === 'Filament cost')?.value).toMatch(/0\.90/)
  })
  it('drops a per-extruder list that repeats the single value', () => {
    const labels = metadataRows({ filament_name: 'Prusament PLA', filament_names: ['Prusament PLA'], filament_type: 'PLA', filament_types: ['PLA', 'PETG'] }).map((row) => row.label)
    expect(labels).toEqual(['Material', 'Materials per extruder', 'Filament name'])
  })
})

describe('model facts', () => {
  const model = { triangles: 12345, size_mm: [36, 20, 120], volume_mm3: 20000, watertight: false }
  it('reads as size, volume, triangles and whether the mesh is closed', () => {
    const rows = Object.fromEntries(modelRows(model).map((row) => [row.label, row.value]))
    expect(rows).toEqual({ Size: '36 × 20 × 120 mm', Volume: '20 cm³', Triangles: '12,345', Watertight: 'no: the mesh has open edges' })
    expect(modelRows({ ...model, volume_mm3: 128, watertight: true })[1].value).toBe('128 mm³')
  })
  it('summarises a model card in one line', () => {
    expect(modelSummary(model)).toBe('36 × 20 × 120 mm · 12,345 triangles')
  })
})
