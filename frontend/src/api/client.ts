// A thin fetch wrapper over the api: same-origin cookies, JSON in and out, and every
// failure turned into an ApiError whose message is fit to show to a person.

export const API = '/api/v1'

export class ApiError extends Error {
  readonly status: number
  readonly code: string

  constructor(status: number, code: string, message: string) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
  }
}

type ValidationItem = { loc?: unknown[]; msg?: string }

/** FastAPI's own 422s carry a list of {loc, msg}; ours carry {"detail","code"}. */
export function detailText(detail: unknown, status: number): string {
  if (typeof detail === 'string' && detail) return detail
  if (Array.isArray(detail)) {
    return detail
      .map((item: ValidationItem) => {
        const field = (item.loc ?? []).filter((part) => part !== 'body' && part !== 'query').join('.')
        return field ? `${field}: ${item.msg ?? 'invalid'}` : (item.msg ?? 'invalid')
      })
      .join('; ')
  }
  return statusText(status)
}

export function statusText(status: number): string {
  if (status === 401) return 'Please sign in.'
  if (status === 403) return 'You are not allowed to do that.'
  if (status === 404) return 'Not found.'
  if (status === 413) return 'The file is larger than the server accepts.'
  if (status === 502 || status === 504) return `The PrintStash api is not answering behind the web server (HTTP ${status}). Is it running?`
  if (status === 503) return 'The server is unavailable (maintenance?). Try again shortly.'
  if (status >= 500) return `The server failed (HTTP ${status}).`
  return `The request failed (HTTP ${status}).`
}

/** Turn a non-2xx answer body (parsed JSON or raw text) into an ApiError. */
export function errorFromBody(status: number, body: unknown): ApiError {
  if (body && typeof body === 'object' && 'detail' in body) {
    const { detail, code } = body as { detail: unknown; code?: unknown }
    return new ApiError(status, typeof code === 'string' ? code : `http_${status}`, detailText(detail, status))
  }
  return new ApiError(status, `http_${status}`, statusText(status))
}

async function parseBody(response: Response): Promise<unknown> {
  const text = await response.text()
  if (!text) return null
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** '/files' -> '/api/v1/files'; full '/api/…' paths pass through ('/api-keys' is relative). */
export function apiUrl(path: string): string {
  return path.startsWith('/api/') ? path : `${API}${path}`
}

export type RequestOptions = Omit<RequestInit, 'body'> & { json?: unknown; body?: BodyInit }

export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const { json, headers, ...rest } = options
  const init: RequestInit = { credentials: 'same-origin', ...rest, headers: { Accept: 'application/json', ...headers } }
  if (json !== undefined) {
    init.body = JSON.stringify(json)
    init.headers = { ...init.headers, 'Content-Type': 'application/json' }
  }
  let response: Response
  try {
    response = await fetch(apiUrl(path), init)
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach the PrintStash server. Is it running?')
  }
  const body = await parseBody(response)
  if (!response.ok) throw errorFromBody(response.status, body)
  return body as T
}

export const get = <T>(path: string) => request<T>(path)
export const post = <T>(path: string, json?: unknown) => request<T>(path, { method: 'POST', json: json ?? {} })
export const patch = <T>(path: string, json: unknown) => request<T>(path, { method: 'PATCH', json })
export const put = <T>(path: string, json?: unknown) => request<T>(path, { method: 'PUT', json: json ?? {} })
export const del = <T = unknown>(path: string) => request<T>(path, { method: 'DELETE' })

/** Query strings from a plain object, skipping empty values. */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value))
  }
  const text = search.toString()
  return text ? `?${text}` : ''
}
