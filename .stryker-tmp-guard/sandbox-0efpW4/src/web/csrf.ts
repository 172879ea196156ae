// @ts-nocheck
// Cross-site request forgery defence for state-changing routes: the browser's own provenance headers, and
// a token only same-origin pages can know.
import { createHmac, timingSafeEqual } from 'node:crypto'

/** Name of the form field that carries the CSRF token. */
export const CSRF_FIELD = '_csrf'
/** Name of the request header that carries the CSRF token (for `fetch` callers). */
export const CSRF_HEADER = 'x-csrf-token'

/**
 * The CSRF token of a session: HMAC-SHA256 keyed with the session id. Stateless, stable for the session's
 * life and the same on every instance of the app; learning it needs the session id, which is HttpOnly.
 * (The label predates the web handlers; kept so tokens stay valid across the Express re-base.)
 */
export function csrfTokenFor(sessionId: string): string {
  return createHmac('sha256', sessionId).update('resource-tokens/express csrf v1').digest('base64url')
}

/** True when `presented` is the CSRF token of `sessionId`. Constant time. */
export function checkCsrfToken(sessionId: string, presented: unknown): boolean {
  if (typeof presented !== 'string' || presented === '') return false
  const expected = Buffer.from(csrfTokenFor(sessionId))
  const actual = Buffer.from(presented)
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

/**
 * False when the browser says the request comes from another origin: `Sec-Fetch-Site` other than
 * `same-origin` (a sibling port or subdomain is `same-site`, still refused), or an `Origin` other than the
 * app's. Requests without either header (old browsers, non-browser clients) pass here and rely on the token.
 * `Origin: null` counts as absent: browsers send it for same-origin form posts from pages served with
 * `Referrer-Policy: no-referrer`, so it proves nothing either way; the token still decides.
 */
export function isSameOriginRequest(headers: Headers, appOrigin: string): boolean {
  const site = headers.get('sec-fetch-site')
  if (site !== null && site !== 'same-origin') return false
  const origin = headers.get('origin')
  if (origin !== null && origin !== 'null' && origin.toLowerCase() !== appOrigin.toLowerCase()) return false
  return true
}
