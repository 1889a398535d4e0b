// Shapes of the api's answers. Where the generated schema (schema.d.ts, from the api's
// OpenAPI) has the model, the alias points at it, so a changed api breaks the typecheck.
import type { components } from './schema'

type Schemas = components['schemas']
// Until the api grows a model, `components` has no schemas (never): fall back to our shape.
type Pick_<K extends string, Fallback> = [Schemas] extends [never] ? Fallback : K extends keyof Schemas ? Schemas[K] : Fallback

export type Metadata = Record<string, unknown>

export type ThumbnailRead = Pick_<'ThumbnailRead', {
  index: number
  width: number
  height: number
  format: string
  size: number
  url: string
}>

export type FileRead = Pick_<'FileRead', {
  id: number
  name: string
  size: number
  sha256: string
  uploaded_at: string
  notes: string
  favourite: boolean
  tags: string[]
  parse_status: string
  parse_error: string | null
  metadata: Metadata
  thumbnails: ThumbnailRead[]
  print_count: number
  last_printed_at: string | null
  last_print_result: string | null
  duplicate?: boolean | null
}>

export type Page<T> = { items: T[]; total: number }

export type FacetValue = { value: string | number; count: number }
export type Facets = Record<string, FacetValue[]>

export type User = { id: number; username: string; role: 'admin' | 'member' | string; disabled?: boolean; created_at?: string }

export type ApiKeyRead = {
  id: number
  name: string
  prefix?: string
  created_at?: string
  last_used_at?: string | null
  revoked_at?: string | null
}
export type ApiKeyCreated = ApiKeyRead & { key: string }

export type Temperature = { temperature?: number | null; target?: number | null }

export type PrinterStatus = {
  online?: boolean
  state?: string
  klippy_state?: string | null
  print_state?: string | null
  filename?: string | null
  file_id?: number | null
  progress?: number | null
  print_duration?: number | null
  eta_s?: number | null
  extruder?: Temperature | null
  heater_bed?: Temperature | null
  message?: string | null
  updated_at?: string | null
  error?: string | null
  age_s?: number | null
}

export type Printer = {
  id: number
  name: string
  provider: string
  url: string
  poll_interval?: number | null
  status?: PrinterStatus | null
}

export type PrintJob = {
  id: number
  printer_id?: number
  printer_name?: string | null
  job_id?: string
  filename: string
  file_id?: number | null
  status: string
  start_time?: string | null
  end_time?: string | null
  print_duration?: number | null
  total_duration?: number | null
  filament_used?: number | null
}

export type HealthComponent = { status: string; [detail: string]: unknown }
export type Health = {
  status: 'ok' | 'degraded' | 'error' | string
  version?: string
  components: Record<string, HealthComponent>
}

export type BackupRead = { name: string; size: number; created_at?: string | null; [extra: string]: unknown }
