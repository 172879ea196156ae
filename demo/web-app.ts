// The demo's client web app, on the library's Express adapter: sign-in, both APIs through `client.fetch`,
// the decoded claims of the token each call used, a replay the calendar API refuses, and a logout that
// shows what it revoked; signing out at the provider ends the app's session too (back-channel logout).
import { type AsyncLocalStorage } from 'node:async_hooks'
import { createHash, randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import express, { type NextFunction, type Request, type Response } from 'express'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { ResourceTokensError, type ResourceClient } from 'resource-tokens'
import { resourceTokens, type LogoutEvent, type RequestResourceTokens } from 'resource-tokens/express'
import { DEMO_USER } from './identity-provider.js'
import { PAGE_CSP } from './pages/html.js'
import { appErrorPage, homePage, type ApiView, type LogoutReport, type ReplayView, type TokenView } from './pages/app-page.js'

/** One API as the app calls it. */
export interface AppApi {
  kind: 'contacts' | 'calendar' | 'tools'
  title: string
  /** The URL the app fetches, e.g. `http://127.0.0.1:4001/contacts/people`. */
  endpoint: string
  /** The API's resource indicator, i.e. the `aud` it requires. */
  indicator: string
  /** The response field holding the list, and how to show one entry. */
  field: string
  show(item: Record<string, unknown>): { primary: string; secondary: string }
  /** Learned at run time from its RFC 9728 metadata, not configured. */
  discovered?: boolean
  /** An action that needs a recent sign-in (RFC 9470 step-up). */
  recentSignIn?: { endpoint: string; maxAgeSeconds: number }
}

/** What the demo watches during one logout request (see `revocationWatcher` in start.ts). */
export interface LogoutTrace {
  /** The refresh token `client.logout()` sent to the revocation endpoint. Kept in memory only, to introspect it once. */
  refreshToken?: string
}

export interface WebAppOptions {
  appUrl: string
  client: ResourceClient
  contacts: AppApi
  calendar: AppApi
  tools: AppApi
  /** Context of the logout request being handled; the client's fetch records into it. */
  logoutTrace: AsyncLocalStorage<LogoutTrace>
  /** Asks the provider about a token (RFC 7662), as the app's own client. */
  introspect(token: string): Promise<Record<string, unknown>>
  accessTokenTtlSeconds: number
  log(line: string): void
  /** The provider's end-session page, where the user can sign out of the provider itself. */
  providerSignOutUrl: string
}

const REPORT_COOKIE = 'demo_logout_report'
/** The Express adapter's session cookie (its default name; no `__Host-` prefix on http). */
const SESSION_COOKIE = 'rt_session'
const FLASH_TTL_MS = 10 * 60 * 1000

/** A small in-memory map whose entries expire: the demo's "flash" storage. */
class Flash<T> {
  readonly #entries = new Map<string, { value: T; expiresAt: number }>()
  set(id: string, value: T): void {
    const now = Date.now()
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key)
    this.#entries.set(id, { value, expiresAt: now + FLASH_TTL_MS })
  }
  get(id: string): T | undefined {
    const entry = this.#entries.get(id)
    return entry === undefined || entry.expiresAt <= Date.now() ? undefined : entry.value
  }
  delete(id: string): void {
    this.#entries.delete(id)
  }
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url')
}

function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

function audiences(aud: unknown): string[] {
  if (Array.isArray(aud)) return aud.map(String)
  return typeof aud === 'string' ? [aud] : []
}

/** Only aud, scope, exp and the token type: never the token. */
function tokenView(value: string, type: string): TokenView | undefined {
  try {
    const claims = decodeJwt(value)
    const header = decodeProtectedHeader(value)
    return { aud: audiences(claims.aud), scope: typeof claims['scope'] === 'string' ? claims['scope'] : '', exp: claims.exp ?? 0, type, typ: header.typ }
  } catch {
    return undefined // an opaque token: nothing to decode
  }
}

/** Creates the app and returns the request handler to serve it with. */
export function createWebApp(options: WebAppOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { client, contacts, calendar, tools } = options
  const actions = new Flash<string>()
  const appOrigin = new URL(options.appUrl)
  const replays = new Flash<ReplayView>()
  const reports = new Flash<LogoutReport>()
  // When the provider last ended a session of this app by back-channel logout. One demo user: the page of a
  // browser whose session cookie no longer has a grant says so after a reload.
  let providerLogout: { at: number; removed: number } | undefined
  client.on('grant_removed', ({ reason }) => {
    if (reason !== 'backchannel_logout') return
    const now = Date.now()
    providerLogout = { at: now, removed: providerLogout !== undefined && now - providerLogout.at < 2000 ? providerLogout.removed + 1 : 1 }
    options.log('logout      the provider ended the session (back-channel logout): grant removed, refresh token revoked')
  })

  const auth = resourceTokens(client, {
    baseUrl: options.appUrl,
    onLogout: (event) => recordLogout(event),
    logger: { error: (message, fields) => options.log(`error: ${message} ${String(fields?.['cause'] ?? '')}`) },
  })

  async function recordLogout({ key, claims, result, res }: LogoutEvent): Promise<void> {
    const trace = options.logoutTrace.getStore()
    let refreshTokenActive: boolean | undefined
    if (trace?.refreshToken !== undefined) {
      try {
        refreshTokenActive = (await options.introspect(trace.refreshToken))['active'] === true
      } catch {
        refreshTokenActive = undefined
      }
      delete trace.refreshToken
    }
    let nextFetch = 'no error'
    try {
      await client.fetch(key, contacts.endpoint)
    } catch (err) {
      nextFetch = err instanceof ResourceTokensError ? err.code : 'an error'
    }
    const report: LogoutReport = {
      name: typeof claims?.['name'] === 'string' ? claims['name'] : String(claims?.['sub'] ?? 'there'),
      refreshToken: result.revocation.refreshToken,
      accessTokens: result.revocation.accessTokens,
      refreshTokenActive,
      hasGrant: await client.hasGrant(key),
      nextFetch,
      accessTokenTtlSeconds: options.accessTokenTtlSeconds,
    }
    const id = randomBytes(16).toString('base64url')
    reports.set(id, report)
    res.append('Set-Cookie', `${REPORT_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=600`)
    options.log(`logout      refresh token ${report.refreshToken}; introspection active=${String(refreshTokenActive)}; next fetch: ${nextFetch}`)
  }

  async function callApi(tokens: RequestResourceTokens, api: AppApi): Promise<ApiView> {
    const view: ApiView = { kind: api.kind, title: api.title, endpoint: api.endpoint, status: undefined, items: [], token: undefined, error: undefined, discovered: api.discovered === true, recentSignIn: api.recentSignIn }
    try {
      const response = await tokens.fetch(api.endpoint)
      view.status = response.status
      const body = (await response.json().catch(() => ({}))) as Record<string, unknown>
      const items = body[api.field]
      if (Array.isArray(items)) view.items = items.map((item) => api.show(item as Record<string, unknown>))
      else if (!response.ok) view.error = `the API answered ${response.status}`
      const token = await tokens.accessToken(api.endpoint)
      view.token = tokenView(token.value, token.type)
    } catch (err) {
      if (err instanceof ResourceTokensError && err.code === 'login_required') throw err
      view.error = err instanceof ResourceTokensError ? `${err.code}: ${err.message}` : 'the API could not be reached'
    }
    return view
  }

  const app = express()
  app.disable('x-powered-by')
  app.disable('etag')

  app.use((req: Request, res: Response, next: NextFunction) => {
    // Cookies and the Origin check are per host name: send http://localhost:3000 visitors to 127.0.0.1.
    if (req.headers.host !== appOrigin.host && (req.method === 'GET' || req.method === 'HEAD')) {
      res.redirect(307, `${appOrigin.origin}${req.originalUrl.startsWith('/') ? req.originalUrl : '/'}`)
      return
    }
    res.set({ 'Content-Security-Policy': PAGE_CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' })
    next()
  })

  // Lets the client's fetch tell this logout's revocation request apart from everyone else's.
  app.post(auth.paths.logout, (_req: Request, _res: Response, next: NextFunction) => {
    options.logoutTrace.run({}, () => next())
  })
  app.use(auth.mountPath, auth.router)

  app.get('/', auth.optionalLogin, async (req: Request, res: Response) => {
    const tokens = req.resourceTokens
    const base = {
      now: Date.now(),
      loginUrl: auth.paths.login,
      logoutAction: auth.paths.logout,
      csrfField: auth.csrfField,
      demoUser: DEMO_USER.id,
      demoPassword: DEMO_USER.password,
      replayTarget: calendar.endpoint,
      providerSignOutUrl: options.providerSignOutUrl,
    }
    res.set('Cache-Control', 'no-store')
    if (tokens === undefined) {
      const reportId = readCookie(req, REPORT_COOKIE)
      const report = reportId === undefined ? undefined : reports.get(reportId)
      // A session cookie without a grant, shortly after a back-channel logout: the provider ended this session.
      const endedByProvider = readCookie(req, SESSION_COOKIE) !== undefined && providerLogout !== undefined && Date.now() - providerLogout.at < FLASH_TTL_MS
        ? { at: new Date(providerLogout.at).toISOString().slice(11, 19) + ' UTC' }
        : undefined
      res.type('html').send(homePage({ ...base, user: undefined, csrfToken: undefined, apis: [], replay: undefined, report, endedByProvider }))
      return
    }
    const claims = (await tokens.claims()) ?? {}
    const apis = await Promise.all([callApi(tokens, contacts), callApi(tokens, calendar), callApi(tokens, tools)])
    const sessionRef = digest(tokens.key)
    const toolsView = apis[2]
    if (toolsView !== undefined) {
      toolsView.action = actions.get(sessionRef)
      actions.delete(sessionRef)
    }
    const replay = replays.get(sessionRef)
    replays.delete(sessionRef)
    const user = {
      name: typeof claims['name'] === 'string' ? claims['name'] : String(claims['sub']),
      sub: String(claims['sub']),
      email: typeof claims['email'] === 'string' ? claims['email'] : undefined,
    }
    res.type('html').send(homePage({ ...base, user, csrfToken: tokens.csrfToken, apis, replay, report: undefined, endedByProvider: undefined }))
  })

  app.post('/replay', auth.verifyCsrf, auth.requireLogin, async (req: Request, res: Response) => {
    const tokens = req.resourceTokens!
    const stolen = await tokens.accessToken(contacts.endpoint)
    // Deliberately not client.fetch: that would attach the calendar token. This is the attacker's request.
    const response = await fetch(calendar.endpoint, { headers: { authorization: `Bearer ${stolen.value}` } })
    await response.body?.cancel()
    replays.set(digest(tokens.key), {
      status: response.status,
      wwwAuthenticate: response.headers.get('www-authenticate'),
      tokenAud: tokenView(stolen.value, stolen.type)?.aud ?? [],
      calendarAud: calendar.indicator,
      calendarEndpoint: calendar.endpoint,
    })
    options.log(`replay      contacts token at the calendar API: HTTP ${response.status}`)
    res.redirect(303, '/#replay')
  })

  // "Requires recent sign-in": the tools API refuses an old sign-in with the RFC 9470 challenge; the error's
  // `login` sends the user through the provider again (max_age), and back here, where the action now succeeds.
  app.post('/recent-action', auth.verifyCsrf, auth.requireLogin, async (req: Request, res: Response) => {
    const tokens = req.resourceTokens!
    const target = tools.recentSignIn!.endpoint
    try {
      const response = await tokens.fetch(target, { method: 'POST' })
      await response.body?.cancel()
      actions.set(digest(tokens.key), response.ok ? `Done: the tools API accepted a sign-in less than ${tools.recentSignIn!.maxAgeSeconds} s old.` : `The tools API answered ${response.status}.`)
      options.log(`action      recent sign-in action: HTTP ${response.status}`)
      res.redirect(303, '/#tools-card')
    } catch (err) {
      if (!(err instanceof ResourceTokensError) || err.login === undefined) throw err
      options.log(`step-up     ${err.code}: signing in again with ${JSON.stringify(err.login)}`)
      // Back to this page after the provider: the same session, its grant merged with the new one.
      const { url } = await client.startLogin(tokens.key, { returnTo: '/?stepped-up=1#tools-card', ...err.login })
      res.redirect(303, url.href)
    }
  })

  app.use(auth.handleLoginRequired)
  app.use((_req: Request, res: Response) => {
    res.status(404).type('html').send(appErrorPage('There is no such page.'))
  })
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err)
      return
    }
    options.log(`error: ${err instanceof Error ? err.message : String(err)}`)
    res.status(500).type('html').send(appErrorPage('The demo app failed to handle that request. The terminal has the details.'))
  })
  return app
}
