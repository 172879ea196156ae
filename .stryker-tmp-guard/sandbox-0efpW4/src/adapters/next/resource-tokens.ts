// @ts-nocheck
// The Next.js App Router adapter: route handlers from the web handlers, and the signed-in user's tokens
// for Server Components, Server Actions and Route Handlers (read from the request's cookie).
import { headers } from 'next/headers.js'
import type { ResourceClient } from '../../client/resource-client.js'
import { ResourceTokensConfigError, ResourceTokensError } from '../../errors/resource-tokens-error.js'
import { checkReturnTo } from '../../login/return-to.js'
import { buildHandlers, type WebHandlers } from '../../web/handlers.js'
import { resolveWebOptions, type WebHandlerOptions } from '../../web/options.js'
import type { RequestResourceTokens } from '../../web/request-tokens.js'

/** Options of {@link resourceTokens}: the client (or a function creating it) plus the {@link WebHandlerOptions}. */
export interface NextResourceTokensOptions extends WebHandlerOptions {
  /**
   * The client, or a function creating it on first use (so that `next build` needs no provider). A function
   * is called once per server process: its result is kept on `globalThis`, because Next.js may load the
   * module that calls {@link resourceTokens} once for Route Handlers and once more for Server Components,
   * and both must share one client (and so one store).
   */
  client: ResourceClient | (() => ResourceClient | Promise<ResourceClient>)
}

/** What {@link resourceTokens} returns. */
export interface NextResourceTokens {
  /**
   * The route handlers of `app/<mountPath>/[action]/route.ts` (default `app/auth/[action]/route.ts`):
   * `export const { GET, POST } = auth.handlers`. GET `login`, GET `callback`, POST `logout`.
   */
  readonly handlers: { readonly GET: (request: Request) => Promise<Response>; readonly POST: (request: Request) => Promise<Response> }
  /**
   * The signed-in user's tokens, or `undefined` when signed out. Without an argument it reads the current
   * request's cookie through `next/headers` (Server Components, Server Actions, Route Handlers); a Route
   * Handler may pass its `Request` instead.
   */
  session(request?: Request): Promise<RequestResourceTokens | undefined>
  /**
   * For Route Handlers: the signed-in user's tokens, or the response to return instead (a login redirect for
   * a browser navigation, `401 {"error":"login_required"}` for an API call, 503 when the store fails).
   */
  requireLogin(request: Request): Promise<RequestResourceTokens | Response>
  /**
   * The absolute URL of the login route coming back to `returnTo` (a relative path; anything else becomes `/`).
   * For a Server Component of a signed-out visitor: `redirect(auth.loginUrl('/inbox'))` (from `next/navigation`).
   */
  loginUrl(returnTo?: string): string
  /**
   * The signed-in user's `fetch`: attaches the token of the resource `input` belongs to.
   * @throws {ResourceTokensError} `login_required` when the request is signed out
   */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>
  /** For a Route Handler's `catch`: the response to an error, `login_required` giving a login redirect or a 401. */
  errorResponse(request: Request, err: unknown): Promise<Response>
  /** The `mountPath` option, resolved (default `/auth`). */
  readonly mountPath: string
  /** Server paths of the three routes, e.g. for a logout form's `action`. */
  readonly paths: WebHandlers['paths']
  /** Name of the form field carrying the CSRF token: `_csrf`. */
  readonly csrfField: string
}

const CLIENTS = Symbol.for('resource-tokens/next clients')

function sharedClient(key: string, create: () => ResourceClient | Promise<ResourceClient>): Promise<ResourceClient> {
  const registry = ((globalThis as Record<symbol, unknown>)[CLIENTS] ??= new Map()) as Map<string, Promise<ResourceClient>>
  let client = registry.get(key)
  if (client === undefined) {
    client = Promise.resolve().then(create)
    registry.set(key, client)
    // A failed creation (provider down at first request) is retried by the next request.
    client.catch(() => registry.delete(key))
  }
  return client
}

/**
 * Creates the Next.js App Router integration: route handlers for login, callback and logout with the
 * session cookie (a 256-bit random id, renewed at every login, HttpOnly, SameSite=Lax, `__Host-` and Secure
 * on https), and the signed-in user's tokens for Server Components and Route Handlers. Runs on the Node.js
 * runtime (not Edge). The client's `redirectUri` must be `baseUrl + mountPath + '/callback'`.
 *
 * @throws `ResourceTokensConfigError` (`invalid_config`) at once, for bad options
 * @example
 * ```ts
 * // lib/auth.ts
 * export const auth = resourceTokens({ client: () => createResourceClient({ ... }), baseUrl: process.env.APP_URL! })
 * // app/auth/[action]/route.ts
 * export const { GET, POST } = auth.handlers
 * // app/page.tsx (a Server Component)
 * const tokens = await auth.session()
 * if (tokens === undefined) redirect(auth.loginUrl('/'))
 * const people = await (await tokens.fetch('https://contacts.example.com/api/people')).json()
 * ```
 */
export function resourceTokens(options: NextResourceTokensOptions): NextResourceTokens {
  if (typeof options !== 'object' || options === null) throw new ResourceTokensConfigError('options must be an object with "client" and "baseUrl"')
  const { client, ...rest } = options
  const config = resolveWebOptions(rest)
  if (typeof client !== 'function' && (typeof client !== 'object' || client === null)) {
    throw new ResourceTokensConfigError('"client" must be a ResourceClient or a function returning one')
  }
  const key = `${config.origin}${config.prefix}|${config.mountPath}|${config.cookieName}`
  let web: Promise<WebHandlers> | undefined
  const handlers = (): Promise<WebHandlers> => {
    if (web !== undefined) return web
    const pending = (typeof client === 'function' ? sharedClient(key, client) : Promise.resolve(client)).then((c) => buildHandlers(c, config))
    web = pending
    pending.catch(() => { web = undefined })
    return pending
  }
  const paths = Object.freeze({
    login: `${config.mountPath}/login`,
    callback: `${config.mountPath}/callback`,
    logout: `${config.mountPath}/logout`,
    backchannelLogout: `${config.mountPath}/backchannel-logout`,
  })

  async function route(request: Request): Promise<Response> {
    let h: WebHandlers
    try {
      h = await handlers()
    } catch (err) {
      config.logger.error?.('the resource client could not be created', { cause: err })
      return Response.json({ error: 'temporarily_unavailable', error_description: 'Please try again in a moment.' }, { status: 503, headers: { 'Cache-Control': 'no-store' } })
    }
    return (await h.handle(request)) ?? Response.json({ error: 'not_found' }, { status: 404, headers: { 'Cache-Control': 'no-store' } })
  }

  async function session(request?: Request): Promise<RequestResourceTokens | undefined> {
    const cookie = request === undefined ? (await headers()).get('cookie') : request.headers.get('cookie')
    if (cookie === null || cookie === '') return undefined
    return (await handlers()).session(new Request(`${config.origin}/`, { headers: { cookie } }))
  }

  function loginUrl(returnTo = '/'): string {
    let target = '/'
    try {
      target = checkReturnTo(returnTo)
    } catch {
      // A bad returnTo falls back to the home page, as at the login route.
    }
    return `${config.origin}${config.prefix}${paths.login}${target === '/' ? '' : `?returnTo=${encodeURIComponent(target)}`}`
  }

  return Object.freeze({
    handlers: Object.freeze({ GET: route, POST: route }),
    session,
    requireLogin: async (request: Request) => (await handlers()).requireLogin(request),
    loginUrl,
    async fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
      const tokens = await session()
      if (tokens === undefined) throw new ResourceTokensError('login_required', 'the request is not signed in')
      return tokens.fetch(input, init)
    },
    errorResponse: async (request: Request, err: unknown) => (await handlers()).errorResponse(request, err),
    mountPath: config.mountPath,
    paths,
    csrfField: '_csrf',
  })
}
