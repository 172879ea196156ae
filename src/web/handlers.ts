// Login, callback and logout on the Web platform: Request in, Response out, the session in a cookie.
// HTTP plumbing only: login, callback validation, grant storage, tokens and revocation are the core's
// (ResourceClient). Every framework adapter is a thin translation onto these. This file only assembles
// the route functions of src/web/routes/ around one HandlerContext.
import type { ResourceClient } from '../client/resource-client.js'
import { CSRF_FIELD, CSRF_HEADER } from './csrf.js'
import { assertClient, createHandlerContext, type ParsedForm } from './handler-context.js'
import { resolveWebOptions, type ResolvedWebOptions, type WebHandlerOptions } from './options.js'
import type { RequestResourceTokens } from './request-tokens.js'
import { verifyCsrf } from './routes/csrf-check.js'
import { errorResponse, loginRequired } from './routes/failures.js'
import { handle } from './routes/handle.js'
import { callback, login } from './routes/login.js'
import { backchannelLogout, logout } from './routes/logout.js'
import { requireLogin, session } from './routes/session.js'

export type { ParsedForm } from './handler-context.js'

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
  const ctx = createHandlerContext(client, config)
  // Plain functions, not methods: callers may pass `web.login` around unbound.
  return Object.freeze({
    mountPath: config.mountPath,
    paths: ctx.paths,
    csrfField: CSRF_FIELD,
    csrfHeader: CSRF_HEADER,
    handle: (request: Request, form?: ParsedForm) => handle(ctx, request, form),
    login: (request: Request) => login(ctx, request),
    callback: (request: Request) => callback(ctx, request),
    logout: (request: Request, form?: ParsedForm) => logout(ctx, request, form),
    backchannelLogout: (request: Request, form?: ParsedForm) => backchannelLogout(ctx, request, form),
    session: (request: Request) => session(ctx, request),
    requireLogin: (request: Request) => requireLogin(ctx, request),
    loginRequired: (request: Request) => loginRequired(ctx, request),
    verifyCsrf: (request: Request, form?: ParsedForm) => verifyCsrf(ctx, request, form),
    errorResponse: (request: Request, err: unknown) => errorResponse(ctx, request, err),
  })
}
