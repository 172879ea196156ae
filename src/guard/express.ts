// Express adapter. Only types come from express, so express stays an optional peer dependency.
import type { NextFunction, Request, RequestHandler, Response } from 'express'

import { ResourceTokensConfigError, ResourceTokensError } from '../errors/resource-tokens-error.js'
import { isSecureOrLoopback } from '../resources/loopback.js'
import { GuardError } from './guard-error.js'
import type { ProtectedResourceMetadata } from './protected-resource-metadata.js'
import { createVerifierInternals, type VerifyAccessTokenOptions } from './verify-access-token.js'

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

  return (req: Request, res: Response, next: NextFunction): void => {
    const url = requestUrl(req, base)
    const headers = req.headersDistinct ?? req.headers
    const request = { method: req.method, url: url ?? '', headers }
    const work = url === undefined
      ? Promise.reject(new GuardError('invalid_request', 'request target cannot be resolved'))
      : verify(request)
    work.then(
      (token) => {
        res.locals['accessToken'] = token
        const nonce = token.bound === undefined ? undefined : currentDpopNonce()
        if (nonce !== undefined) res.setHeader('DPoP-Nonce', nonce)
        next()
      },
      (err: unknown) => {
        if (res.headersSent) return
        res.setHeader('Cache-Control', 'no-store')
        if (err instanceof GuardError) {
          const { status, headers: challengeHeaders } = err.challenge()
          res.status(status).set(challengeHeaders).json({ error: err.error, error_description: err.description })
        } else if (err instanceof ResourceTokensError && err.code !== 'invalid_config') {
          res.status(503).json({ error: 'temporarily_unavailable', error_description: 'the access token could not be checked' })
        } else {
          res.status(500).json({ error: 'server_error', error_description: 'the access token could not be checked' })
        }
      },
    )
      // Whatever throws past this point (a response already sent, a throwing route) goes to Express, never
      // becomes an unhandled rejection.
      .catch((err: unknown) => next(err))
  }
}

function requestUrl(req: Request, base: string | undefined): string | undefined {
  let target = req.originalUrl
  // Absolute-form request targets (RFC 9112 section 3.2.2): keep only path and query.
  if (!target.startsWith('/')) {
    try {
      const absolute = new URL(target)
      target = `${absolute.pathname}${absolute.search}`
    } catch {
      return undefined
    }
  }
  const origin = base ?? `${req.protocol}://${req.host}`
  try {
    // Concatenation, not `new URL(target, base)`: a target like `//evil.example/x` must stay a path.
    return new URL(`${origin}${target}`).href
  } catch {
    return undefined
  }
}

/**
 * Express handler serving a metadata document at `/.well-known/oauth-protected-resource` (mount it at
 * the path of {@link protectedResourceMetadataUrl}). Answers GET and HEAD with `application/json`,
 * `Cache-Control: public, max-age=3600` and `Access-Control-Allow-Origin: *` (the document is public and
 * browser-based clients read it); other methods get 405.
 *
 * @param metadata - the document, from {@link protectedResourceMetadata}
 * @returns an Express request handler
 * @see RFC 9728 section 3
 * @example
 * ```ts
 * app.get('/.well-known/oauth-protected-resource', protectedResourceMetadataHandler(metadata))
 * ```
 */
export function protectedResourceMetadataHandler(metadata: ProtectedResourceMetadata): RequestHandler {
  if (typeof metadata !== 'object' || metadata === null || typeof metadata.resource !== 'string') {
    throw new ResourceTokensConfigError('metadata must come from protectedResourceMetadata()')
  }
  const body = JSON.stringify(metadata)
  return (req: Request, res: Response): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.status(405).set('Allow', 'GET, HEAD').end()
      return
    }
    res
      .status(200)
      .set({
        'Content-Type': 'application/json; charset=utf-8',
        'Cache-Control': 'public, max-age=3600',
        'Access-Control-Allow-Origin': '*',
      })
      .send(body)
  }
}
