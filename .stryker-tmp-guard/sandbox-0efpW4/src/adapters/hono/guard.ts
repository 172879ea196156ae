// @ts-nocheck
// The resource-server guard as Hono middleware.
import type { MiddlewareHandler } from 'hono'
import type { VerifiedAccessToken } from '../../guard/verify-access-token.js'
import { createRequestGuard, type RequestGuardOptions } from '../../web/guard.js'

/** The Hono environment of {@link requireAccessToken}: `c.var.accessToken` is typed. */
export interface AccessTokenEnv {
  Variables: {
    /** The verified access token. */
    accessToken: VerifiedAccessToken
  }
}

/**
 * Hono middleware that requires a valid access token: on success it sets `c.var.accessToken` (and a fresh
 * `DPoP-Nonce` header when DPoP nonces are on); otherwise it answers the RFC 6750 / RFC 9449 challenge
 * (status, `WWW-Authenticate`, JSON `{ error, error_description }`), 503 when the issuer cannot be reached,
 * 500 for anything else. Never a stack trace.
 *
 * @throws `ResourceTokensConfigError` at once, for bad options
 * @see RFC 6750 section 3, RFC 9449 section 7, RFC 9728 section 5
 * @example
 * ```ts
 * app.get('/orders', requireAccessToken({ issuer, audience: 'https://api.example.com', resourceUrl: 'https://api.example.com' }),
 *   (c) => c.json({ user: c.var.accessToken.subject }))
 * ```
 */
export function requireAccessToken(options: RequestGuardOptions): MiddlewareHandler<AccessTokenEnv> {
  const guard = createRequestGuard(options)
  return async (c, next) => {
    const outcome = await guard(c.req.raw)
    if (!outcome.ok) return outcome.response
    c.set('accessToken', outcome.token)
    for (const [name, value] of outcome.headers) c.header(name, value)
    await next()
    return undefined
  }
}
