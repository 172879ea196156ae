// The demo's two protected APIs. Each is an ordinary Express app behind the library's guard, accepting
// only access tokens whose audience is its own resource indicator and whose scope it needs.
import type { IncomingMessage, ServerResponse } from 'node:http'
import express, { type Request, type Response } from 'express'
import {
  protectedResourceMetadata,
  protectedResourceMetadataHandler,
  protectedResourceMetadataUrl,
  requireAccessToken,
  type VerifiedAccessToken,
} from 'resource-tokens/express'
import type { MeterProviderLike } from 'resource-tokens'

export interface ResourceApiOptions {
  /** `contacts` or `calendar`: names the API and its one route, `/<name>/<collection>`. */
  name: string
  /** The API's public origin, e.g. `http://127.0.0.1:4001`. */
  origin: string
  /** Its resource indicator (the `aud` it requires), e.g. `http://127.0.0.1:4001/contacts`. */
  indicator: string
  /** The scope it requires, e.g. `contacts:read`. */
  scope: string
  issuer: string
  /** Collection path under the indicator, e.g. `people`, and what it returns. */
  collection: string
  items: ReadonlyArray<Record<string, string>>
  /** Accept DPoP-bound tokens (RFC 9449): a bound token is only accepted with a proof from its key. */
  dpop?: boolean
  /** Where the guard's metrics go (verifications by outcome). */
  meterProvider?: MeterProviderLike
  /**
   * A route `POST /<indicator path>/<path>` that needs a sign-in at most `maxAgeSeconds` old: the guard
   * answers older tokens with the RFC 9470 challenge (`insufficient_user_authentication`, `max_age`).
   */
  recentSignIn?: { path: string; maxAgeSeconds: number }
}

/** Creates one API and returns the request handler to serve it with. */
export function createResourceApi(options: ResourceApiOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const metadataUrl = protectedResourceMetadataUrl(options.indicator)
  const app = express()
  app.disable('x-powered-by')
  app.disable('etag')

  app.get(new URL(metadataUrl).pathname, protectedResourceMetadataHandler(protectedResourceMetadata({
    resource: options.indicator,
    authorizationServers: [options.issuer],
    scopesSupported: [options.scope],
    resourceName: `${options.name} API (demo)`,
    ...(options.dpop === true ? { dpopSigningAlgValuesSupported: ['ES256'] } : {}),
  })))

  const guard = requireAccessToken({
    issuer: options.issuer,
    audience: options.indicator,
    scopes: [options.scope],
    resourceUrl: options.origin,
    resourceMetadataUrl: metadataUrl,
    ...(options.dpop === true ? { dpop: {} } : {}),
    ...(options.meterProvider === undefined ? {} : { meterProvider: options.meterProvider }),
  })

  app.get(`${new URL(options.indicator).pathname}/${options.collection}`, guard, (_req: Request, res: Response) => {
    const token = res.locals['accessToken'] as VerifiedAccessToken
    res.set('Cache-Control', 'no-store').json({
      api: options.name,
      user: token.subject ?? null,
      [options.collection]: options.items,
    })
  })

  if (options.recentSignIn !== undefined) {
    // The same guard, per route, with a step-up requirement (RFC 9470).
    const recent = requireAccessToken({
      issuer: options.issuer,
      audience: options.indicator,
      scopes: [options.scope],
      maxAgeSeconds: options.recentSignIn.maxAgeSeconds,
      resourceUrl: options.origin,
      resourceMetadataUrl: metadataUrl,
    })
    app.post(`${new URL(options.indicator).pathname}/${options.recentSignIn.path}`, recent, (_req: Request, res: Response) => {
      const token = res.locals['accessToken'] as VerifiedAccessToken
      res.set('Cache-Control', 'no-store').json({ api: options.name, done: true, signedInAt: token.claims['auth_time'] ?? null })
    })
  }

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'not_found' })
  })
  return app
}
