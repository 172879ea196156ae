// @ts-nocheck
// One small app per web framework, all with the same routes, for the adapter suite and the browser tests:
//   GET  /                 HTML: signed out, a sign-in link; signed in, both APIs' answers and a logout form
//   GET  /api/me           requireLogin; JSON with both APIs' answers (each with its own token) and the CSRF token
//   GET  /api/maybe        optionalLogin (not on Next.js)
//   POST /api/transfer     verifyCsrf + requireLogin (not on Next.js)
//   GET  /api/gone         requireLogin, then a login_required thrown by the route (not on Next.js)
//   /auth/login, /auth/callback, /auth/logout from the adapter.
// Each app listens before its client exists: the provider needs its URL in the client registration.
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { createServer, type RequestListener } from 'node:http'
import { createServer as createNetServer, type AddressInfo } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { getRequestListener } from '@hono/node-server'
import express, { type NextFunction, type Request as ExpressRequest, type Response as ExpressResponse } from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import { createResourceClient, ResourceTokensError, type ResourceClient } from 'resource-tokens'
import { resourceTokens as expressResourceTokens } from 'resource-tokens/express'
import { resourceTokensPlugin } from 'resource-tokens/fastify'
import { resourceTokens as honoResourceTokens } from 'resource-tokens/hono'
import { createWebHandlers, type RequestResourceTokens, type WebLogoutEvent } from 'resource-tokens/web'
import { closeServer, listenOnLoopback } from './http.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const NEXT_EXAMPLE = join(ROOT, 'examples/next')

/** Where the app's client gets its tokens, as the Next.js example reads it from its environment. */
export interface AppConfig {
  issuer: string
  clientId: string
  clientSecret: string
  /** Resource URLs (also the indicators). The app calls `<contactsUrl>/people` and `<calendarUrl>/events`. */
  contactsUrl: string
  calendarUrl: string
  /** The calendar API takes DPoP-bound tokens only (the demo's does). */
  calendarDpop?: boolean
  /** Called with every logout (in-process apps only). */
  onLogout?: (event: WebLogoutEvent) => void
}

export interface RunningApp {
  readonly url: string
  /** The client, for in-process apps (to check grants); undefined for Next.js (another process). */
  readonly client: ResourceClient | undefined
  close(): Promise<void>
}

/** An app whose port is bound; `start` configures it once the provider knows its URL. */
export interface AppSlot {
  readonly url: string
  start(config: AppConfig): Promise<RunningApp>
}

export interface AdapterDriver {
  readonly name: 'web' | 'express' | 'fastify' | 'hono' | 'next'
  /** Routes beyond /, /api/me and the adapter's own (see the file comment). */
  readonly extras: boolean
  open(): Promise<AppSlot>
}

const endpoint = (base: string, path: string): string => `${base.replace(/\/+$/, '')}/${path}`

async function clientFor(url: string, config: AppConfig): Promise<ResourceClient> {
  return createResourceClient({
    issuer: config.issuer,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    redirectUri: `${url}/auth/callback`,
    postLogoutRedirectUri: `${url}/`,
    resources: [
      { name: 'contacts', url: config.contactsUrl, indicator: config.contactsUrl, scope: 'contacts:read' },
      { name: 'calendar', url: config.calendarUrl, indicator: config.calendarUrl, scope: 'calendar:read', dpop: config.calendarDpop === true },
    ],
    logger: {},
  })
}

/** What /api/me answers: both APIs called through the signed-in user's fetch. */
async function me(tokens: RequestResourceTokens, config: AppConfig): Promise<Record<string, unknown>> {
  const [contacts, calendar] = await Promise.all([tokens.fetch(endpoint(config.contactsUrl, 'people')), tokens.fetch(endpoint(config.calendarUrl, 'events'))])
  return {
    sub: (await tokens.claims())?.['sub'],
    contacts: { status: contacts.status, body: await contacts.json() },
    calendar: { status: calendar.status, body: await calendar.json() },
    csrf: tokens.csrfToken,
  }
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

async function page(tokens: RequestResourceTokens | undefined, config: AppConfig): Promise<string> {
  if (tokens === undefined) return '<!doctype html><title>app</title><h1>Signed out</h1><a id="sign-in" href="/auth/login">Sign in</a>'
  const data = await me(tokens, config)
  return `<!doctype html><title>app</title><h1 id="user">${escapeHtml(String(data['sub']))}</h1>
<pre id="contacts">${escapeHtml(JSON.stringify(data['contacts']))}</pre>
<pre id="calendar">${escapeHtml(JSON.stringify(data['calendar']))}</pre>
<form method="post" action="/auth/logout"><input type="hidden" name="_csrf" value="${escapeHtml(tokens.csrfToken)}"><button id="sign-out">Sign out</button></form>`
}

/** @hono/node-server's listener for a fetch handler, its promise handled (it answers 500 itself on a throw). */
function nodeListener(handler: (request: Request) => Response | Promise<Response>): RequestListener {
  const listener = getRequestListener(handler)
  return (req, res) => {
    void Promise.resolve(listener(req, res)).catch(() => res.destroy())
  }
}

/** A loopback server answering 503 until the app is plugged in. */
async function gate(): Promise<{ url: string; use(listener: RequestListener): void; close(): Promise<void> }> {
  let listener: RequestListener = (_req, res) => {
    res.statusCode = 503
    res.end()
  }
  const server = createServer((req, res) => listener(req, res))
  const port = await listenOnLoopback(server)
  return { url: `http://127.0.0.1:${port}`, use: (l) => { listener = l }, close: () => closeServer(server) }
}

const json = (body: unknown, status = 200): Response => Response.json(body, { status, headers: { 'Cache-Control': 'no-store' } })

/** No framework at all: the web handlers behind a bare fetch handler, served by @hono/node-server's listener. */
export const webDriver: AdapterDriver = {
  name: 'web',
  extras: true,
  async open() {
    const door = await gate()
    return {
      url: door.url,
      async start(config) {
        const client = await clientFor(door.url, config)
        const web = createWebHandlers(client, { baseUrl: door.url, ...(config.onLogout ? { onLogout: config.onLogout } : {}) })
        const routes: Record<string, (request: Request) => Promise<Response>> = {
          'GET /': async (request) => new Response(await page(await web.session(request), config), { headers: { 'content-type': 'text/html; charset=utf-8' } }),
          'GET /api/me': async (request) => {
            const tokens = await web.requireLogin(request)
            return tokens instanceof Response ? tokens : json(await me(tokens, config))
          },
          'GET /api/maybe': async (request) => {
            const tokens = await web.session(request)
            return json({ signedIn: tokens !== undefined, inspected: JSON.stringify(tokens ?? null) })
          },
          'POST /api/transfer': async (request) => {
            const refused = await web.verifyCsrf(request)
            if (refused !== undefined) return refused
            const tokens = await web.requireLogin(request)
            return tokens instanceof Response ? tokens : json({ ok: true })
          },
          'GET /api/gone': async (request) => {
            const tokens = await web.requireLogin(request)
            if (tokens instanceof Response) return tokens
            throw new ResourceTokensError('login_required', 'the grant is gone')
          },
        }
        const handler = async (request: Request): Promise<Response> => {
          try {
            const route = routes[`${request.method} ${new URL(request.url).pathname}`]
            return (await web.handle(request)) ?? (route === undefined ? json({ error: 'not_found' }, 404) : await route(request))
          } catch (err) {
            return web.errorResponse(request, err)
          }
        }
        door.use(nodeListener(handler))
        return { url: door.url, client, close: async () => { await door.close(); await client.close() } }
      },
    }
  },
}

export const expressDriver: AdapterDriver = {
  name: 'express',
  extras: true,
  async open() {
    const door = await gate()
    return {
      url: door.url,
      async start(config) {
        const client = await clientFor(door.url, config)
        const auth = expressResourceTokens(client, {
          baseUrl: door.url,
          ...(config.onLogout ? { onLogout: (e) => config.onLogout?.({ request: new Request(door.url), headers: new Headers(), key: e.key, claims: e.claims, result: e.result }) } : {}),
        })
        const app = express()
        app.use(auth.mountPath, auth.router)
        const wrap = (handler: (req: ExpressRequest, res: ExpressResponse) => Promise<void>) => (req: ExpressRequest, res: ExpressResponse, next: NextFunction) => {
          handler(req, res).catch(next)
        }
        app.get('/', auth.optionalLogin, wrap(async (req, res) => { res.type('html').send(await page(req.resourceTokens, config)) }))
        app.get('/api/me', auth.requireLogin, wrap(async (req, res) => { res.json(await me(req.resourceTokens!, config)) }))
        app.get('/api/maybe', auth.optionalLogin, (req, res) => { res.json({ signedIn: req.resourceTokens !== undefined, inspected: JSON.stringify(req.resourceTokens ?? null) }) })
        app.post('/api/transfer', auth.verifyCsrf, auth.requireLogin, (_req, res) => { res.json({ ok: true }) })
        app.get('/api/gone', auth.requireLogin, () => {
          throw new ResourceTokensError('login_required', 'the grant is gone')
        })
        app.use(auth.handleLoginRequired)
        door.use(app)
        return { url: door.url, client, close: async () => { await door.close(); await client.close() } }
      },
    }
  },
}

export const fastifyDriver: AdapterDriver = {
  name: 'fastify',
  extras: true,
  async open() {
    const door = await gate()
    return {
      url: door.url,
      async start(config) {
        const client = await clientFor(door.url, config)
        // serverFactory: Fastify's handler runs on the server that is already listening.
        const app = Fastify({ serverFactory: (handler) => { door.use(handler); return createServer() } })
        // What @fastify/formbody does, so that verifyCsrf can read a form field.
        app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))))
        await app.register(resourceTokensPlugin, { client, baseUrl: door.url, ...(config.onLogout ? { onLogout: config.onLogout } : {}) })
        app.setErrorHandler(async (err, request, reply) => {
          if (err instanceof ResourceTokensError && err.code === 'login_required') return app.resourceTokens.replyLoginRequired(request, reply)
          return reply.code(500).send({ error: 'server_error' })
        })
        app.get('/', { preHandler: app.resourceTokens.optionalLogin }, async (request, reply) => reply.type('text/html').send(await page(request.resourceTokens ?? undefined, config)))
        app.get('/api/me', { preHandler: app.resourceTokens.requireLogin }, async (request) => me(request.resourceTokens!, config))
        app.get('/api/maybe', { preHandler: app.resourceTokens.optionalLogin }, async (request) => ({ signedIn: request.resourceTokens !== null, inspected: JSON.stringify(request.resourceTokens) }))
        app.post('/api/transfer', { preHandler: [app.resourceTokens.verifyCsrf, app.resourceTokens.requireLogin] }, async () => ({ ok: true }))
        app.get('/api/gone', { preHandler: app.resourceTokens.requireLogin }, async () => {
          throw new ResourceTokensError('login_required', 'the grant is gone')
        })
        await app.ready()
        return { url: door.url, client, close: async () => { await door.close(); await app.close(); await client.close() } }
      },
    }
  },
}

export const honoDriver: AdapterDriver = {
  name: 'hono',
  extras: true,
  async open() {
    const door = await gate()
    return {
      url: door.url,
      async start(config) {
        const client = await clientFor(door.url, config)
        const auth = honoResourceTokens(client, { baseUrl: door.url, ...(config.onLogout ? { onLogout: config.onLogout } : {}) })
        const app = new Hono()
        app.route(auth.mountPath, auth.routes)
        app.get('/', auth.optionalLogin, async (c) => c.html(await page(c.var.resourceTokens, config)))
        app.get('/api/me', auth.requireLogin, async (c) => c.json(await me(c.var.resourceTokens, config)))
        app.get('/api/maybe', auth.optionalLogin, (c) => c.json({ signedIn: c.var.resourceTokens !== undefined, inspected: JSON.stringify(c.var.resourceTokens ?? null) }))
        app.post('/api/transfer', auth.verifyCsrf, auth.requireLogin, (c) => c.json({ ok: true }))
        app.get('/api/gone', auth.requireLogin, () => {
          throw new ResourceTokensError('login_required', 'the grant is gone')
        })
        app.onError((err, c) => auth.errorResponse(err, c.req.raw))
        // Hono on Node.js: @hono/node-server's request listener.
        door.use(nodeListener(app.fetch))
        return { url: door.url, client, close: async () => { await door.close(); await client.close() } }
      },
    }
  },
}

/** A free loopback port (bound, then released: Next.js binds it itself a moment later). */
async function freePort(): Promise<number> {
  const server = createNetServer()
  await new Promise<void>((ok, fail) => { server.once('error', fail); server.listen(0, '127.0.0.1', () => ok()) })
  const { port } = server.address() as AddressInfo
  await new Promise<void>((ok) => server.close(() => ok()))
  return port
}

async function filesUnder(dir: string, skip: ReadonlySet<string>): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (skip.has(entry.name)) continue
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await filesUnder(path, skip)))
    else out.push(path)
  }
  return out.sort()
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((ok, fail) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.on('error', fail)
    child.on('exit', (code) => (code === 0 ? ok() : fail(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output.slice(-4000)}`))))
  })
}

const NEXT_BIN = join(ROOT, 'node_modules/next/dist/bin/next')
const NEXT_ENV = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' }

/**
 * `next build` of examples/next, skipped when neither the example nor the library's build changed since
 * the last one (the suite and the browser test both need it; it takes a while on two cores).
 */
export async function buildNextExample(): Promise<void> {
  const inputs = [...(await filesUnder(NEXT_EXAMPLE, new Set(['.next', 'node_modules', 'next-env.d.ts', 'tsconfig.json']))), ...(await filesUnder(join(ROOT, 'dist'), new Set()))]
  const hash = createHash('sha256')
  for (const file of inputs) hash.update(file).update(await readFile(file))
  const digest = hash.digest('hex')
  const stamp = join(NEXT_EXAMPLE, '.next/resource-tokens-inputs')
  if (existsSync(stamp) && (await readFile(stamp, 'utf8')) === digest && existsSync(join(NEXT_EXAMPLE, '.next/BUILD_ID'))) return
  await run(process.execPath, [NEXT_BIN, 'build'], NEXT_EXAMPLE, NEXT_ENV)
  await writeFile(stamp, digest)
}

/** Stops a child process this module started, and waits for it. */
function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((ok) => {
    child.once('exit', () => ok())
    child.kill('SIGTERM')
  })
}

export const nextDriver: AdapterDriver = {
  name: 'next',
  extras: false,
  async open() {
    await buildNextExample()
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    return {
      url,
      async start(config) {
        const env = {
          ...NEXT_ENV,
          APP_URL: url,
          ISSUER: config.issuer,
          CLIENT_ID: config.clientId,
          CLIENT_SECRET: config.clientSecret,
          CONTACTS_URL: config.contactsUrl,
          CALENDAR_URL: config.calendarUrl,
          CALENDAR_DPOP: config.calendarDpop === true ? '1' : '0',
        }
        const child = spawn(process.execPath, [NEXT_BIN, 'start', '-p', String(port), '-H', '127.0.0.1'], { cwd: NEXT_EXAMPLE, env, stdio: ['ignore', 'pipe', 'pipe'] })
        let output = ''
        child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
        child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
        // If the test process dies, the server goes with it.
        const onExit = (): void => { child.kill('SIGKILL') }
        process.once('exit', onExit)
        const deadline = Date.now() + 60_000
        for (;;) {
          if (child.exitCode !== null) throw new Error(`next start exited:\n${output.slice(-4000)}`)
          try {
            await fetch(`${url}/api/me`, { signal: AbortSignal.timeout(2000) })
            break
          } catch {
            if (Date.now() > deadline) {
              await stop(child)
              throw new Error(`next start did not answer within 60 s:\n${output.slice(-4000)}`)
            }
            await new Promise((r) => setTimeout(r, 200))
          }
        }
        return {
          url,
          client: undefined,
          close: async () => {
            process.off('exit', onExit)
            await stop(child)
          },
        }
      },
    }
  },
}

/** Every adapter the suite runs against; `ADAPTERS=hono,next` narrows it while iterating. */
export function adapterDrivers(): AdapterDriver[] {
  const all = [webDriver, expressDriver, fastifyDriver, honoDriver, nextDriver]
  const only = process.env['ADAPTERS']?.split(',').map((s) => s.trim()).filter(Boolean)
  return only === undefined || only.length === 0 ? all : all.filter((d) => only.includes(d.name))
}
