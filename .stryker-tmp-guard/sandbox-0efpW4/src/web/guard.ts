// @ts-nocheck
// The resource-server guard on a Web Request: the verifier of src/guard, answered with RFC 6750 / RFC 9449
// challenges as a Response. Every framework's guard middleware is a thin translation onto this.
import { ResourceTokensConfigError, ResourceTokensError } from '../errors/resource-tokens-error.js'
import { GuardError } from '../guard/guard-error.js'
import { createVerifierInternals, type VerifiedAccessToken, type VerifyAccessTokenOptions } from '../guard/verify-access-token.js'
import { isSecureOrLoopback } from '../resources/loopback.js'

/** Options of {@link createRequestGuard}: the verifier options plus how to know this server's public URL. */
export interface RequestGuardOptions extends VerifyAccessTokenOptions {
  /**
   * The public base URL of this server as clients address it, e.g. `https://api.example.com` or, behind a
   * proxy that strips a prefix, `https://example.com/api`. The request URL (a DPoP proof's `htu`) is this
   * plus the path and query of `request.url`. Required unless `trustHost` is set.
   */
  resourceUrl?: string
  /**
   * Use `request.url` as it is, i.e. the scheme and host the framework built from the `Host` header. Only
   * safe when a proxy you control sets it. Default `false`.
   */
  trustHost?: boolean
}

/** Failures to reach the issuer: the request could not be judged, so 503 rather than 500 (as in Express). */
const ISSUER_UNAVAILABLE: ReadonlySet<string> = new Set(['discovery_failed', 'introspection_failed'])

/** What a {@link RequestGuard} decided. */
export type GuardOutcome =
  /** The token passed. Copy `headers` (a fresh `DPoP-Nonce` when nonces are on) onto the eventual response. */
  | { readonly ok: true; readonly token: VerifiedAccessToken; readonly headers: Headers }
  /** Refused: send `response` (status, `WWW-Authenticate`, JSON `{ error, error_description }`). */
  | { readonly ok: false; readonly response: Response }

/** Checks the access token of a Web `Request`. Never throws. */
export type RequestGuard = (request: Request) => Promise<GuardOutcome>

/**
 * Creates a guard for Web `Request`s. A refused request gets the {@link GuardError} challenge: status,
 * `WWW-Authenticate` and a JSON body `{ error, error_description }`; an unreachable issuer 503
 * `temporarily_unavailable`; any other failure 500 `server_error`. Never a stack trace.
 *
 * @param options - verifier options plus `resourceUrl` (or `trustHost`)
 * @throws {ResourceTokensConfigError} at once, for bad options
 * @see RFC 6750 section 3, RFC 9449 section 7, RFC 9728 section 5
 * @example
 * ```ts
 * const guard = createRequestGuard({ issuer, audience: 'https://api.example.com', resourceUrl: 'https://api.example.com' })
 * const outcome = await guard(request)
 * if (!outcome.ok) return outcome.response
 * return Response.json({ user: outcome.token.subject }, { headers: outcome.headers })
 * ```
 */
export function createRequestGuard(options: RequestGuardOptions): RequestGuard {
  if (typeof options !== 'object' || options === null) throw new ResourceTokensConfigError('options must be an object')
  const { resourceUrl, trustHost = false, ...verifierOptions } = options
  if (typeof trustHost !== 'boolean') throw new ResourceTokensConfigError('"trustHost" must be a boolean')
  let base: string | undefined
  if (resourceUrl !== undefined) {
    let url: URL
    try {
      url = new URL(resourceUrl)
    } catch {
      throw new ResourceTokensConfigError('"resourceUrl" must be an absolute URL')
    }
    if (!isSecureOrLoopback(url)) throw new ResourceTokensConfigError('"resourceUrl" must be https outside loopback')
    if (url.search !== '' || url.hash !== '') throw new ResourceTokensConfigError('"resourceUrl" must not have a query or fragment')
    base = `${url.origin}${url.pathname.replace(/\/+$/, '')}`
  } else if (!trustHost) {
    throw new ResourceTokensConfigError('"resourceUrl" is required unless "trustHost" is true')
  }
  const { verify, currentDpopNonce } = createVerifierInternals(verifierOptions)

  return async (request: Request): Promise<GuardOutcome> => {
    try {
      const url = publicUrl(request.url, base)
      if (url === undefined) throw new GuardError('invalid_request', 'request target cannot be resolved')
      const token = await verify({ method: request.method, url, headers: request.headers })
      const headers = new Headers()
      const nonce = token.bound === undefined ? undefined : currentDpopNonce()
      if (nonce !== undefined) headers.set('DPoP-Nonce', nonce)
      return { ok: true, token, headers }
    } catch (err) {
      return { ok: false, response: refusal(err) }
    }
  }
}

/** The answer to a refused or failed check. */
function refusal(err: unknown): Response {
  const headers = new Headers({ 'Cache-Control': 'no-store', 'Content-Type': 'application/json; charset=utf-8' })
  if (err instanceof GuardError) {
    const { status, headers: challenge } = err.challenge()
    for (const [name, value] of Object.entries(challenge)) headers.set(name, value)
    return new Response(JSON.stringify({ error: err.error, error_description: err.description }), { status, headers })
  }
  const transient = err instanceof ResourceTokensError && ISSUER_UNAVAILABLE.has(err.code)
  const body = { error: transient ? 'temporarily_unavailable' : 'server_error', error_description: 'the access token could not be checked' }
  return new Response(JSON.stringify(body), { status: transient ? 503 : 500, headers })
}

function publicUrl(requestUrl: string, base: string | undefined): string | undefined {
  let parsed: URL
  try {
    parsed = new URL(requestUrl)
  } catch {
    return undefined
  }
  if (base === undefined) return parsed.href
  try {
    // Concatenation, not `new URL(path, base)`: a path like `//evil.example/x` must stay a path.
    return new URL(`${base}${parsed.pathname}${parsed.search}`).href
  } catch {
    return undefined
  }
}
