// @ts-nocheck
// The guard as Express middleware: a resource server's routes refuse requests without a valid access token.
// Only types come from express, so express stays an optional peer dependency.
import type { NextFunction, Request, RequestHandler, Response } from 'express'

import { ResourceTokensConfigError, ResourceTokensError } from '../../errors/resource-tokens-error.js'
import { GuardError } from '../../guard/guard-error.js'
import { createVerifierInternals, type VerifyAccessTokenOptions } from '../../guard/verify-access-token.js'
import { isSecureOrLoopback } from '../../resources/loopback.js'
import { requestTarget } from './request-target.js'

/** Failures to reach the issuer: the request could not be judged, so 503 rather than 500. */
const ISSUER_UNAVAILABLE: ReadonlySet<string> = new Set(['discovery_failed', 'introspection_failed'])

/** Options of {@link requireAccessToken}: the verifier options plus how to know this server's public URL. */
export interface RequireAccessTokenOptions extends VerifyAccessTokenOptions {
  /**
   * The public base URL of this app as clients address it, e.g. `https://api.example.com` or, behind a
   * proxy that strips a prefix, `https://example.com/api`. The request URL (a DPoP proof's `htu`) is this
   * plus `req.originalUrl`. Required unless `trustHost` is set.
   */
  resourceUrl?: string
  /**
   * Build the request URL from `req.protocol` and `req.host` instead, i.e. from the `Host` header, and from
   * `X-Forwarded-Proto` / `X-Forwarded-Host` when Express's `trust proxy` setting allows. Only safe when a
   * proxy you control sets those headers. Default `false`.
   */
  trustHost?: boolean
}

/**
 * Express middleware that requires a valid access token. On success it sets `res.locals.accessToken`
 * to the {@link VerifiedAccessToken} and calls `next()` (adding a fresh `DPoP-Nonce` header when DPoP
 * nonces are on). On a refused request it answers the {@link GuardError} challenge: status,
 * `WWW-Authenticate` and a JSON body `{ error, error_description }`. When the issuer cannot be reached it
 * answers 503 `temporarily_unavailable`; any other failure answers 500 `server_error`. Never a stack trace.
 *
 * @param options - verifier options plus `resourceUrl` (or `trustHost`)
 * @returns an Express request handler
 * @throws {ResourceTokensConfigError} at once, for bad options
 * @see RFC 6750 section 3, RFC 9449 section 7, RFC 9728 section 5
 * @example
 * ```ts
 * app.get('/orders', requireAccessToken({
 *   issuer: 'https://as.example.com',
 *   audience: 'https://api.example.com',
 *   resourceUrl: 'https://api.example.com',
 *   scopes: ['orders:read'],
 * }), (req, res) => {
 *   const token = res.locals.accessToken as VerifiedAccessToken
 *   res.json({ user: token.subject })
 * })
 * ```
 */
export function requireAccessToken(options: RequireAccessTokenOptions): RequestHandler {
  if (typeof options !== 'object' || options === null) throw new ResourceTokensConfigError('options must be an object')
  const { resourceUrl, trustHost = false, ...verifierOptions } = options
  const base = publicBase(resourceUrl, trustHost)
  const { verify, currentDpopNonce } = createVerifierInternals(verifierOptions)

  return (req: Request, res: Response, next: NextFunction): void => {
    const url = requestUrl(req, base)
    const work = url === undefined
      ? Promise.reject(new GuardError('invalid_request', 'request target cannot be resolved'))
      : verify({ method: req.method, url, headers: req.headersDistinct ?? req.headers })
    work.then(
      (token) => {
        res.locals['accessToken'] = token
        const nonce = token.bound === undefined ? undefined : currentDpopNonce()
        if (nonce !== undefined) res.setHeader('DPoP-Nonce', nonce)
        next()
      },
      (err: unknown) => sendRefusal(res, err),
    )
      // Whatever throws past this point (a response already sent, a throwing route) goes to Express, never
      // becomes an unhandled rejection.
      .catch((err: unknown) => next(err))
  }
}

/** `resourceUrl` without a trailing slash, or `undefined` with `trustHost`. Throws for bad options. */
function publicBase(resourceUrl: string | undefined, trustHost: unknown): string | undefined {
  if (typeof trustHost !== 'boolean') throw new ResourceTokensConfigError('"trustHost" must be a boolean')
  if (resourceUrl === undefined) {
    if (!trustHost) throw new ResourceTokensConfigError('"resourceUrl" is required unless "trustHost" is true')
    return undefined
  }
  if (!URL.canParse(resourceUrl)) throw new ResourceTokensConfigError('"resourceUrl" must be an absolute URL')
  const url = new URL(resourceUrl)
  if (!isSecureOrLoopback(url)) throw new ResourceTokensConfigError('"resourceUrl" must be https outside loopback')
  if (url.search !== '' || url.hash !== '') throw new ResourceTokensConfigError('"resourceUrl" must not have a query or fragment')
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`
}

/** Answers a refused request: the guard's challenge, 503 when the issuer could not be asked, else 500. Never a stack trace. */
function sendRefusal(res: Response, err: unknown): void {
  if (res.headersSent) return
  res.setHeader('Cache-Control', 'no-store')
  if (err instanceof GuardError) {
    const { status, headers } = err.challenge()
    res.status(status).set(headers).json({ error: err.error, error_description: err.description })
  } else if (err instanceof ResourceTokensError && ISSUER_UNAVAILABLE.has(err.code)) {
    res.status(503).json({ error: 'temporarily_unavailable', error_description: 'the access token could not be checked' })
  } else {
    res.status(500).json({ error: 'server_error', error_description: 'the access token could not be checked' })
  }
}

function requestUrl(req: Request, base: string | undefined): string | undefined {
  const target = requestTarget(req.originalUrl)
  if (target === undefined) return undefined
  const origin = base ?? `${req.protocol}://${req.host}`
  try {
    // Concatenation, not `new URL(target, base)`: a target like `//evil.example/x` must stay a path.
    return new URL(`${origin}${target}`).href
  } catch {
    return undefined
  }
}
