// The Express adapter: HTTP plumbing only. Login, callback validation, grant storage, token handling and
// revocation are the core's (ResourceClient); this file maps them onto routes, a cookie and middleware.
import express, { type ErrorRequestHandler, type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express'
import type { ResourceClient } from '../../client/resource-client.js'
import { ResourceTokensConfigError, ResourceTokensError } from '../../errors/resource-tokens-error.js'
import { checkReturnTo } from '../../login/return-to.js'
import { CSRF_FIELD, CSRF_HEADER, checkCsrfToken, isSameOriginRequest } from './csrf.js'
import { resolveExpressOptions, type ExpressAdapterOptions } from './options.js'
import { bindTokens } from './request-tokens.js'
import { describeError, sendFailure, wantsHtml, type Failure } from './responses.js'
import { clearedSessionCookie, newSessionId, readSessionId, sessionCookie } from './session-cookie.js'

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
  readonly paths: { readonly login: string; readonly callback: string; readonly logout: string }
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
 * @param client - from {@link createResourceClient}
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
  const config = resolveExpressOptions(options)
  const paths = {
    login: `${config.mountPath}/login`,
    callback: `${config.mountPath}/callback`,
    logout: `${config.mountPath}/logout`,
  } as const
  /** An absolute URL on this app, from configuration only. `path` is app-relative and already checked. */
  const appUrl = (path: string): string => `${config.origin}${config.prefix}${path}`
  const homeLinks: ReadonlyArray<[string, string]> = [['Sign in again', appUrl(paths.login)], ['Home', appUrl('/')]]
  const parseForm = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 20 })
  const log = config.logger

  function attach(req: Request, res: Response, key: string): void {
    const tokens = bindTokens(client, key)
    req.resourceTokens = tokens
    res.locals['resourceTokens'] = tokens
  }

  /** The answer to a request that needs a login: a redirect for a browser, 401 JSON for the rest. */
  function loginRequired(req: Request, res: Response): void {
    res.set('Cache-Control', 'no-store')
    if (wantsHtml(req)) {
      const target = req.method === 'GET' || req.method === 'HEAD' ? safeReturnTo(requestPath(req.originalUrl)) : '/'
      const query = target === '/' ? '' : `?returnTo=${encodeURIComponent(target)}`
      res.redirect(303, appUrl(`${paths.login}${query}`))
      return
    }
    res.status(401).json({ error: 'login_required', error_description: 'sign in first', login_url: appUrl(paths.login) })
  }

  /** The session's key when it has a grant; `undefined` when signed out. Throws only for store failures. */
  async function signedInKey(req: Request): Promise<string | undefined> {
    const key = readSessionId(req.headers, config.cookieName)
    if (key === undefined) return undefined
    return (await client.hasGrant(key)) ? key : undefined
  }

  /** Cross-origin and CSRF-token checks shared by logout and {@link ExpressResourceTokens.verifyCsrf}. */
  function csrfFailure(req: Request, key: string | undefined, form: unknown): Failure | undefined {
    if (!isSameOriginRequest(req.headers, config.origin)) {
      return { status: 403, error: 'cross_origin_request', title: 'Request refused', message: 'This action can only be started from this app\'s own pages.' }
    }
    if (key === undefined) return undefined
    const field = typeof form === 'object' && form !== null ? (form as Record<string, unknown>)[CSRF_FIELD] : undefined
    const header = req.headers[CSRF_HEADER]
    if (!checkCsrfToken(key, field) && !checkCsrfToken(key, Array.isArray(header) ? header[0] : header)) {
      return { status: 403, error: 'invalid_csrf_token', title: 'Request refused', message: 'The page was out of date. Go back, reload it and try again.' }
    }
    return undefined
  }

  /** Runs the URL-encoded body parser without letting its errors reach the app's error handler. */
  function readForm(req: Request, res: Response): Promise<boolean> {
    return new Promise((resolve) => {
      parseForm(req, res, (err?: unknown) => resolve(err === undefined || err === null))
    })
  }

  const router = express.Router()
  let mountWarned = false
  router.use((req: Request, res: Response, next: NextFunction) => {
    res.set('Cache-Control', 'no-store')
    if (!mountWarned && req.baseUrl !== config.mountPath) {
      mountWarned = true
      log.warn?.('the express router is mounted at a path other than "mountPath": logins will fail', { mountPath: config.mountPath, mountedAt: req.baseUrl })
    }
    next()
  })

  router.get('/login', async (req: Request, res: Response) => {
    try {
      const returnTo = safeReturnTo(new URLSearchParams(queryOf(req.originalUrl)).get('returnTo'))
      // Already signed in: nothing to do. Starting over would throw the session away, and a cross-site
      // link to /login could then sign people out.
      if ((await signedInKey(req)) !== undefined) {
        res.redirect(303, appUrl(returnTo))
        return
      }
      // A new id for every login: whatever id the browser had (perhaps planted) never gets a grant.
      const key = newSessionId()
      const { url } = await client.startLogin(key, { returnTo })
      res.append('Set-Cookie', sessionCookie(key, config))
      res.redirect(303, url.href)
    } catch (err) {
      sendFailure(req, res, describeError(err, log), [['Home', appUrl('/')]])
    }
  })

  router.get('/callback', async (req: Request, res: Response) => {
    // The code is in this URL: keep it out of Referer headers of whatever comes next.
    res.set('Referrer-Policy', 'no-referrer')
    const key = readSessionId(req.headers, config.cookieName)
    try {
      if (key === undefined) throw new ResourceTokensError('invalid_callback', 'the callback came without the session cookie of its login')
      // Built from configuration: the core compares it with the registered redirect URI.
      const callbackUrl = appUrl(requestPath(req.originalUrl))
      const { returnTo } = await client.finishLogin(key, callbackUrl)
      res.redirect(303, appUrl(safeReturnTo(returnTo)))
    } catch (err) {
      // The core stores nothing when it throws, and the cookie is left alone: a replayed or stale
      // callback must not end a session that is signed in.
      sendFailure(req, res, describeError(err, log), homeLinks)
    }
  })

  router.post('/logout', async (req: Request, res: Response) => {
    try {
      const key = readSessionId(req.headers, config.cookieName)
      if (!(await readForm(req, res))) {
        sendFailure(req, res, { status: 400, error: 'invalid_request', title: 'Bad request', message: 'The form could not be read.' })
        return
      }
      const refused = csrfFailure(req, key, req.body)
      if (refused !== undefined) {
        sendFailure(req, res, refused, [['Home', appUrl('/')]])
        return
      }
      let endSessionUrl: URL | undefined
      let revocation: unknown
      if (key !== undefined) {
        const claims = await client.claims(key)
        const result = await client.logout(key)
        endSessionUrl = result.endSessionUrl
        revocation = result.revocation
        res.append('Set-Cookie', clearedSessionCookie(config))
        try {
          await config.onLogout?.({ req, res, key, claims, result })
        } catch (err) {
          log.error?.('the onLogout hook failed; the logout stands', { cause: err })
        }
      } else {
        res.append('Set-Cookie', clearedSessionCookie(config))
      }
      if (res.headersSent) return
      if (wantsHtml(req)) {
        res.redirect(303, endSessionUrl?.href ?? appUrl(config.afterLogoutPath))
      } else {
        res.json({ logged_out: true, end_session_url: endSessionUrl?.href ?? null, revocation: revocation ?? null })
      }
    } catch (err) {
      sendFailure(req, res, describeError(err, log), [['Home', appUrl('/')]])
    }
  })

  // Logout changes state: any other method is refused, so a link or an <img> cannot trigger it.
  router.all('/logout', (req: Request, res: Response) => {
    res.set('Allow', 'POST')
    sendFailure(req, res, { status: 405, error: 'method_not_allowed', title: 'Use the sign-out button', message: 'Signing out needs a POST from this app\'s own page.' }, [['Home', appUrl('/')]])
  })

  /** Reads the session; with `required`, a visitor without one is sent to login (or gets a 401). */
  const loginMiddleware = (required: boolean): RequestHandler => async (req, res, next) => {
    let key: string | undefined
    try {
      key = await signedInKey(req)
    } catch (err) {
      sendFailure(req, res, describeError(err, log))
      return
    }
    if (key !== undefined) attach(req, res, key)
    else if (required) {
      loginRequired(req, res)
      return
    }
    next()
  }
  const requireLogin = loginMiddleware(true)
  const optionalLogin = loginMiddleware(false)

  const verifyCsrf: RequestHandler = async (req, res, next) => {
    const key = readSessionId(req.headers, config.cookieName)
    if (!(await readForm(req, res))) {
      sendFailure(req, res, { status: 400, error: 'invalid_request', title: 'Bad request', message: 'The form could not be read.' })
      return
    }
    const refused = key === undefined
      ? { status: 403, error: 'invalid_csrf_token', title: 'Request refused', message: 'Sign in first.' }
      : csrfFailure(req, key, req.body)
    if (refused !== undefined) {
      sendFailure(req, res, refused, [['Home', appUrl('/')]])
      return
    }
    next()
  }

  const handleLoginRequired: ErrorRequestHandler = (err, req, res, next) => {
    if (err instanceof ResourceTokensError && err.code === 'login_required' && !res.headersSent) {
      loginRequired(req, res)
      return
    }
    next(err)
  }

  return Object.freeze({
    router,
    mountPath: config.mountPath,
    paths: Object.freeze(paths),
    requireLogin,
    optionalLogin,
    verifyCsrf,
    handleLoginRequired,
    csrfField: CSRF_FIELD,
    csrfHeader: CSRF_HEADER,
  })
}

function assertClient(client: unknown): asserts client is ResourceClient {
  const c = client as Partial<Record<keyof ResourceClient, unknown>> | null | undefined
  const methods = ['startLogin', 'finishLogin', 'fetch', 'accessToken', 'claims', 'hasGrant', 'logout'] as const
  if (typeof c !== 'object' || c === null || methods.some((m) => typeof c[m] !== 'function')) {
    throw new ResourceTokensConfigError('"client" must be a ResourceClient from createResourceClient()')
  }
}

/** A `returnTo` the core accepts (a plain relative path), or `/`. */
function safeReturnTo(value: string | null | undefined): string {
  if (value === null || value === undefined) return '/'
  try {
    return checkReturnTo(value)
  } catch {
    return '/'
  }
}

/** Path and query of the request target; absolute-form targets (RFC 9112 section 3.2.2) lose their authority. */
function requestPath(originalUrl: string): string {
  if (originalUrl.startsWith('/')) return originalUrl
  try {
    const url = new URL(originalUrl)
    return `${url.pathname}${url.search}`
  } catch {
    return '/'
  }
}

function queryOf(originalUrl: string): string {
  const at = originalUrl.indexOf('?')
  return at < 0 ? '' : originalUrl.slice(at + 1)
}
