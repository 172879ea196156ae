// @ts-nocheck
// The Express adapter: the web handlers (src/web) mapped onto an Express router and middleware. The
// session cookie, CSRF checks, returnTo rule and error pages are the web handlers'; this file only
// translates between Express and Request/Response, and keeps Express's own conveniences (res.locals,
// error middleware, a body already parsed by the app).
import express, { type ErrorRequestHandler, type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express'

import type { ResourceClient } from '../../client/resource-client.js'
import { ResourceTokensConfigError, ResourceTokensError } from '../../errors/resource-tokens-error.js'
import { buildHandlers, type ParsedForm } from '../../web/handlers.js'
import { webRequestFrom } from '../../web/node-request.js'
import { resolveWebOptions } from '../../web/options.js'
import { failureResponse } from '../../web/responses.js'
import type { LogoutEvent } from './logout-event.js'
import type { ExpressAdapterOptions } from './options.js'

/** What {@link resourceTokens} returns: a router to mount and middleware to put in front of routes. */
export interface ExpressResourceTokens {
  /**
   * GET `/login` (query `returnTo`, a relative path), GET `/callback`, POST `/logout`. Mount it at
   * `mountPath`: `app.use(auth.mountPath, auth.router)`.
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
 * Needs neither express-session nor cookie-parser, and works beside them. Built on the web handlers
 * (`resource-tokens/web`), like the Fastify, Hono and Next.js adapters.
 *
 * The session id is the grant key. The client's `redirectUri` must be `baseUrl + mountPath + '/callback'`.
 *
 * @param client - from `createResourceClient()`
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
  if (typeof options !== 'object' || options === null) throw new ResourceTokensConfigError('options must be an object with at least "baseUrl"')
  const { onLogout, ...rest } = options
  if (onLogout !== undefined && typeof onLogout !== 'function') throw new ResourceTokensConfigError('"onLogout" must be a function')

  // The Express hook wants req and res; the web handlers know the Request they were given.
  const exchanges = new WeakMap<globalThis.Request, { req: Request; res: Response }>()
  const config = resolveWebOptions({
    ...rest,
    ...(onLogout === undefined
      ? {}
      : {
          onLogout: async (event) => {
            const exchange = exchanges.get(event.request)
            if (exchange === undefined) return
            const expressEvent: LogoutEvent = { req: exchange.req, res: exchange.res, key: event.key, claims: event.claims, result: event.result }
            await onLogout(expressEvent)
          },
        }),
  })
  const web = buildHandlers(client, config)
  const parseForm = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 20 })
  const toWeb = (req: Request, res?: Response): globalThis.Request => {
    const request = webRequestFrom(req.method, req.originalUrl, req.headers, config.origin)
    if (res !== undefined) exchanges.set(request, { req, res })
    return request
  }

  /** The form of a URL-encoded body (parsed here, or by the app before); `null` when it cannot be read. */
  const readForm = (req: Request, res: Response): Promise<ParsedForm | null> => new Promise((resolve) => {
    parseForm(req, res, (err?: unknown) => {
      if (err !== undefined && err !== null) resolve(null)
      else resolve(typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>) : {})
    })
  })
  const unreadable = (request: globalThis.Request): globalThis.Response =>
    failureResponse(request, { status: 400, error: 'invalid_request', title: 'Bad request', message: 'The form could not be read.' })

  const router = express.Router()
  let mountWarned = false
  router.use((req: Request, res: Response, next: NextFunction) => {
    res.set('Cache-Control', 'no-store')
    if (!mountWarned && req.baseUrl !== config.mountPath) {
      mountWarned = true
      config.logger.warn?.('the express router is mounted at a path other than "mountPath": logins will fail', { mountPath: config.mountPath, mountedAt: req.baseUrl })
    }
    next()
  })
  router.get('/login', route(async (req) => web.login(toWeb(req))))
  router.get('/callback', route(async (req) => web.callback(toWeb(req))))
  router.post('/logout', route(async (req, res) => {
    const request = toWeb(req, res)
    const form = await readForm(req, res)
    return form === null ? unreadable(request) : web.logout(request, form)
  }))
  // The provider's server-to-server call: no cookie, no CSRF token, no redirect; an unreadable form has no token.
  router.post('/backchannel-logout', route(async (req, res) => web.backchannelLogout(toWeb(req), (await readForm(req, res)) ?? new URLSearchParams())))
  // Logout changes state: any other method is refused, so a link or an <img> cannot trigger it.
  router.all('/logout', route(async (req) => (await web.handle(toWeb(req))) ?? web.loginRequired(toWeb(req))))

  const loginMiddleware = (required: boolean): RequestHandler => async (req, res, next) => {
    const request = toWeb(req)
    let tokens
    try {
      tokens = await web.session(request)
    } catch (err) {
      await send(res, web.errorResponse(request, err))
      return
    }
    if (tokens !== undefined) {
      req.resourceTokens = tokens
      res.locals['resourceTokens'] = tokens
    } else if (required) {
      await send(res, web.loginRequired(request))
      return
    }
    next()
  }

  const verifyCsrf: RequestHandler = async (req, res, next) => {
    const request = toWeb(req)
    const form = await readForm(req, res)
    const refused = form === null ? unreadable(request) : await web.verifyCsrf(request, form)
    if (refused !== undefined) await send(res, refused)
    else next()
  }

  const handleLoginRequired: ErrorRequestHandler = (err, req, res, next) => {
    if (err instanceof ResourceTokensError && err.code === 'login_required' && !res.headersSent) {
      void send(res, web.loginRequired(toWeb(req))).catch(next)
      return
    }
    next(err)
  }

  return Object.freeze({
    router,
    mountPath: web.mountPath,
    paths: web.paths,
    requireLogin: loginMiddleware(true),
    optionalLogin: loginMiddleware(false),
    verifyCsrf,
    handleLoginRequired,
    csrfField: web.csrfField,
    csrfHeader: web.csrfHeader,
  })
}

/** An Express route answering with the web handlers' Response; a throw goes to Express, never unhandled. */
function route(handler: (req: Request, res: Response) => Promise<globalThis.Response>): RequestHandler {
  return (req, res, next) => {
    handler(req, res).then((response) => send(res, response)).catch(next)
  }
}

/** Sends a Web Response through Express: status, headers (every Set-Cookie appended), body. */
async function send(res: Response, response: globalThis.Response): Promise<void> {
  // The onLogout hook may have answered itself.
  if (res.headersSent) return
  res.status(response.status)
  for (const [name, value] of response.headers) {
    if (name.toLowerCase() !== 'set-cookie') res.setHeader(name, value)
  }
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) res.append('Set-Cookie', cookies)
  res.end(response.body === null ? undefined : Buffer.from(await response.arrayBuffer()))
}

function assertClient(client: unknown): asserts client is ResourceClient {
  const c = client as Partial<Record<keyof ResourceClient, unknown>> | null | undefined
  const methods = ['startLogin', 'finishLogin', 'fetch', 'accessToken', 'claims', 'hasGrant', 'logout'] as const
  if (typeof c !== 'object' || c === null || methods.some((m) => typeof c[m] !== 'function')) {
    throw new ResourceTokensConfigError('"client" must be a ResourceClient from createResourceClient()')
  }
}
