// @ts-nocheck
// A login without a browser: the test follows the provider's redirects with fetch, and the provider's
// interaction route answers the login and consent prompts itself (as the given account, granting all).
import type { IncomingMessage, ServerResponse } from 'node:http'

import type { InteractionDetails, OidcProvider } from './oidc-provider-module.js'
import type { ProviderQuirks } from './quirks.js'
import { ROUTES } from './routes.js'

/** How the headless login answers the provider's prompts. */
export interface LoginOptions {
  /** default: the request's login_hint, else 'alice' */
  accountId?: string
  /** end the first interaction with access_denied */
  deny?: boolean
  /**
   * The authentication context class the login reports (`acr` in the ID token). Default: the first of the
   * request's `acr_values`, as a provider that satisfied them would; none when none were asked.
   */
  acr?: string
  /** Authentication methods the login reports (`amr`). Default: `['pwd']`, plus `'otp'` when an acr was reported. */
  amr?: string[]
  /**
   * The browser the login happens in: its provider session (cookies) is kept, so a second login in it joins the
   * same provider session (same `sid`) and {@link signOutAtProvider} can end it. Default: a fresh one each time.
   */
  browser?: HeadlessBrowser
}

/** A cookie jar standing for one browser: one provider session. */
export class HeadlessBrowser {
  /** @internal */
  readonly jar = new CookieJar()
}

// A real login takes a handful of redirects; more means a loop.
const MAX_REDIRECTS = 20

/**
 * Follows `authorizationUrl` through the provider at `issuer` and returns the callback URL (with code or
 * error) it redirects to, without requesting it: anything that is not the provider's own authorization or
 * interaction flow is the client's redirect URI.
 */
export async function headlessLogin(issuer: string, authorizationUrl: string | URL, options: LoginOptions = {}): Promise<string> {
  const jar = options.browser?.jar ?? new CookieJar()
  let url = new URL(authorizationUrl)
  for (let hop = 0; hop < MAX_REDIRECTS; hop += 1) {
    if (url.origin === issuer && url.pathname.startsWith('/interaction/')) tellInteraction(url, options)
    const res = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header(url) } })
    jar.store(url, res.headers.getSetCookie())
    const text = await res.text()
    const location = res.headers.get('location')
    if (res.status < 300 || res.status >= 400 || !location) {
      throw new Error(`login stopped at ${url.pathname} with HTTP ${res.status}: ${text.slice(0, 500)}`)
    }
    const next = new URL(location, url)
    if (!isProviderFlow(issuer, next)) return next.href
    url = next
  }
  throw new Error('login: too many redirects')
}

/**
 * Signs the browser's user out at the provider, as the end-session page's "Yes, sign me out" would: GET the
 * end-session endpoint, then POST its confirmation form (`xsrf`, `logout=yes`). oidc-provider sends the back-channel
 * logout tokens before it answers the confirmation. Resolves where the provider redirects afterwards.
 */
export async function signOutAtProvider(issuer: string, browser: HeadlessBrowser, endSessionPath: string): Promise<string> {
  const start = new URL(endSessionPath, issuer)
  const page = await fetch(start, { redirect: 'manual', headers: { cookie: browser.jar.header(start) } })
  browser.jar.store(start, page.headers.getSetCookie())
  const html = await page.text()
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1]
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1]
  if (xsrf === undefined || action === undefined) throw new Error(`sign-out: no confirmation form (HTTP ${page.status}): ${html.slice(0, 300)}`)
  const confirm = new URL(action.replace(/&amp;/g, '&'), start)
  const res = await fetch(confirm, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: browser.jar.header(confirm), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ xsrf, logout: 'yes' }),
  })
  browser.jar.store(confirm, res.headers.getSetCookie())
  await res.arrayBuffer()
  if (res.status < 300 || res.status >= 400) throw new Error(`sign-out confirmation answered HTTP ${res.status}`)
  return new URL(res.headers.get('location') ?? '/', confirm).href
}

/** Tells our interaction handler what to do; it is the only consumer of these parameters. */
function tellInteraction(url: URL, options: LoginOptions): void {
  if (options.accountId !== undefined) url.searchParams.set('account', options.accountId)
  if (options.deny) url.searchParams.set('deny', '1')
  if (options.acr !== undefined) url.searchParams.set('acr', options.acr)
  if (options.amr !== undefined) url.searchParams.set('amr', options.amr.join(' '))
}

function isProviderFlow(issuer: string, url: URL): boolean {
  if (url.origin !== issuer) return false
  const { pathname } = url
  return pathname === ROUTES.authorization || pathname.startsWith(`${ROUTES.authorization}/`) || pathname.startsWith('/interaction/')
}

/** The provider's interaction route: denies, logs in, or consents, as the headless login's parameters say. */
export async function answerInteraction(provider: OidcProvider, quirks: ProviderQuirks, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const details = await provider.interactionDetails(req, res)
  if (url.searchParams.get('deny') === '1') {
    const denied = { error: 'access_denied', error_description: 'end-user denied the request (test)' }
    await provider.interactionFinished(req, res, denied, { mergeWithLastSubmission: false })
    return
  }
  if (details.prompt.name === 'login') {
    const hint = details.params['login_hint']
    const accountId = url.searchParams.get('account') ?? (typeof hint === 'string' ? hint : 'alice')
    // quirk authTimeZero: the login is dated to the epoch, so ID tokens say auth_time 0
    const login: Record<string, unknown> = quirks.authTimeZero === true ? { accountId, ts: 0 } : { accountId }
    // RFC 9470 / OpenID Connect acr_values: the login reports the class the test says, else the one asked first.
    const asked = details.params['acr_values']
    const acr = url.searchParams.get('acr') ?? (typeof asked === 'string' ? asked.split(' ')[0] : undefined)
    if (acr !== undefined && acr !== '') login['acr'] = acr
    const amr = url.searchParams.get('amr')
    login['amr'] = amr !== null ? amr.split(' ') : acr === undefined ? ['pwd'] : ['pwd', 'otp']
    await provider.interactionFinished(req, res, { login }, { mergeWithLastSubmission: false })
    return
  }
  if (details.prompt.name === 'consent') {
    const grantId = await grantEverythingMissing(provider, details)
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true })
    return
  }
  throw new Error(`unsupported prompt: ${details.prompt.name}`)
}

/** Grants exactly what the provider says is missing, i.e. everything requested; returns the grant's id. */
async function grantEverythingMissing(provider: OidcProvider, details: InteractionDetails): Promise<string> {
  const accountId = details.session?.accountId
  if (!accountId) throw new Error('consent prompt without a logged-in session')
  const existing = details.grantId ? await provider.Grant.find(details.grantId) : undefined
  const grant = existing ?? new provider.Grant({ accountId, clientId: String(details.params['client_id']) })
  const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = details.prompt.details
  if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '))
  if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims)
  for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '))
  return grant.save()
}

/** Minimal cookie jar for one host: honours Path (oidc-provider scopes cookies to /interaction/<uid>). */
class CookieJar {
  readonly #cookies = new Map<string, { name: string; value: string; path: string }>()

  /** Takes the Set-Cookie lines of a response to `url`. */
  store(url: URL, setCookies: string[]): void {
    for (const line of setCookies) {
      const cookie = parseSetCookie(url, line)
      if (cookie === undefined) continue
      const id = `${cookie.name};${cookie.path}`
      if (cookie.expired) this.#cookies.delete(id)
      else this.#cookies.set(id, { name: cookie.name, value: cookie.value, path: cookie.path })
    }
  }

  /** The Cookie header for a request to `url`. */
  header(url: URL): string {
    const p = url.pathname
    return [...this.#cookies.values()]
      .filter((c) => p === c.path || (p.startsWith(c.path) && (c.path.endsWith('/') || p[c.path.length] === '/')))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ')
  }
}

function parseSetCookie(url: URL, line: string): { name: string; value: string; path: string; expired: boolean } | undefined {
  const [pair = '', ...attrs] = line.split(';')
  const eq = pair.indexOf('=')
  if (eq < 1) return undefined
  const name = pair.slice(0, eq).trim()
  const value = pair.slice(eq + 1).trim()
  let path = url.pathname.slice(0, url.pathname.lastIndexOf('/')) || '/'
  let expired = value === ''
  for (const attr of attrs) {
    const [k = '', v = ''] = attr.split('=').map((s) => s.trim())
    const key = k.toLowerCase()
    if (key === 'path' && v.startsWith('/')) path = v
    if (key === 'max-age' && Number(v) <= 0) expired = true
    if (key === 'expires' && Date.parse(v) <= Date.now()) expired = true
  }
  return { name, value, path, expired }
}
