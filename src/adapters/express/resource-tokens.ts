// The Express adapter: HTTP plumbing only. Login, callback validation, grant storage, token handling and
// revocation are the core's (ResourceClient); this file puts the routes and middleware of the modules
// beside it together.
import express, { type ErrorRequestHandler, type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express'

import type { ResourceClient } from '../../client/resource-client.js'
import { ResourceTokensConfigError } from '../../errors/resource-tokens-error.js'
import { backchannelLogoutRoute } from './backchannel-logout-route.js'
import { createContext, type AdapterContext } from './context.js'
import { verifyCsrfMiddleware } from './csrf-check.js'
import { CSRF_FIELD, CSRF_HEADER } from './csrf.js'
import { callbackRoute, loginRoute } from './login-routes.js'
import { logoutMethodNotAllowed, logoutRoute } from './logout-route.js'
import { resolveExpressOptions, type ExpressAdapterOptions } from './options.js'
import { loginMiddleware, loginRequiredErrorHandler } from './session-middleware.js'

/** What {@link resourceTokens} returns: a router to mount and middleware to put in front of routes. */
export interface ExpressResourceTokens {
  /**
   * GET `/login` (query `returnTo`, a relative path), GET `/callback`, POST `/logout`, and POST
   * `/backchannel-logout` (OpenID Connect Back-Channel Logout: register `baseUrl + mountPath + '/backchannel-logout'`
   * as the client's `backchannel_logout_uri` at the provider). Mount it at `mountPath`: `app.use(auth.mountPath, auth.router)`.
   */
  readonly router: Router
  /** The `mountPath` option, resolved (default `/auth`). */
  readonly mountPath: string
  /** App-relative paths of the three routes, e.g. for a logout form's `action`. */
  readonly paths: { readonly login: string; readonly callback: string; readonly logout: string; readonly backchannelLogout: string }
  /**
   * Lets a signed-in request through with `req.resourceTokens` set. Otherwise a browser navigation is
   * redirected to login (coming back to the same URL afterwards) and any other request gets
   * `401 {"error":"login_required"}`.
   */
  readonly requireLogin: RequestHandler
  /** Sets `req.resourceTokens` when the request is signed in; lets every request through. */
  readonly optionalLogin: RequestHandler
  /**
   * Protects a state-changing route of the app the way logout is protected: refuses (403) a request the
   * browser marks as cross-origin (`Sec-Fetch-Site`, `Origin`), or that does not carry the session's CSRF
   * token in the form field `_csrf` or the header `X-CSRF-Token`. Parses URL-encoded bodies itself.
   */
  readonly verifyCsrf: RequestHandler
  /**
   * Error middleware: a `login_required` thrown by `req.resourceTokens.fetch` (the provider no longer
   * honours the grant) gets the same answer as {@link requireLogin}; every other error is passed on.
   */
  readonly handleLoginRequired: ErrorRequestHandler
  /** Name of the form field carrying the CSRF token: `_csrf`. */
  readonly csrfField: string
  /** Name of the header carrying the CSRF token: `x-csrf-token`. */
  readonly csrfHeader: string
}

/**
 * Creates the Express integration for a {@link ResourceClient}: login, callback and logout routes, the
 * adapter's own session cookie (a 256-bit random id, renewed at every login, HttpOnly, SameSite=Lax,
 * `__Host-` and Secure on https) and middleware that gives each request the signed-in user's tokens.
 * Needs neither express-session nor cookie-parser, and works beside them.
 *
 * The session id is the grant key. The client's `redirectUri` must be `baseUrl + mountPath + '/callback'`.
 *
 * @param client - from `createResourceClient` (from `resource-tokens`)
 * @param options - `baseUrl` is required; see {@link ExpressAdapterOptions}
 * @throws `ResourceTokensConfigError` (`invalid_config`) for bad options, naming the option
 * @see RFC 6749 section 10.12 (CSRF), RFC 6265bis section 8.8 (SameSite), OpenID Connect RP-Initiated Logout 1.0
 * @example
 * ```ts
 * import express from 'express'
 * import { createResourceClient } from 'resource-tokens'
 * import { resourceTokens } from 'resource-tokens/express'
 *
 * const client = await createResourceClient({
 *   issuer: 'https://as.example.com', clientId: 'app', clientSecret: process.env.CLIENT_SECRET,
 *   redirectUri: 'https://app.example.com/auth/callback',
 *   postLogoutRedirectUri: 'https://app.example.com/',
 *   resources: [{ url: 'https://contacts.example.com/api', scope: 'contacts:read' }],
 * })
 * const auth = resourceTokens(client, { baseUrl: 'https://app.example.com' })
 * const app = express()
 * app.use(auth.mountPath, auth.router)
 * app.get('/people', auth.requireLogin, async (req, res) => {
 *   const response = await req.resourceTokens!.fetch('https://contacts.example.com/api/people')
 *   res.json(await response.json())
 * })
 * ```
 */
export function resourceTokens(client: ResourceClient, options: ExpressAdapterOptions): ExpressResourceTokens {
  assertClient(client)
  const ctx = createContext(client, resolveExpressOptions(options))
  return Object.freeze({
    router: authRouter(ctx),
    mountPath: ctx.config.mountPath,
    paths: Object.freeze({ ...ctx.paths }),
    requireLogin: loginMiddleware(ctx, true),
    optionalLogin: loginMiddleware(ctx, false),
    verifyCsrf: verifyCsrfMiddleware(ctx),
    handleLoginRequired: loginRequiredErrorHandler(ctx),
    csrfField: CSRF_FIELD,
    csrfHeader: CSRF_HEADER,
  })
}

/** GET /login, GET /callback, POST /logout, POST /backchannel-logout; every answer `no-store`; a warning when mounted elsewhere than `mountPath`. */
function authRouter(ctx: AdapterContext): Router {
  const router = express.Router()
  let mountWarned = false
  router.use((req: Request, res: Response, next: NextFunction) => {
    res.set('Cache-Control', 'no-store')
    if (!mountWarned && req.baseUrl !== ctx.config.mountPath) {
      mountWarned = true
      ctx.config.logger.warn?.('the express router is mounted at a path other than "mountPath": logins will fail', { mountPath: ctx.config.mountPath, mountedAt: req.baseUrl })
    }
    next()
  })
  router.get('/login', loginRoute(ctx))
  router.get('/callback', callbackRoute(ctx))
  router.post('/logout', logoutRoute(ctx))
  router.all('/logout', logoutMethodNotAllowed(ctx))
  router.post('/backchannel-logout', backchannelLogoutRoute(ctx))
  return router
}

function assertClient(client: unknown): asserts client is ResourceClient {
  const c = client as Partial<Record<keyof ResourceClient, unknown>> | null | undefined
  const methods = ['startLogin', 'finishLogin', 'fetch', 'accessToken', 'claims', 'hasGrant', 'logout'] as const
  if (typeof c !== 'object' || c === null || methods.some((m) => typeof c[m] !== 'function')) {
    throw new ResourceTokensConfigError('"client" must be a ResourceClient from createResourceClient()')
  }
}
