// The one api client: openapi-fetch over the types generated from the api's OpenAPI
// (schema.d.ts, `npm run gen:api`). Paths, parameters, bodies and answers are all checked by
// the compiler against that schema, so a call reads `api.GET('/api/v1/files/{file_id}', …)`
// and no page writes a URL by hand. Every failure becomes an ApiError whose message is fit to
// show to a person.
import createClient from 'openapi-fetch'
import type { paths } from './schema'

// The page's own origin: the api is served beside the web app (nginx or vite proxy it).
// fetch is looked up per request (not captured once) so tests can stand in for the network.
export const api = createClient<paths>({
  baseUrl: window.location.origin,
  credentials: 'same-origin',
  headers: { Accept: 'application/json' },
  fetch: (request) => globalThis.fetch(request),
})

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

export const networkError = () => new ApiError(0, 'network', 'Cannot reach the PrintStash server. Is it running?')

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

type Answer<T> = { data?: T; error?: unknown; response: Response }

/** The answer's data, or an ApiError for a failed request (network, 4xx, 5xx). */
export async function unwrap<T>(request: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>
  try {
    answer = await request
  } catch {
    throw networkError()
  }
  if (!answer.response.ok) throw errorFromBody(answer.response.status, answer.error)
  return answer.data as T // openapi-fetch leaves data undefined only for bodiless (204) answers
}

type PathParams<P extends string> = P extends `${string}{${infer Name}}${infer Rest}` ? { [K in Name | keyof PathParams<Rest>]: string | number } : Record<never, never>

/** A URL for the browser itself to open (link, download, EventSource, XHR upload), from a schema path. */
export function apiHref<P extends keyof paths>(path: P, params: PathParams<P>): string {
  const values = params as Record<string, string | number>
  return path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(String(values[name])))
}
