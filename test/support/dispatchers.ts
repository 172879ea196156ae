// Real undici dispatchers that record what the library hands them, for tests of `client.request` and the
// `dispatcher` option: what left the process, before any server saw it.
import { Agent, type Dispatcher } from 'undici'

/** One request as a dispatcher received it. */
export interface Dispatched {
  url: string
  method: string
  headers: Headers
  /** The body when it is text or bytes (a stream is not read here). */
  body: string | undefined
}

/** An undici interceptor (for `agent.compose`) that records every request dispatched through it. */
export function recordingInterceptor(into: Dispatched[]): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (options, handler) => {
    into.push(dispatched(options))
    return dispatch(options, handler)
  }
}

/** An undici `Agent` that counts what goes through it (by URL), then dispatches as usual. */
export class CountingAgent extends Agent {
  readonly dispatched: Dispatched[] = []

  override dispatch(options: Agent.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    this.dispatched.push(dispatched(options))
    return super.dispatch(options, handler)
  }
}

function dispatched(options: Dispatcher.DispatchOptions): Dispatched {
  const origin = String(options.origin ?? '').replace(/\/$/, '')
  const body = options.body
  return {
    url: `${origin}${options.path}`,
    method: options.method,
    headers: toHeaders(options.headers),
    body: typeof body === 'string' ? body : body instanceof Uint8Array ? Buffer.from(body).toString('utf8') : undefined,
  }
}

/**
 * Headers as dispatchers get them: an object (undici.request), a flat `[name, value, ...]` array or a list of pairs
 * (Node's fetch, depending on its version).
 */
function toHeaders(raw: unknown): Headers {
  const out = new Headers()
  if (raw == null) return out
  if (Array.isArray(raw)) {
    if (raw.every((entry) => Array.isArray(entry))) for (const [name, value] of raw as Array<[string, string]>) out.append(name, String(value))
    else for (let i = 0; i + 1 < raw.length; i += 2) out.append(String(raw[i]), String(raw[i + 1]))
    return out
  }
  if (typeof raw === 'object' && Symbol.iterator in raw) {
    for (const [name, value] of raw as Iterable<[string, string]>) out.append(name, String(value))
    return out
  }
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    for (const v of [value ?? []].flat()) out.append(name, String(v))
  }
  return out
}
