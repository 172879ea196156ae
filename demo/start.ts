// Starts the whole demo in this process, on loopback only: the identity provider, the contacts and
// calendar APIs, and the web app. Used by `npm start` (demo/main.ts) and by the browser test.
import { AsyncLocalStorage } from 'node:async_hooks'
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createResourceClient, type ResourceClient } from 'resource-tokens'
import { startDemoMetrics, type DemoMetrics } from './metrics.js'
import { createIdentityProvider } from './identity-provider.js'
import { createResourceApi } from './resource-api.js'
import { createWebApp, type AppApi, type LogoutTrace } from './web-app.js'

/** The loopback address everything listens on; never a public interface. */
export const HOST = '127.0.0.1'

/** Ports of the five servers. 0 picks a free port. */
export interface DemoPorts {
  app: number
  op: number
  contacts: number
  calendar: number
  /** The metrics endpoint (Prometheus text format at /metrics). */
  metrics: number
  /** The tools API, which the app does not configure: it discovers it at run time (RFC 9728). */
  tools: number
}

/**
 * Defaults of {@link DemoPorts}, overridden by `PORT_APP`, `PORT_OP`, `PORT_CONTACTS`, `PORT_CALENDAR`, `PORT_TOOLS`,
 * `PORT_METRICS`.
 */
export const DEFAULT_PORTS: DemoPorts = { app: 3000, op: 4000, contacts: 4001, calendar: 4002, tools: 4003, metrics: 9464 }

export interface StartDemoOptions {
  /** Ports to listen on; missing ones use {@link DEFAULT_PORTS}. Use 0 for free ports (tests). */
  ports?: Partial<DemoPorts>
  /** No log lines on stdout. Default false. */
  quiet?: boolean
  /** Lifetime of the APIs' access tokens, in seconds. Default 120. */
  accessTokenTtlSeconds?: number
  /** How recent a sign-in the tools API's "purge" action needs, in seconds (RFC 9470 `max_age`). Default 30. */
  recentSignInSeconds?: number
}

export interface RunningDemo {
  /** The page to open. */
  appUrl: string
  opUrl: string
  contactsUrl: string
  calendarUrl: string
  /** The client's and the APIs' metrics in the Prometheus text format, e.g. `http://127.0.0.1:9464/metrics`. */
  metricsUrl: string
  toolsUrl: string
  /** Stops every server and the client. Idempotent. */
  close(): Promise<void>
}

/** Default of {@link StartDemoOptions.recentSignInSeconds}. */
const RECENT_SIGN_IN_SECONDS = 30

type Handler = (req: IncomingMessage, res: ServerResponse) => void

/** A server that answers 503 until its real handler is set: every port is bound before anything is configured. */
function serverWithLateHandler(): { server: Server; setHandler(handler: Handler): void } {
  let handler: Handler = (_req, res) => {
    res.statusCode = 503
    res.end('starting')
  }
  const server = createServer((req, res) => handler(req, res))
  return { server, setHandler: (h) => { handler = h } }
}

function listen(server: Server, port: number, name: string, envName: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE'
        ? new Error(`port ${port} (${name}) is in use: stop what uses it, or set ${envName} to another port`)
        : err)
    }
    server.once('error', onError)
    server.listen(port, HOST, () => {
      server.off('error', onError)
      resolve((server.address() as AddressInfo).port)
    })
  })
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve()
      return
    }
    server.close(() => resolve())
    server.closeAllConnections()
  })
}

/**
 * Starts the demo and resolves once every server answers.
 *
 * @example
 * ```ts
 * const demo = await startDemo({ ports: { app: 0, op: 0, contacts: 0, calendar: 0, tools: 0, metrics: 0 }, quiet: true })
 * console.log(demo.appUrl)
 * await demo.close()
 * ```
 */
export async function startDemo(options: StartDemoOptions = {}): Promise<RunningDemo> {
  const ports = { ...DEFAULT_PORTS, ...options.ports }
  const quiet = options.quiet ?? false
  const ttl = options.accessTokenTtlSeconds ?? 120
  const recentSignInSeconds = options.recentSignInSeconds ?? RECENT_SIGN_IN_SECONDS
  const log = quiet ? () => undefined : (line: string) => console.log(`  ${line}`)

  const app = serverWithLateHandler()
  const op = serverWithLateHandler()
  const contactsApi = serverWithLateHandler()
  const calendarApi = serverWithLateHandler()
  const toolsApi = serverWithLateHandler()
  const servers = [app.server, op.server, contactsApi.server, calendarApi.server, toolsApi.server]
  let client: ResourceClient | undefined
  let metrics: DemoMetrics | undefined
  let closed = false
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    await Promise.all(servers.map(closeServer))
    await client?.close()
    await metrics?.close()
  }

  try {
    const opPort = await listen(op.server, ports.op, 'identity provider', 'PORT_OP')
    const contactsPort = await listen(contactsApi.server, ports.contacts, 'contacts API', 'PORT_CONTACTS')
    const calendarPort = await listen(calendarApi.server, ports.calendar, 'calendar API', 'PORT_CALENDAR')
    const toolsPort = await listen(toolsApi.server, ports.tools, 'tools API', 'PORT_TOOLS')
    const appPort = await listen(app.server, ports.app, 'web app', 'PORT_APP')
    // OpenTelemetry metrics of the client and of both APIs' guards, scraped in the Prometheus text format.
    metrics = await startDemoMetrics(ports.metrics).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'EADDRINUSE' ? new Error(`port ${ports.metrics} (metrics) is in use: stop what uses it, or set PORT_METRICS to another port`) : err
    })
    const { meterProvider } = metrics

    const issuer = `http://${HOST}:${opPort}`
    const appUrl = `http://${HOST}:${appPort}`
    const contactsOrigin = `http://${HOST}:${contactsPort}`
    const calendarOrigin = `http://${HOST}:${calendarPort}`
    const contactsIndicator = `${contactsOrigin}/contacts`
    const calendarIndicator = `${calendarOrigin}/calendar`
    const toolsOrigin = `http://${HOST}:${toolsPort}`
    const toolsIndicator = `${toolsOrigin}/tools`
    const appClient = { id: 'demo-app', secret: randomBytes(24).toString('base64url'), name: 'Demo App' }

    op.setHandler(await createIdentityProvider({
      issuer,
      client: { ...appClient, redirectUri: `${appUrl}/auth/callback`, postLogoutRedirectUri: `${appUrl}/`, backchannelLogoutUri: `${appUrl}/auth/backchannel-logout` },
      apis: [
        { indicator: contactsIndicator, scope: 'contacts:read', title: 'Contacts API: read your contacts', kind: 'contacts' },
        { indicator: calendarIndicator, scope: 'calendar:read', title: 'Calendar API: read your calendar', kind: 'calendar' },
        { indicator: toolsIndicator, scope: 'tools:run', title: 'Tools API: run tools for you', kind: 'tools' },
      ],
      accessTokenTtlSeconds: ttl,
    }))
    contactsApi.setHandler(createResourceApi({
      name: 'contacts',
      origin: contactsOrigin,
      indicator: contactsIndicator,
      scope: 'contacts:read',
      issuer,
      collection: 'people',
      meterProvider,
      items: [
        { name: 'Mad Hatter', email: 'hatter@tea.party' },
        { name: 'White Rabbit', email: 'late@rabbit.hole' },
        { name: 'Cheshire Cat', email: 'grin@cheshire.cat' },
      ],
    }))
    calendarApi.setHandler(createResourceApi({
      name: 'calendar',
      dpop: true,
      origin: calendarOrigin,
      indicator: calendarIndicator,
      scope: 'calendar:read',
      issuer,
      collection: 'events',
      meterProvider,
      items: [
        { title: 'Unbirthday tea party', when: 'Today 18:00' },
        { title: 'Croquet with the Queen', when: 'Tomorrow 10:00' },
        { title: 'Caucus race', when: 'Friday 15:30' },
      ],
    }))

    // Not in the app's configuration: the app learns it at run time from its RFC 9728 metadata.
    toolsApi.setHandler(createResourceApi({
      name: 'tools',
      origin: toolsOrigin,
      indicator: toolsIndicator,
      scope: 'tools:run',
      issuer,
      collection: 'list',
      items: [
        { name: 'summarize', about: 'Summarize a document' },
        { name: 'translate', about: 'Translate a text' },
      ],
      recentSignIn: { path: 'purge', maxAgeSeconds: recentSignInSeconds },
      meterProvider,
    }))

    // The client's outbound fetch. It notes the refresh token a logout revokes, so that the page can show
    // the provider's own view of it afterwards (introspection). Demo instrumentation, not something an app needs.
    const logoutTrace = new AsyncLocalStorage<LogoutTrace>()
    const revocationEndpoint = `${issuer}/token/revocation`
    const watchingFetch: typeof fetch = async (input, init) => {
      const trace = logoutTrace.getStore()
      const url = input instanceof Request ? input.url : String(input)
      if (trace !== undefined && url === revocationEndpoint) {
        const body = init?.body instanceof URLSearchParams ? init.body : typeof init?.body === 'string' ? new URLSearchParams(init.body) : undefined
        const token = body?.get('token')
        if (token != null && body?.get('token_type_hint') === 'refresh_token') trace.refreshToken = token
      }
      return fetch(input, init)
    }

    client = await createResourceClient({
      issuer,
      clientId: appClient.id,
      clientSecret: appClient.secret,
      redirectUri: `${appUrl}/auth/callback`,
      postLogoutRedirectUri: `${appUrl}/`,
      loginScope: 'profile email',
      resources: [
        { name: 'contacts', url: contactsIndicator, indicator: contactsIndicator, scope: 'contacts:read' },
        // The calendar token is DPoP-bound (RFC 9449): useless without the key the app holds.
        { name: 'calendar', url: calendarIndicator, indicator: calendarIndicator, scope: 'calendar:read', dpop: true },
      ],
      // Resources on this origin may be learned at run time, from their own RFC 9728 metadata.
      discovery: { origins: [toolsOrigin], scopes: 'tools:run' },
      fetch: watchingFetch,
      meterProvider,
      logger: quiet ? {} : { warn: (m) => log(`warning: ${m}`), error: (m) => log(`error: ${m}`) },
    })
    client.on('login', ({ subject }) => log(`login       ${subject} signed in; one refresh token stored server-side`))
    client.on('token', ({ resource, scope, expiresIn }) => log(`token       ${resource}: new access token, scope "${scope ?? ''}", expires in ${expiresIn ?? '?'} s`))
    client.on('grant_removed', ({ reason }) => log(`grant       removed (${reason})`))
    // Learned now, before anyone signs in, so that every login asks for it too.
    const discovered = await client.discoverResource(`${toolsIndicator}/list`)
    log(`discovered  ${discovered.name} at ${discovered.url} (scope "${discovered.scope}") from its RFC 9728 metadata`)

    const introspect = async (token: string): Promise<Record<string, unknown>> => {
      const endpoint = String(client?.serverMetadata['introspection_endpoint'])
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(appClient.id)}:${encodeURIComponent(appClient.secret)}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token, token_type_hint: 'refresh_token' }),
      })
      if (!response.ok) throw new Error(`introspection answered ${response.status}`)
      return (await response.json()) as Record<string, unknown>
    }

    const contacts: AppApi = {
      kind: 'contacts',
      title: 'Contacts API',
      endpoint: `${contactsIndicator}/people`,
      indicator: contactsIndicator,
      field: 'people',
      show: (item) => ({ primary: String(item['name']), secondary: String(item['email']) }),
    }
    const calendar: AppApi = {
      kind: 'calendar',
      title: 'Calendar API',
      endpoint: `${calendarIndicator}/events`,
      indicator: calendarIndicator,
      field: 'events',
      show: (item) => ({ primary: String(item['title']), secondary: String(item['when']) }),
    }
    const tools: AppApi = {
      kind: 'tools',
      title: 'Tools API',
      endpoint: `${toolsIndicator}/list`,
      indicator: toolsIndicator,
      field: 'list',
      show: (item) => ({ primary: String(item['name']), secondary: String(item['about']) }),
      discovered: true,
      recentSignIn: { endpoint: `${toolsIndicator}/purge`, maxAgeSeconds: recentSignInSeconds },
    }
    const providerSignOutUrl = `${issuer}/session/end`
    app.setHandler(createWebApp({ appUrl, client, contacts, calendar, tools, logoutTrace, introspect, accessTokenTtlSeconds: ttl, log, providerSignOutUrl }))

    return { appUrl: `${appUrl}/`, opUrl: issuer, contactsUrl: contactsOrigin, calendarUrl: calendarOrigin, toolsUrl: toolsOrigin, metricsUrl: metrics.url, close }
  } catch (err) {
    await close()
    throw err
  }
}
