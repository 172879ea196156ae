// @ts-nocheck
// For adapters on Node's http (Express, Fastify): a bodyless Web Request from what the framework parsed.
import type { IncomingHttpHeaders } from 'node:http'

/**
 * Path and query of a request target; absolute-form targets (RFC 9112 section 3.2.2) lose their scheme and
 * authority, so the host a client wrote there never reaches a URL we build. `/` when unparsable.
 */
export function requestTarget(target: string): string {
  if (target.startsWith('/')) return target
  try {
    const url = new URL(target)
    return `${url.pathname}${url.search}`
  } catch {
    return '/'
  }
}

/**
 * A bodyless Web `Request` with the method, path, query and headers of a Node request. The origin is the
 * app's configured one: the web handlers use only path and query, never `Host`. A form body, when needed,
 * is handed to the handlers already parsed.
 */
export function webRequestFrom(method: string, target: string, headers: IncomingHttpHeaders, origin: string): Request {
  const copy = new Headers()
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    for (const item of Array.isArray(value) ? value : [String(value)]) copy.append(name, item)
  }
  return new Request(`${origin}${requestTarget(target)}`, { method, headers: copy })
}
