import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import { redirectDropsBody } from './request-body.js'

const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']

/**
 * One request of a redirect chain. `headers` are the caller's (normalized once, `undefined` when it gave
 * none); they never hold our token: the transport adds it to what it sends.
 */
export interface Hop<B> {
  readonly url: URL
  readonly method: string
  readonly headers: Headers | undefined
  readonly body: B | null
}

/** How the caller wants redirects handled (the Fetch `redirect` member). */
export type RedirectMode = 'follow' | 'manual' | 'error'

/**
 * The request after a redirect to `next`: as the Fetch standard's HTTP-redirect fetch, a 303 (and a 301/302 of a
 * POST) becomes a body-less GET, and credentials the caller set do not cross origins.
 */
export function nextHop<B>(hop: Hop<B>, next: URL, status: number, replayable: boolean): Hop<B> {
  let { method, body } = hop
  let headers = hop.headers
  const dropsBody = redirectDropsBody(status, method)
  const crossOrigin = next.origin !== hop.url.origin
  if (!dropsBody && body !== null && !replayable) {
    throw new ResourceTokensError('redirect_refused', `cannot follow a ${status} redirect with a streamed request body`, { status })
  }
  if (headers !== undefined && (dropsBody || crossOrigin)) {
    headers = new Headers(headers)
    if (dropsBody) for (const name of BODY_HEADERS) headers.delete(name)
    if (crossOrigin) {
      headers.delete('authorization')
      headers.delete('cookie')
      headers.delete('proxy-authorization')
      // A caller's own DPoP proof is a credential too (RFC 9449), bound to the URL it was made for.
      headers.delete('dpop')
    }
  }
  if (dropsBody) {
    method = 'GET'
    body = null
  }
  return { url: next, method, headers, body }
}

/**
 * The headers to send: the caller's, with `authorization` set to ours (when given) and any `dpop` header of the
 * caller's dropped (a proof must match the token). One plain object, built in one pass.
 */
export function withAuthorization(headers: Headers | undefined, authorization: string | undefined): Record<string, string> | Headers | undefined {
  if (authorization === undefined) return headers
  if (headers === undefined) return { authorization }
  const sent: Record<string, string> = {}
  for (const [name, value] of headers) if (name !== 'dpop') sent[name] = value
  sent['authorization'] = authorization
  return sent
}
