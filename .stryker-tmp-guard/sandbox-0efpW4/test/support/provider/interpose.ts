// @ts-nocheck
// Standing between node:http and oidc-provider: a request body read before the provider reads it, and a
// response changed just before the provider sends it.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Readable } from 'node:stream'

/** A replacement response: status, body and content type (none when undefined). */
export interface RewrittenResponse {
  status: number
  body: string
  contentType?: string
}

/**
 * We consumed the request body to inspect it; oidc-provider must still read it from a stream.
 * Koa and oidc-provider's body parser only use these request properties (koa/lib/request.js,
 * oidc-provider/lib/shared/selective_body.js), so a fresh Readable carrying them is enough.
 */
export function replayRequest(req: IncomingMessage, body: Buffer): IncomingMessage {
  const clone = Readable.from(body.length > 0 ? [body] : [], { objectMode: false })
  // A quirk may have rewritten the body: the length must match what is replayed.
  const headers = req.headers['content-length'] === undefined ? req.headers : { ...req.headers, 'content-length': String(body.length) }
  return Object.assign(clone, {
    headers,
    rawHeaders: req.rawHeaders,
    method: req.method,
    url: req.url,
    httpVersion: req.httpVersion,
    httpVersionMajor: req.httpVersionMajor,
    httpVersionMinor: req.httpVersionMinor,
    socket: req.socket,
    connection: req.socket,
  }) as unknown as IncomingMessage
}

/**
 * Lets a quirk rewrite a response oidc-provider (Koa) is about to send. Koa sends a buffered body with a
 * single res.end(body), headers not yet flushed, so the status, headers and body can still be swapped there.
 * `rewrite` returns undefined to let the response through as it is.
 */
export function rewriteResponse(res: ServerResponse, rewrite: (status: number, body: string) => RewrittenResponse | undefined): void {
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse
  res.end = ((chunk?: unknown, ...rest: unknown[]) => {
    const streamed = typeof rest[0] === 'function' || (chunk !== undefined && typeof chunk !== 'string' && !Buffer.isBuffer(chunk))
    if (res.headersSent || streamed) return end(chunk, ...rest)
    const text = chunk === undefined ? '' : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : (chunk)
    const next = rewrite(res.statusCode, text)
    if (next === undefined) return end(chunk)
    res.statusCode = next.status
    if (next.contentType === undefined) res.removeHeader('content-type')
    else res.setHeader('content-type', next.contentType)
    res.setHeader('content-length', Buffer.byteLength(next.body))
    return end(next.body)
  }) as typeof res.end
}

/** Rewrites a successful JSON response with `edit`; other responses pass through. */
export function editJsonResponse(res: ServerResponse, edit: (json: Record<string, unknown>) => void): void {
  rewriteResponse(res, (status, body) => {
    if (status !== 200) return undefined
    const json = JSON.parse(body) as Record<string, unknown>
    edit(json)
    return { status, body: JSON.stringify(json), contentType: 'application/json; charset=utf-8' }
  })
}
