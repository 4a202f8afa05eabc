import type { ApiErrorBody } from './types'

/** ApiError is a failed API call: the HTTP status plus the server's {code, message, fields}. */
export class ApiError extends Error {
  status: number
  code: string
  fields: Record<string, string>
  retryAfter: number | null

  constructor(status: number, body: ApiErrorBody, retryAfter: number | null = null) {
    super(body.message || body.detail || body.title || `HTTP ${status}`)
    this.status = status
    this.code = body.code || codeFor(status)
    this.fields = body.fields || {}
    this.retryAfter = retryAfter
  }

  get forbidden(): boolean {
    return this.status === 403
  }
}

function codeFor(status: number): string {
  switch (status) {
    case 400:
    case 422:
      return 'invalid'
    case 401:
      return 'unauthorized'
    case 403:
      return 'forbidden'
    case 404:
      return 'not_found'
    case 409:
      return 'conflict'
    case 413:
      return 'too_large'
    case 429:
      return 'rate_limited'
    default:
      return status >= 500 ? 'internal' : 'error'
  }
}

type UnauthorizedHandler = () => void
let onUnauthorized: UnauthorizedHandler = () => {}
let onPasswordChange: UnauthorizedHandler = () => {}

/** setPasswordChangeHandler registers what to do when a call answers 403 password_change_required
 * (the router sends to /password). */
export function setPasswordChangeHandler(h: UnauthorizedHandler) {
  onPasswordChange = h
}

/** setUnauthorizedHandler registers what to do when a call answers 401 (the router sends to /login). */
export function setUnauthorizedHandler(h: UnauthorizedHandler) {
  onUnauthorized = h
}

export interface RequestOptions {
  method?: string
  body?: unknown
  query?: Record<string, string | number | boolean | undefined | null>
  /** Do not run the 401 handler (sign-in and the first /auth/me). */
  quiet401?: boolean
  signal?: AbortSignal
  /** Extra request headers (e.g. X-Reclaim-Client). */
  headers?: Record<string, string>
}

export function url(path: string, query?: RequestOptions['query']): string {
  let u = path.startsWith('/api/') ? path : '/api/v1' + path
  if (query) {
    const qs = new URLSearchParams()
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '') qs.set(k, String(v))
    }
    const s = qs.toString()
    if (s) u += (u.includes('?') ? '&' : '?') + s
  }
  return u
}

/** request calls the API same-origin with the session cookie and decodes JSON. */
export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...(opts.headers || {}) }
  let body: BodyInit | undefined
  if (opts.body instanceof FormData) {
    body = opts.body
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(opts.body)
  }
  let res: Response
  try {
    res = await fetch(url(path, opts.query), {
      method: opts.method || 'GET',
      headers,
      body,
      credentials: 'same-origin',
      signal: opts.signal,
    })
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e
    throw new ApiError(0, { code: 'network', message: '' })
  }
  if (!res.ok) {
    let data: ApiErrorBody = {}
    try {
      data = (await res.json()) as ApiErrorBody
    } catch {
      /* not JSON */
    }
    const ra = res.headers.get('Retry-After')
    const err = new ApiError(res.status, data, ra ? Number(ra) || null : null)
    if (res.status === 401 && !opts.quiet401) onUnauthorized()
    if (res.status === 403 && err.code === 'password_change_required') onPasswordChange()
    throw err
  }
  if (res.status === 204) return undefined as T
  const text = await res.text()
  return (text ? JSON.parse(text) : undefined) as T
}

export const api = {
  get: <T>(path: string, query?: RequestOptions['query'], opts: RequestOptions = {}) =>
    request<T>(path, { ...opts, query }),
  post: <T>(path: string, body?: unknown, opts: RequestOptions = {}) =>
    request<T>(path, { ...opts, method: 'POST', body }),
  patch: <T>(path: string, body?: unknown) => request<T>(path, { method: 'PATCH', body }),
  del: <T>(path: string, query?: RequestOptions['query']) => request<T>(path, { method: 'DELETE', query }),
}
