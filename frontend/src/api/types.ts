// Shapes of the api's answers, straight from the generated schema (schema.d.ts, from the
// api's OpenAPI): when the api changes, `npm run gen:api` and the typecheck show what broke.
import type { components } from './schema'

type S = components['schemas']

export type Metadata = Record<string, unknown>
export type ThumbnailRead = S['ThumbnailRead']
export type FileRead = S['FileRead']
export type LayersRead = S['LayersRead']
export type ModelRead = S['ModelRead']
export type Page<T> = { items: T[]; total: number }
export type FacetValue = { value: string | number; count: number }
export type Facets = Record<string, FacetValue[]>
export type User = S['UserRead']
export type ApiKeyRead = S['ApiKeyRead']
export type ApiKeyCreated = S['ApiKeyCreated']
export type Printer = S['PrinterRead']
export type PrinterStatus = S['PrinterStatusRead']
export type PrinterCreate = S['PrinterCreate']
export type PrintJob = S['PrintJobRead']
export type BackupRead = S['BackupRead']
export type AuthStatus = S['StatusRead']
export type LoginRequest = S['LoginRequest']
export type SetupRequest = S['SetupRequest']
export type UserCreate = S['UserCreate']
export type UserUpdate = S['UserUpdate']

export type HealthComponent = S['ComponentRead']
export type Health = S['HealthRead']
