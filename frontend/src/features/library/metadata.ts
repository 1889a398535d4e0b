// Every metadata field the api reports (Moonraker's names plus ours), in readable units.
import { formatCost, formatDuration, formatFilament, formatMm, formatTemp, formatWeight } from '../../lib/format'
import type { Metadata, ModelRead } from '../../api/types'

type Field = { key: string; label: string; format?: (value: unknown, meta: Metadata, currency?: string | null) => string }

const list = (value: unknown) => (Array.isArray(value) ? value.join(', ') : String(value))
const temps = (value: unknown) => (Array.isArray(value) ? value.map(formatTemp).join(', ') : formatTemp(value))

export const FIELDS: Field[] = [
  { key: 'slicer', label: 'Slicer', format: (v, m) => [v, m.slicer_version].filter(Boolean).join(' ') },
  { key: 'printer_model', label: 'Printer model' },
  { key: 'estimated_time', label: 'Print time', format: formatDuration },
  { key: 'estimated_time_silent', label: 'Print time (silent mode)', format: formatDuration },
  { key: 'filament_total', label: 'Filament', format: (v, m) => formatFilament(v, m.filament_weight_total, m.filament_type) },
  { key: 'filament_type', label: 'Material' },
  { key: 'filament_types', label: 'Materials per extruder', format: list },
  { key: 'filament_name', label: 'Filament name' },
  { key: 'filament_names', label: 'Filament names', format: list },
  { key: 'filament_weights', label: 'Filament per extruder', format: (v) => (Array.isArray(v) ? v.map(formatWeight).join(', ') : formatWeight(v)) },
  { key: 'filament_diameter', label: 'Filament diameter', format: formatMm },
  { key: 'filament_cost', label: 'Filament cost', format: (v, _m, currency) => formatCost(v, currency) },
  { key: 'nozzle_diameter', label: 'Nozzle', format: formatMm },
  { key: 'layer_height', label: 'Layer height', format: formatMm },
  { key: 'first_layer_height', label: 'First layer height', format: formatMm },
  { key: 'object_height', label: 'Object height', format: formatMm },
  { key: 'max_z', label: 'Highest Z', format: formatMm },
  { key: 'layer_count', label: 'Layers' },
  { key: 'infill', label: 'Infill', format: (v) => (typeof v === 'number' ? `${Number(v.toFixed(1))}%` : String(v)) },
  { key: 'extruder_temp', label: 'Nozzle temperature', format: formatTemp },
  { key: 'first_layer_extr_temp', label: 'First layer nozzle temperature', format: formatTemp },
  { key: 'bed_temp', label: 'Bed temperature', format: formatTemp },
  { key: 'first_layer_bed_temp', label: 'First layer bed temperature', format: formatTemp },
  { key: 'chamber_temp', label: 'Chamber temperature', format: formatTemp },
  { key: 'filament_temps', label: 'Filament temperatures', format: temps },
  { key: 'filament_colors', label: 'Filament colours', format: list },
  { key: 'extruder_colors', label: 'Extruder colours', format: list },
  { key: 'mmu_print', label: 'Multi-material print', format: (v) => (v ? 'yes' : 'no') },
  { key: 'filament_change_count', label: 'Filament changes' },
  { key: 'tool_changes', label: 'Tool changes' },
  { key: 'referenced_tools', label: 'Tools used', format: list },
  { key: 'objects', label: 'Objects', format: (v) => (Array.isArray(v) ? `${v.length}: ${v.join(', ')}` : String(v)) },
  { key: 'gcode_start_byte', label: 'G-code starts at byte' },
  { key: 'gcode_end_byte', label: 'G-code ends at byte' },
]

// Shown inside another row (slicer version, filament weight) — not repeated on their own.
const FOLDED = new Set(['slicer_version', 'filament_weight_total', 'thumbnails'])
// A per-extruder list that only repeats the single value beside it ("PLA" and ["PLA"]).
const ECHOES: Record<string, string> = { filament_names: 'filament_name', filament_types: 'filament_type' }
const echoes = (meta: Metadata, key: string) =>
  key in ECHOES && Array.isArray(meta[key]) && (meta[key] as unknown[]).length === 1 && (meta[key] as unknown[])[0] === meta[ECHOES[key]]

/** Worth a row: not missing, not an empty string or list. */
const present = (value: unknown) =>
  value !== undefined && value !== null && value !== '' && !(Array.isArray(value) && value.length === 0)

function plain(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—'
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

/** Rows for a metadata table: the known fields in order, then any other keys the api added. */
export function metadataRows(meta: Metadata, currency?: string | null): { key: string; label: string; value: string }[] {
  const known = new Set(FIELDS.map((field) => field.key))
  const rows = FIELDS.filter((field) => present(meta[field.key]) && !echoes(meta, field.key))
    .map((field) => ({ key: field.key, label: field.label, value: (field.format ?? plain)(meta[field.key], meta, currency) }))
  const extra = Object.keys(meta)
    .filter((key) => !known.has(key) && !FOLDED.has(key) && present(meta[key]))
    .sort()
    .map((key) => ({ key, label: key.replace(/_/g, ' '), value: plain(meta[key]) }))
  return [...rows, ...extra]
}

/** One line for a card: "1h 2m · 12.3 m / 37 g of PETG · 0.4 mm". */
export function summary(meta: Metadata): string {
  const parts = [
    meta.estimated_time !== undefined ? formatDuration(meta.estimated_time) : null,
    meta.filament_total !== undefined || meta.filament_weight_total !== undefined
      ? formatFilament(meta.filament_total, meta.filament_weight_total, meta.filament_type)
      : typeof meta.filament_type === 'string' ? meta.filament_type : null,
    meta.nozzle_diameter !== undefined ? `${formatMm(meta.nozzle_diameter)} nozzle` : null,
    meta.layer_height !== undefined ? `${formatMm(meta.layer_height)} layers` : null,
  ]
  return parts.filter((part) => part && part !== '—').join(' · ')
}


const COLOUR = /^#[0-9a-f]{6}$/i

/** The filament colours the slicer named, as CSS colours (for swatches). */
export function colours(meta: Metadata): string[] {
  const list = [meta.filament_colors, meta.extruder_colors].find((value) => Array.isArray(value) && value.length) as unknown[] | undefined
  return (list ?? []).filter((value): value is string => typeof value === 'string' && COLOUR.test(value))
}

const temp = (value: unknown, first: unknown) =>
  present(value) ? formatTemp(value) + (present(first) && first !== value ? ` (first layer ${formatTemp(first)})` : '') : present(first) ? `${formatTemp(first)} first layer` : null

/** What a person needs before printing, in a few lines: the rest is under "All fields". */
export function glance(meta: Metadata, currency?: string | null): { key: string; label: string; value: string }[] {
  const layers = [
    present(meta.nozzle_diameter) ? `${formatMm(meta.nozzle_diameter)} nozzle` : null,
    present(meta.layer_height) ? `${formatMm(meta.layer_height)} layer height` : null,
    present(meta.layer_count) ? `${String(meta.layer_count)} layers` : null,
  ].filter(Boolean).join(' · ')
  const nozzle = temp(meta.extruder_temp, meta.first_layer_extr_temp)
  const bed = temp(meta.bed_temp, meta.first_layer_bed_temp)
  const heat = [nozzle ? `nozzle ${nozzle}` : null, bed ? `bed ${bed}` : null, present(meta.chamber_temp) ? `chamber ${formatTemp(meta.chamber_temp)}` : null]
    .filter(Boolean).join(' · ')
  const objects = Array.isArray(meta.objects) && meta.objects.length ? `${meta.objects.length}: ${meta.objects.join(', ')}` : null
  const rows = [
    { key: 'slicer', label: 'Slicer', value: [meta.slicer, meta.slicer_version].filter(present).join(' ') },
    { key: 'printer_model', label: 'For printer', value: present(meta.printer_model) ? String(meta.printer_model) : '' },
    { key: 'estimated_time', label: 'Print time', value: present(meta.estimated_time) ? formatDuration(meta.estimated_time) : '' },
    { key: 'filament', label: 'Filament', value: present(meta.filament_total) || present(meta.filament_weight_total) || present(meta.filament_type)
      ? [formatFilament(meta.filament_total, meta.filament_weight_total, meta.filament_type), present(meta.filament_name) ? `(${String(meta.filament_name)})` : null,
        present(meta.filament_cost) ? `· costs ${formatCost(meta.filament_cost, currency)}` : null].filter(Boolean).join(' ')
      : '' },
    { key: 'layers', label: 'Nozzle and layers', value: layers },
    { key: 'temperatures', label: 'Temperatures', value: heat },
    { key: 'objects', label: 'Objects', value: objects ?? '' },
  ]
  return rows.filter((row) => row.value)
}

/** A model's size as "36 × 20 × 120 mm" (x × y × z). */
export function formatSize(size: number[]): string {
  return `${size.map((mm) => Number(mm.toFixed(2))).join(' × ')} mm`
}

/** Cubic millimetres in the unit a person pictures: "128 mm³", "6.28 cm³". */
export function formatVolume(mm3: number): string {
  return mm3 < 1000 ? `${Number(mm3.toFixed(1))} mm³` : `${Number((mm3 / 1000).toFixed(2))} cm³`
}

/** The facts of a model's mesh (triangles, size, volume, closed or not), as table rows. */
export function modelRows(model: ModelRead): { key: string; label: string; value: string }[] {
  return [
    { key: 'size', label: 'Size', value: formatSize(model.size_mm) },
    { key: 'volume', label: 'Volume', value: formatVolume(model.volume_mm3) },
    { key: 'triangles', label: 'Triangles', value: model.triangles.toLocaleString('en-US') },
    { key: 'watertight', label: 'Watertight', value: model.watertight ? 'yes' : 'no: the mesh has open edges' },
  ]
}

/** One line for a model's card: "36 × 20 × 120 mm · 24 triangles". */
export function modelSummary(model: ModelRead): string {
  return `${formatSize(model.size_mm)} · ${model.triangles.toLocaleString('en-US')} triangles`
}
