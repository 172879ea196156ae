// @ts-nocheck
// What the handlers answer when they cannot go on: a small HTML page for browsers, JSON for API calls.
// Never a stack trace, never an error's internals.
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import type { Logger } from '../observability/logger.js'

/** A refusal or failure as the handlers show it. */
export interface Failure {
  status: number
  /** Stable, machine-readable: a library error code or one of the handlers' own. */
  error: string
  title: string
  message: string
}

/** True for a browser navigation (Accept names text/html, or Fetch Metadata says so). */
export function wantsHtml(headers: Headers): boolean {
  if (headers.get('sec-fetch-mode') === 'navigate') return true
  return /\btext\/html\b/i.test(headers.get('accept') ?? '')
}

/** Translates a thrown error into what the user may see, and logs what the operator needs. */
export function describeError(err: unknown, logger: Logger): Failure {
  if (!(err instanceof ResourceTokensError)) {
    logger.error?.('unexpected failure in the web handlers', { cause: err })
    return { status: 500, error: 'server_error', title: 'Something went wrong', message: 'The request could not be completed. Please try again.' }
  }
  switch (err.code) {
    case 'authorization_error': {
      const reason = typeof err.error === 'string' && /^[a-z_]{1,64}$/.test(err.error) ? err.error : 'authorization_error'
      return {
        status: 400,
        error: reason,
        title: 'Sign-in was not completed',
        message: reason === 'access_denied'
          ? 'The request was declined at the sign-in page, so nothing was shared with this app.'
          : `The identity provider did not sign you in (${reason}).`,
      }
    }
    case 'invalid_callback':
      return {
        status: 400,
        error: 'invalid_callback',
        title: 'This sign-in link cannot be used',
        message: 'It has expired, was already used, or was started in another browser or tab. Please sign in again.',
      }
    case 'invalid_argument':
      return { status: 400, error: 'invalid_request', title: 'Bad request', message: 'The request was not understood.' }
    case 'store_unavailable':
    case 'lock_timeout':
      logger.warn?.('session storage unavailable', { code: err.code, reason: err.message })
      return { status: 503, error: 'temporarily_unavailable', title: 'Temporarily unavailable', message: 'Please try again in a moment.' }
    case 'discovery_failed':
    case 'token_endpoint_unavailable':
      logger.warn?.('identity provider unreachable', { code: err.code, reason: err.message })
      return { status: 502, error: err.code, title: 'The identity provider could not be reached', message: 'Please try again in a moment.' }
    default:
      logger.warn?.('identity provider answer refused', { code: err.code, reason: err.message })
      return { status: 502, error: err.code, title: 'Sign-in could not be completed', message: 'The identity provider\'s answer was not accepted. Please sign in again.' }
  }
}

/** `failure` as an HTML page (for a browser) or JSON, with `links` (label, href) on the page. */
export function failureResponse(request: Request, failure: Failure, links: ReadonlyArray<[string, string]> = [], headers = new Headers()): Response {
  headers.set('Cache-Control', 'no-store')
  if (!wantsHtml(request.headers)) {
    headers.set('Content-Type', 'application/json; charset=utf-8')
    return new Response(JSON.stringify({ error: failure.error, error_description: failure.message }), { status: failure.status, headers })
  }
  headers.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
  headers.set('Content-Type', 'text/html; charset=utf-8')
  return new Response(errorPage(failure, links), { status: failure.status, headers })
}

/** A JSON response that is never cached. */
export function jsonResponse(body: unknown, status = 200, headers = new Headers()): Response {
  headers.set('Cache-Control', 'no-store')
  headers.set('Content-Type', 'application/json; charset=utf-8')
  return new Response(JSON.stringify(body), { status, headers })
}

/** A 303 See Other to `location` (an absolute URL built from configuration), never cached. */
export function redirectResponse(location: string, headers = new Headers()): Response {
  headers.set('Cache-Control', 'no-store')
  headers.set('Location', location)
  return new Response(null, { status: 303, headers })
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c)
}

function errorPage(failure: Failure, links: ReadonlyArray<[string, string]>): string {
  const actions = links.map(([label, href]) => `<a href="${escapeHtml(href)}">${escapeHtml(label)}</a>`).join(' ')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(failure.title)}</title>
<style>
body{margin:0;min-height:100vh;display:grid;place-items:center;background:#f4f5f7;color:#1f2430;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif}
main{max-width:28rem;margin:1rem;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 1px 3px #0002}
h1{margin:0 0 .5rem;font-size:1.25rem}p{margin:0 0 1.25rem;color:#4a5160}code{font-size:.85em;color:#6b7280}
a{display:inline-block;margin-right:.75rem;color:#2354d6;font-weight:600;text-decoration:none}
</style></head>
<body><main role="alert"><h1>${escapeHtml(failure.title)}</h1><p>${escapeHtml(failure.message)}</p>
<p><code>${escapeHtml(failure.error)}</code></p>${actions}</main></body></html>
`
}
