// @ts-nocheck
// The resource-server guard as a Fastify preHandler.
import type { preHandlerAsyncHookHandler } from 'fastify'
import type { VerifiedAccessToken } from '../../guard/verify-access-token.js'
import { createRequestGuard, type RequestGuardOptions } from '../../web/guard.js'
import { sendWebResponse, toWebRequest } from './web-bridge.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified access token; set by the `requireAccessToken` preHandler. */
    accessToken?: VerifiedAccessToken
  }
}

/**
 * A Fastify preHandler that requires a valid access token: on success it sets `request.accessToken` (and a
 * fresh `DPoP-Nonce` header when DPoP nonces are on); otherwise it replies the RFC 6750 / RFC 9449
 * challenge (status, `WWW-Authenticate`, JSON `{ error, error_description }`), 503 when the issuer cannot be
 * reached, 500 for anything else. Never a stack trace. `trustHost` builds the URL from `Host`.
 *
 * @throws `ResourceTokensConfigError` at once, for bad options
 * @see RFC 6750 section 3, RFC 9449 section 7, RFC 9728 section 5
 * @example
 * ```ts
 * app.get('/orders', { preHandler: requireAccessToken({ issuer, audience: 'https://api.example.com', resourceUrl: 'https://api.example.com' }) },
 *   async (request) => ({ user: request.accessToken!.subject }))
 * ```
 */
export function requireAccessToken(options: RequestGuardOptions): preHandlerAsyncHookHandler {
  const guard = createRequestGuard(options)
  const origin = options.trustHost === true ? undefined : 'http://resource.invalid'
  return async function (request, reply) {
    // With `resourceUrl` the guard uses only path and query; with `trustHost` the URL comes from Fastify's view of Host.
    const webRequest = toWebRequest(request, origin ?? `${request.protocol}://${request.host}`)
    const outcome = await guard(webRequest)
    if (!outcome.ok) return sendWebResponse(reply, outcome.response)
    request.accessToken = outcome.token
    for (const [name, value] of outcome.headers) reply.header(name, value)
  }
}
