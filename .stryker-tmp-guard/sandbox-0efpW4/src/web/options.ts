// @ts-nocheck
// Options of the web handlers (and so of every framework adapter built on them), validated once.
import { ResourceTokensConfigError } from '../errors/resource-tokens-error.js'
import type { Logger } from '../observability/logger.js'
import { isLoggerInput, toLogger, type LoggerInput } from '../observability/logger-shapes.js'
import { defaultLogger } from '../observability/logger.js'
import { isSecureOrLoopback } from '../resources/loopback.js'
import type { WebLogoutEvent } from './logout-event.js'

/**
 * Options of {@link createWebHandlers} and of the Fastify, Hono and Next.js adapters. Validated at once; a
 * bad value throws `ResourceTokensConfigError` (`code: 'invalid_config'`) naming the option.
 */
export interface WebHandlerOptions {
  /**
   * The app's public base URL as browsers address it: `https://app.example.com`, or behind a proxy that
   * strips a prefix, `https://example.com/app`. https, or http on a loopback host only. Every URL the
   * handlers build (the callback URL handed to the core, redirects, the expected `Origin`) comes from it:
   * never from `Host`, `X-Forwarded-*` or the host part of `request.url`.
   */
  baseUrl: string
  /**
   * The path of the three routes on the server: `/auth` (the default) gives `/auth/login`, `/auth/callback`
   * and `/auth/logout`. The client's `redirectUri` must be `baseUrl + mountPath + '/callback'`.
   */
  mountPath?: string
  /** Where the browser goes after logout when the provider has no end-session endpoint. A relative path. Default `/`. */
  afterLogoutPath?: string
  /**
   * Name of the session cookie. Default `rt_session`. When `baseUrl` is https the cookie is `Secure` and the
   * name gets the `__Host-` prefix (RFC 6265bis section 4.1.3.2). Choose a name no other cookie of the app uses.
   */
  cookieName?: string
  /** Lifetime of the session cookie, in seconds. Default: none, the cookie lasts the browser session. */
  cookieMaxAgeSeconds?: number
  /**
   * Called after every logout with what was revoked, before the redirect is sent. It may add headers to
   * `event.headers` (e.g. a cookie of the app's own). A throw is logged and ignored: the logout stands.
   */
  onLogout?: (event: WebLogoutEvent) => void | Promise<void>
  /**
   * Where unexpected failures are written: the same shapes as the client's `logger` (pino, winston, `console`,
   * a function, or an object with `debug`/`info`/`warn`/`error`). Default: warnings and errors to the console.
   */
  logger?: LoggerInput
}

/** Options after validation and defaults. @internal */
export interface ResolvedWebOptions {
  /** `scheme://host[:port]` of `baseUrl`. */
  readonly origin: string
  /** Path prefix of `baseUrl` without a trailing slash (`''` for none). */
  readonly prefix: string
  readonly secure: boolean
  readonly mountPath: string
  readonly afterLogoutPath: string
  readonly cookieName: string
  readonly cookieMaxAgeSeconds: number | undefined
  readonly onLogout: ((event: WebLogoutEvent) => void | Promise<void>) | undefined
  readonly logger: Logger
}

// RFC 6265 section 4.1.1 cookie-name is an RFC 7230 token.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

const KNOWN = new Set(['baseUrl', 'mountPath', 'afterLogoutPath', 'cookieName', 'cookieMaxAgeSeconds', 'onLogout', 'logger'])

function fail(message: string): never {
  throw new ResourceTokensConfigError(message)
}

/** An app-relative path: one leading `/`, no `//`, no backslash, query, fragment or control characters. */
function localPath(value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !/^\/(?![/\\])[^?#\\\p{Cc}]*$/u.test(value)) {
    fail(`"${name}" must be a path on this app starting with a single "/"`)
  }
  return value
}

/**
 * Validates `options`. `extra` names options an adapter adds on top (validated by the adapter itself).
 * @internal
 */
export function resolveWebOptions(options: WebHandlerOptions, extra: readonly string[] = []): ResolvedWebOptions {
  if (typeof options !== 'object' || options === null) fail('options must be an object with at least "baseUrl"')
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key) && !extra.includes(key)) fail(`unknown option "${key}"`)
  }

  if (typeof options.baseUrl !== 'string' || options.baseUrl === '') fail('"baseUrl" must be the app\'s public URL, e.g. "https://app.example.com"')
  let base: URL
  try {
    base = new URL(options.baseUrl)
  } catch {
    return fail('"baseUrl" must be an absolute URL')
  }
  if (!isSecureOrLoopback(base)) fail('"baseUrl" must be https outside loopback')
  if (base.username !== '' || base.password !== '') fail('"baseUrl" must not contain credentials')
  if (base.search !== '' || base.hash !== '') fail('"baseUrl" must not have a query or fragment')

  const mountPath = localPath(options.mountPath, 'mountPath', '/auth').replace(/\/+$/, '')
  if (mountPath === '') fail('"mountPath" must not be "/": give the routes a path of their own, e.g. "/auth"')
  const afterLogoutPath = localPath(options.afterLogoutPath, 'afterLogoutPath', '/')

  const cookieName = options.cookieName ?? 'rt_session'
  if (typeof cookieName !== 'string' || !COOKIE_NAME.test(cookieName)) fail('"cookieName" must be a cookie name token (letters, digits, "_", "-", ...)')
  if (/^__(host|secure)-/i.test(cookieName)) fail('"cookieName" must not carry a "__Host-" or "__Secure-" prefix: the handlers add "__Host-" on https')

  const maxAge = options.cookieMaxAgeSeconds
  if (maxAge !== undefined && (typeof maxAge !== 'number' || !Number.isInteger(maxAge) || maxAge <= 0)) {
    fail('"cookieMaxAgeSeconds" must be a positive whole number of seconds')
  }
  if (options.onLogout !== undefined && typeof options.onLogout !== 'function') fail('"onLogout" must be a function')
  if (options.logger !== undefined && !isLoggerInput(options.logger)) fail('"logger" must be a logger (pino, winston, console), a function, or an object with debug/info/warn/error methods')

  const secure = base.protocol === 'https:'
  return {
    origin: base.origin,
    prefix: base.pathname.replace(/\/+$/, ''),
    secure,
    mountPath,
    afterLogoutPath,
    cookieName: secure ? `__Host-${cookieName}` : cookieName,
    cookieMaxAgeSeconds: maxAge,
    onLogout: options.onLogout,
    logger: options.logger === undefined ? defaultLogger : toLogger(options.logger),
  }
}
