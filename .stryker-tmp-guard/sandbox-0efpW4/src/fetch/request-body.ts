/** A request body, as `fetch` accepts it. */
// @ts-nocheck

export type RequestBody = NonNullable<RequestInit['body']>

/** Bodies that can be sent again (after a 401 retry or a 307/308 redirect) without having been consumed. */
export function isReplayable(body: RequestBody | null | undefined): boolean {
  if (body === null || body === undefined) return true
  return !(body instanceof ReadableStream) && !isAsyncIterable(body)
}

function isAsyncIterable(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value && !(value instanceof Blob) && !(value instanceof FormData)
}

/** Fetch spec, HTTP-redirect fetch step 12: these redirects turn the request into a body-less GET. */
export function redirectDropsBody(status: number, method: string): boolean {
  return status === 303 ? method !== 'GET' && method !== 'HEAD' : (status === 301 || status === 302) && method === 'POST'
}

export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308])
