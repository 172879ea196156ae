// @ts-nocheck
// Options of the Express adapter: those of the web handlers (validated there, once, when the adapter is
// created), with an `onLogout` hook that gets Express's req and res.
import type { LoggerInput } from '../../observability/logger-shapes.js'
import type { LogoutEvent } from './logout-event.js'

/**
 * Options of {@link resourceTokens}. Validated at once; a bad value throws `ResourceTokensConfigError`
 * (`code: 'invalid_config'`) naming the option.
 */
export interface ExpressAdapterOptions {
  /**
   * The app's public base URL as browsers address it: `https://app.example.com`, or behind a proxy that
   * strips a prefix, `https://example.com/app`. https, or http on a loopback host only. Every URL the adapter
   * builds (the callback URL handed to the core, redirects, the expected `Origin`) comes from it: never from
   * `Host` or `X-Forwarded-*`.
   */
  baseUrl: string
  /**
   * Where {@link ExpressResourceTokens.router} is mounted in the app: `app.use(mountPath, router)`. Default
   * `/auth`, giving `/auth/login`, `/auth/callback` and `/auth/logout`. The client's `redirectUri` must be
   * `baseUrl + mountPath + '/callback'`.
   */
  mountPath?: string
  /** Where the browser goes after logout when the provider has no end-session endpoint. A relative path. Default `/`. */
  afterLogoutPath?: string
  /**
   * Name of the adapter's own session cookie. Default `rt_session`. When `baseUrl` is https the cookie is
   * `Secure` and the name gets the `__Host-` prefix (RFC 6265bis section 4.1.3.2). Choose a name that differs
   * from any other cookie of the app (e.g. express-session's `connect.sid`).
   */
  cookieName?: string
  /** Lifetime of the session cookie, in seconds. Default: none, the cookie lasts the browser session. */
  cookieMaxAgeSeconds?: number
  /**
   * Called after every logout with what was revoked, before the browser is redirected. It may set headers on
   * `res` but must not send a response. A throw is logged and ignored: the logout stands.
   */
  onLogout?: (event: LogoutEvent) => void | Promise<void>
  /**
   * Where unexpected failures are written: the same shapes as the client's `logger` (pino, winston, `console`,
   * a function, or an object with `debug`/`info`/`warn`/`error`). Default: warnings and errors to the console.
   */
  logger?: LoggerInput
}
