// What every web route needs, built once per createWebHandlers(): the client, the resolved options, the
// route paths and the app's own URLs. The routes are plain functions of this context (src/web/routes/).
import type { ResourceClient } from '../client/resource-client.js'
import { ResourceTokensConfigError } from '../errors/resource-tokens-error.js'
import { checkReturnTo } from '../login/return-to.js'
import type { Logger } from '../observability/logger.js'
import type { ResolvedWebOptions } from './options.js'
import { readSessionId } from './session-cookie.js'

/**
 * A form body that a framework has parsed already (Express's `req.body`, Fastify's `request.body`): the
 * handlers then do not read the request body themselves.
 */
export type ParsedForm = URLSearchParams | Readonly<Record<string, unknown>>

/** Server paths of the routes. */
export interface WebPaths { readonly login: string; readonly callback: string; readonly logout: string; readonly backchannelLogout: string }

/** @internal the shared, immutable state of one set of web handlers. */
export interface HandlerContext {
  readonly client: ResourceClient
  readonly config: ResolvedWebOptions
  readonly paths: WebPaths
  readonly log: Logger
  /** Links on an error page. */
  readonly home: ReadonlyArray<[string, string]>
  /** Links on a failed callback's page: signing in again is the likely next step. */
  readonly homeLinks: ReadonlyArray<[string, string]>
}

/** @internal */
export function createHandlerContext(client: ResourceClient, config: ResolvedWebOptions): HandlerContext {
  const paths: WebPaths = Object.freeze({
    login: `${config.mountPath}/login`,
    callback: `${config.mountPath}/callback`,
    logout: `${config.mountPath}/logout`,
    backchannelLogout: `${config.mountPath}/backchannel-logout`,
  })
  const home: [string, string] = ['Home', appUrl({ config }, '/')]
  const signInAgain: [string, string] = ['Sign in again', appUrl({ config }, paths.login)]
  return Object.freeze({
    client,
    config,
    paths,
    log: config.logger,
    home: [home],
    homeLinks: [signInAgain, home],
  })
}

/** An absolute URL on this app, from configuration only. `path` is app-relative and already checked. */
export function appUrl(ctx: Pick<HandlerContext, 'config'>, path: string): string {
  return `${ctx.config.origin}${ctx.config.prefix}${path}`
}

/** The session id in the request's cookie, if any. */
export function sessionIdOf(ctx: HandlerContext, request: Request): string | undefined {
  return readSessionId(request.headers.get('cookie'), ctx.config.cookieName)
}

/** The session's key when it has a grant; `undefined` when signed out. Throws only for store failures. */
export async function signedInKey(ctx: HandlerContext, request: Request): Promise<string | undefined> {
  const key = sessionIdOf(ctx, request)
  if (key === undefined) return undefined
  return (await ctx.client.hasGrant(key)) ? key : undefined
}

/** A `returnTo` the core accepts (a plain relative path), or `/`. */
export function safeReturnTo(value: string | null | undefined): string {
  if (value === null || value === undefined) return '/'
  try {
    return checkReturnTo(value)
  } catch {
    return '/'
  }
}

/** Path and query of the request: the host part of `request.url` (from `Host`) is never used. */
export function requestPath(url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.pathname}${parsed.search}`
  } catch {
    return '/'
  }
}

/** @internal shared by the web handlers and the adapters that build on them. */
export function assertClient(client: unknown): asserts client is ResourceClient {
  const c = client as Partial<Record<keyof ResourceClient, unknown>> | null | undefined
  const methods = ['startLogin', 'finishLogin', 'fetch', 'accessToken', 'claims', 'hasGrant', 'logout'] as const
  if (typeof c !== 'object' || c === null || methods.some((m) => typeof c[m] !== 'function')) {
    throw new ResourceTokensConfigError('"client" must be a ResourceClient from createResourceClient()')
  }
}
