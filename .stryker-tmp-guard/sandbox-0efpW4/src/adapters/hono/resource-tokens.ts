// @ts-nocheck
// The Hono adapter: the web handlers as a Hono sub-app and middleware. Hono speaks Request/Response
// already, so this is mostly wiring.
import { Hono, type MiddlewareHandler } from 'hono'
import type { ResourceClient } from '../../client/resource-client.js'
import { createWebHandlers, type WebHandlers } from '../../web/handlers.js'
import type { WebHandlerOptions } from '../../web/options.js'
import type { RequestResourceTokens } from '../../web/request-tokens.js'

/** The Hono environment of {@link HonoResourceTokens.requireLogin}: `c.var.resourceTokens` is typed. */
export interface ResourceTokensEnv {
  Variables: {
    /** The signed-in user's tokens. */
    resourceTokens: RequestResourceTokens
  }
}

/** The Hono environment of {@link HonoResourceTokens.optionalLogin}: `c.var.resourceTokens` may be missing. */
export interface OptionalResourceTokensEnv {
  Variables: {
    /** The signed-in user's tokens, `undefined` when signed out. */
    resourceTokens: RequestResourceTokens | undefined
  }
}

/** What {@link resourceTokens} returns: routes to mount and middleware to put in front of routes. */
export interface HonoResourceTokens {
  /** GET `/login` (query `returnTo`), GET `/callback`, POST `/logout`: `app.route(auth.mountPath, auth.routes)`. */
  readonly routes: Hono
  /** The `mountPath` option, resolved (default `/auth`). */
  readonly mountPath: string
  /** Server paths of the three routes, e.g. for a logout form's `action`. */
  readonly paths: WebHandlers['paths']
  /**
   * Lets a signed-in request through with `c.var.resourceTokens` set. Otherwise a browser is redirected to
   * login (and back here afterwards) and any other request gets `401 {"error":"login_required"}`.
   */
  readonly requireLogin: MiddlewareHandler<ResourceTokensEnv>
  /** Sets `c.var.resourceTokens` when the request is signed in; lets every request through. */
  readonly optionalLogin: MiddlewareHandler<OptionalResourceTokensEnv>
  /**
   * Protects a state-changing route the way logout is protected: 403 for a request the browser marks
   * cross-origin, or without the session's CSRF token (form field `_csrf` or header `X-CSRF-Token`). Reads
   * a copy of a URL-encoded body, so the route can still read it.
   */
  readonly verifyCsrf: MiddlewareHandler
  /**
   * For `app.onError`: the response to an error, `login_required` (thrown by `fetch` when the provider no
   * longer honours the grant) getting the same answer as {@link requireLogin}. Never a stack trace.
   */
  readonly errorResponse: (err: unknown, request: Request) => Response
  /** Name of the form field carrying the CSRF token: `_csrf`. */
  readonly csrfField: string
  /** Name of the header carrying the CSRF token: `x-csrf-token`. */
  readonly csrfHeader: string
}

/**
 * Creates the Hono integration for a {@link ResourceClient}: login, callback and logout routes, the session
 * cookie (a 256-bit random id, renewed at every login, HttpOnly, SameSite=Lax, `__Host-` and Secure on https)
 * and middleware that gives each request the signed-in user's tokens. Runs wherever Hono runs on Node.js
 * (e.g. `@hono/node-server`).
 *
 * @param client - from `createResourceClient()`; its `redirectUri` must be `baseUrl + mountPath + '/callback'`
 * @param options - `baseUrl` is required; see {@link WebHandlerOptions}
 * @throws `ResourceTokensConfigError` (`invalid_config`) for bad options, naming the option
 * @example
 * ```ts
 * const auth = resourceTokens(client, { baseUrl: 'https://app.example.com' })
 * const app = new Hono()
 * app.route(auth.mountPath, auth.routes)
 * app.get('/people', auth.requireLogin, async (c) => c.json(await (await c.var.resourceTokens.fetch(contactsUrl)).json()))
 * ```
 */
export function resourceTokens(client: ResourceClient, options: WebHandlerOptions): HonoResourceTokens {
  const web = createWebHandlers(client, options)

  const routes = new Hono()
  routes.get('/login', (c) => web.login(c.req.raw))
  routes.get('/callback', (c) => web.callback(c.req.raw))
  routes.post('/logout', (c) => web.logout(c.req.raw))
  // The provider's server-to-server call (Back-Channel Logout): no cookie, no CSRF token, no redirect.
  routes.post('/backchannel-logout', (c) => web.backchannelLogout(c.req.raw))
  // Logout changes state: any other method is refused, so a link or an <img> cannot trigger it.
  routes.all('/logout', async (c) => (await web.handle(c.req.raw)) ?? c.notFound())

  const requireLogin: MiddlewareHandler<ResourceTokensEnv> = async (c, next) => {
    const outcome = await web.requireLogin(c.req.raw)
    if (outcome instanceof Response) return outcome
    c.set('resourceTokens', outcome)
    await next()
    return undefined
  }

  const optionalLogin: MiddlewareHandler<OptionalResourceTokensEnv> = async (c, next) => {
    try {
      c.set('resourceTokens', await web.session(c.req.raw))
    } catch (err) {
      return web.errorResponse(c.req.raw, err)
    }
    await next()
    return undefined
  }

  const verifyCsrf: MiddlewareHandler = async (c, next) => {
    // A copy: the route after this one may read the body too.
    const refused = await web.verifyCsrf(c.req.raw.bodyUsed ? c.req.raw : c.req.raw.clone())
    if (refused !== undefined) return refused
    await next()
    return undefined
  }

  return Object.freeze({
    routes,
    mountPath: web.mountPath,
    paths: web.paths,
    requireLogin,
    optionalLogin,
    verifyCsrf,
    errorResponse: (err: unknown, request: Request) => web.errorResponse(request, err),
    csrfField: web.csrfField,
    csrfHeader: web.csrfHeader,
  })
}
