// @ts-nocheck
// Login, callback and logout on the Web platform: Request in, Response out, the session in a cookie.
// HTTP plumbing only: login, callback validation, grant storage, tokens and revocation are the core's
// (ResourceClient). Every framework adapter is a thin translation onto these.
import type { ResourceClient } from '../client/resource-client.js'
import { ResourceTokensConfigError, ResourceTokensError } from '../errors/resource-tokens-error.js'
import { backchannelLogoutResponse, handleBackchannelLogoutRequest } from '../login/backchannel-logout.js'
import { checkReturnTo } from '../login/return-to.js'
import { CSRF_FIELD, CSRF_HEADER, checkCsrfToken, isSameOriginRequest } from './csrf.js'
import { resolveWebOptions, type ResolvedWebOptions, type WebHandlerOptions } from './options.js'
import { bindTokens, type RequestResourceTokens } from './request-tokens.js'
import { describeError, failureResponse, jsonResponse, redirectResponse, wantsHtml, type Failure } from './responses.js'
import { clearedSessionCookie, newSessionId, readSessionId, sessionCookie } from './session-cookie.js'

/**
 * A form body that a framework has parsed already (Express's `req.body`, Fastify's `request.body`): the
 * handlers then do not read the request body themselves.
 */
export type ParsedForm = URLSearchParams | Readonly<Record<string, unknown>>

/** What {@link createWebHandlers} returns. Every function is safe to call concurrently. */
export interface WebHandlers {
  /** The `mountPath` option, resolved (default `/auth`). */
  readonly mountPath: string
  /** Server paths of the routes, e.g. for a logout form's `action` or the provider's `backchannel_logout_uri`. */
  readonly paths: { readonly login: string; readonly callback: string; readonly logout: string; readonly backchannelLogout: string }
  /** Name of the form field carrying the CSRF token: `_csrf`. */
  readonly csrfField: string
  /** Name of the header carrying the CSRF token: `x-csrf-token`. */
  readonly csrfHeader: string
  /**
   * Answers a request to one of the three routes (chosen by the path of `request.url`); `undefined` for any
   * other path. A wrong method gets 405 with `Allow`.
   */
  handle(request: Request, form?: ParsedForm): Promise<Response | undefined>
  /** GET `mountPath/login?returnTo=/path`: a new session id and a redirect to the provider. */
  login(request: Request): Promise<Response>
  /** GET `mountPath/callback`: finishes the login of this browser's session. */
  callback(request: Request): Promise<Response>
  /** POST `mountPath/logout`: same-origin and CSRF-token checked; revokes, clears the cookie, RP-initiated logout. */
  logout(request: Request, form?: ParsedForm): Promise<Response>
  /**
   * POST `mountPath/backchannel-logout`: OpenID Connect Back-Channel Logout 1.0, called by the provider (no
   * session cookie, no CSRF token, no redirect). Register `baseUrl + mountPath + '/backchannel-logout'` as the
   * client's `backchannel_logout_uri`. 200, or 400 JSON with `Cache-Control: no-store`. Reads a bounded
   * URL-encoded body unless `form` is given.
   */
  backchannelLogout(request: Request, form?: ParsedForm): Promise<Response>
  /**
   * The signed-in user's tokens, or `undefined` when the request has no session with a grant.
   * @throws {ResourceTokensError} only when the store fails (`store_unavailable`)
   */
  session(request: Request): Promise<RequestResourceTokens | undefined>
  /** The signed-in user's tokens, or the response to send instead: a login redirect, a 401, or a 503. */
  requireLogin(request: Request): Promise<RequestResourceTokens | Response>
  /** The answer to a request that needs a login: a redirect back here after login for a browser, 401 JSON otherwise. */
  loginRequired(request: Request): Response
  /**
   * Protects a state-changing route of the app the way logout is protected: a 403 response when the browser
   * marks the request cross-origin or it lacks the session's CSRF token (form field `_csrf` or header
   * `X-CSRF-Token`); `undefined` when it may go on. Reads a URL-encoded body unless `form` is given.
   */
  verifyCsrf(request: Request, form?: ParsedForm): Promise<Response | undefined>
  /** The response for an error thrown while serving `request`: `login_required` gets {@link loginRequired}; others a safe error page or JSON. */
  errorResponse(request: Request, err: unknown): Response
}

/** The largest URL-encoded form the handlers read (a logout form has one field). */
const FORM_LIMIT_BYTES = 8 * 1024
const FORM_PARAMETER_LIMIT = 20

/**
 * Creates the framework-neutral handlers for a {@link ResourceClient}: login, callback and logout routes,
 * the session cookie (a 256-bit random id, renewed at every login, HttpOnly, SameSite=Lax, `__Host-` and
 * Secure on https, nothing but the id in it) and the per-request accessor of the signed-in user's tokens.
 * The session id is the grant key. The client's `redirectUri` must be `baseUrl + mountPath + '/callback'`.
 *
 * @param client - from `createResourceClient()`
 * @param options - `baseUrl` is required; see {@link WebHandlerOptions}
 * @throws `ResourceTokensConfigError` (`invalid_config`) for bad options, naming the option
 * @see RFC 6749 section 10.12 (CSRF), RFC 6265bis section 8.8 (SameSite), OpenID Connect RP-Initiated Logout 1.0
 * @example
 * ```ts
 * const web = createWebHandlers(client, { baseUrl: 'https://app.example.com' })
 * export default { fetch: async (request: Request) => (await web.handle(request)) ?? new Response('not found', { status: 404 }) }
 * ```
 */
export function createWebHandlers(client: ResourceClient, options: WebHandlerOptions): WebHandlers {
  assertClient(client)
  return buildHandlers(client, resolveWebOptions(options))
}

/** @internal for adapters that add options of their own: validated options in, handlers out. */
export function buildHandlers(client: ResourceClient, config: ResolvedWebOptions): WebHandlers {
  assertClient(client)
  const paths = Object.freeze({
    login: `${config.mountPath}/login`,
    callback: `${config.mountPath}/callback`,
    logout: `${config.mountPath}/logout`,
    backchannelLogout: `${config.mountPath}/backchannel-logout`,
  })
  /** An absolute URL on this app, from configuration only. `path` is app-relative and already checked. */
  const appUrl = (path: string): string => `${config.origin}${config.prefix}${path}`
  const home: ReadonlyArray<[string, string]> = [['Home', appUrl('/')]]
  const homeLinks: ReadonlyArray<[string, string]> = [['Sign in again', appUrl(paths.login)], ['Home', appUrl('/')]]
  const log = config.logger

  const sessionIdOf = (request: Request): string | undefined => readSessionId(request.headers.get('cookie'), config.cookieName)

  /** The session's key when it has a grant; `undefined` when signed out. Throws only for store failures. */
  async function signedInKey(request: Request): Promise<string | undefined> {
    const key = sessionIdOf(request)
    if (key === undefined) return undefined
    return (await client.hasGrant(key)) ? key : undefined
  }

  function loginRequired(request: Request): Response {
    if (wantsHtml(request.headers)) {
      const target = request.method === 'GET' || request.method === 'HEAD' ? safeReturnTo(requestPath(request.url)) : '/'
      const query = target === '/' ? '' : `?returnTo=${encodeURIComponent(target)}`
      return redirectResponse(appUrl(`${paths.login}${query}`))
    }
    return jsonResponse({ error: 'login_required', error_description: 'sign in first', login_url: appUrl(paths.login) }, 401)
  }

  /** Cross-origin and CSRF-token checks shared by logout and verifyCsrf. */
  function csrfFailure(request: Request, key: string | undefined, form: ParsedForm | undefined): Failure | undefined {
    if (!isSameOriginRequest(request.headers, config.origin)) {
      return { status: 403, error: 'cross_origin_request', title: 'Request refused', message: 'This action can only be started from this app\'s own pages.' }
    }
    if (key === undefined) return undefined
    const field = form === undefined ? undefined : form instanceof URLSearchParams ? form.get(CSRF_FIELD) : form[CSRF_FIELD]
    if (!checkCsrfToken(key, field) && !checkCsrfToken(key, request.headers.get(CSRF_HEADER))) {
      return { status: 403, error: 'invalid_csrf_token', title: 'Request refused', message: 'The page was out of date. Go back, reload it and try again.' }
    }
    return undefined
  }

  async function login(request: Request): Promise<Response> {
    try {
      const returnTo = safeReturnTo(new URL(request.url).searchParams.get('returnTo'))
      // Already signed in: nothing to do. Starting over would throw the session away, and a cross-site
      // link to /login could then sign people out.
      if ((await signedInKey(request)) !== undefined) return redirectResponse(appUrl(returnTo))
      // A new id for every login: whatever id the browser had (perhaps planted) never gets a grant.
      const key = newSessionId()
      const { url } = await client.startLogin(key, { returnTo })
      const headers = new Headers()
      headers.append('Set-Cookie', sessionCookie(key, config))
      return redirectResponse(url.href, headers)
    } catch (err) {
      return failureResponse(request, describeError(err, log), home)
    }
  }

  async function callback(request: Request): Promise<Response> {
    // The code is in this URL: keep it out of Referer headers of whatever comes next.
    const headers = (): Headers => new Headers({ 'Referrer-Policy': 'no-referrer' })
    const key = sessionIdOf(request)
    try {
      if (key === undefined) throw new ResourceTokensError('invalid_callback', 'the callback came without the session cookie of its login')
      // Built from configuration: the core compares it with the registered redirect URI.
      const { returnTo } = await client.finishLogin(key, appUrl(requestPath(request.url)))
      return redirectResponse(appUrl(safeReturnTo(returnTo)), headers())
    } catch (err) {
      // The core stores nothing when it throws, and the cookie is left alone: a replayed or stale
      // callback must not end a session that is signed in.
      return failureResponse(request, describeError(err, log), homeLinks, headers())
    }
  }

  async function logout(request: Request, given?: ParsedForm): Promise<Response> {
    try {
      const key = sessionIdOf(request)
      const form = given ?? (await readForm(request))
      if (form === null) {
        return failureResponse(request, { status: 400, error: 'invalid_request', title: 'Bad request', message: 'The form could not be read.' })
      }
      const refused = csrfFailure(request, key, form)
      if (refused !== undefined) return failureResponse(request, refused, home)
      const headers = new Headers()
      headers.append('Set-Cookie', clearedSessionCookie(config))
      let endSessionUrl: URL | undefined
      let revocation: unknown
      if (key !== undefined) {
        const claims = await client.claims(key)
        const result = await client.logout(key)
        endSessionUrl = result.endSessionUrl
        revocation = result.revocation
        try {
          await config.onLogout?.({ request, headers, key, claims, result })
        } catch (err) {
          log.error?.('the onLogout hook failed; the logout stands', { cause: err })
        }
      }
      if (wantsHtml(request.headers)) return redirectResponse(endSessionUrl?.href ?? appUrl(config.afterLogoutPath), headers)
      return jsonResponse({ logged_out: true, end_session_url: endSessionUrl?.href ?? null, revocation: revocation ?? null }, 200, headers)
    } catch (err) {
      return failureResponse(request, describeError(err, log), home)
    }
  }

  function methodNotAllowed(request: Request, allow: string): Response {
    const headers = new Headers({ Allow: allow })
    return allow === 'POST'
      ? failureResponse(request, { status: 405, error: 'method_not_allowed', title: 'Use the sign-out button', message: 'Signing out needs a POST from this app\'s own page.' }, home, headers)
      : failureResponse(request, { status: 405, error: 'method_not_allowed', title: 'Method not allowed', message: 'This address only answers GET.' }, home, headers)
  }

  async function handle(request: Request, form?: ParsedForm): Promise<Response | undefined> {
    const path = new URL(request.url).pathname
    const read = request.method === 'GET' || request.method === 'HEAD'
    switch (path) {
      case paths.login:
        return read ? login(request) : methodNotAllowed(request, 'GET, HEAD')
      case paths.callback:
        return read ? callback(request) : methodNotAllowed(request, 'GET, HEAD')
      case paths.logout:
        // Logout changes state: any other method is refused, so a link or an <img> cannot trigger it.
        return request.method === 'POST' ? logout(request, form) : methodNotAllowed(request, 'POST')
      case paths.backchannelLogout:
        return backchannelLogout(request, form)
      default:
        return undefined
    }
  }

  async function backchannelLogout(request: Request, form?: ParsedForm): Promise<Response> {
    if (form === undefined || request.method !== 'POST') return handleBackchannelLogoutRequest(client, request, log)
    const answer = await backchannelLogoutResponse(client, form, log)
    return new Response(answer.body === '' ? null : answer.body, { status: answer.status, headers: answer.headers })
  }

  async function session(request: Request): Promise<RequestResourceTokens | undefined> {
    const key = await signedInKey(request)
    return key === undefined ? undefined : bindTokens(client, key)
  }

  async function requireLogin(request: Request): Promise<RequestResourceTokens | Response> {
    try {
      return (await session(request)) ?? loginRequired(request)
    } catch (err) {
      return failureResponse(request, describeError(err, log))
    }
  }

  async function verifyCsrf(request: Request, given?: ParsedForm): Promise<Response | undefined> {
    const key = sessionIdOf(request)
    const form = given ?? (await readForm(request))
    if (form === null) {
      return failureResponse(request, { status: 400, error: 'invalid_request', title: 'Bad request', message: 'The form could not be read.' })
    }
    const refused = key === undefined
      ? { status: 403, error: 'invalid_csrf_token', title: 'Request refused', message: 'Sign in first.' }
      : csrfFailure(request, key, form)
    return refused === undefined ? undefined : failureResponse(request, refused, home)
  }

  function errorResponse(request: Request, err: unknown): Response {
    if (err instanceof ResourceTokensError && err.code === 'login_required') return loginRequired(request)
    return failureResponse(request, describeError(err, log), home)
  }

  return Object.freeze({
    mountPath: config.mountPath,
    paths,
    csrfField: CSRF_FIELD,
    csrfHeader: CSRF_HEADER,
    handle,
    login,
    callback,
    logout,
    backchannelLogout,
    session,
    requireLogin,
    loginRequired,
    verifyCsrf,
    errorResponse,
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

/** Path and query of the request: the host part of `request.url` (from `Host`) is never used. */
function requestPath(url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.pathname}${parsed.search}`
  } catch {
    return '/'
  }
}

/**
 * The URL-encoded form of the request: `undefined` when there is none (another content type, or a body the
 * framework has read already), `null` when it is too large or has too many fields. Reads at most
 * {@link FORM_LIMIT_BYTES}, so a huge body costs no memory.
 */
async function readForm(request: Request): Promise<URLSearchParams | undefined | null> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase()
  if (type !== 'application/x-www-form-urlencoded' || request.body === null || request.bodyUsed) return undefined
  const declared = Number(request.headers.get('content-length') ?? '0')
  if (declared > FORM_LIMIT_BYTES) return null
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > FORM_LIMIT_BYTES) {
        await reader.cancel()
        return null
      }
      chunks.push(value)
    }
  } catch {
    return null
  }
  const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
  let count = 0
  for (const _ of form.keys()) if (++count > FORM_PARAMETER_LIMIT) return null
  return form
}
