// The fast path (`client.request`, `client.serviceRequest`, the `dispatcher` option) keeps every token rule of
// `client.fetch`, against the real test provider and real servers. Every request the library sends to a resource
// goes through a real undici Agent with a recording interceptor, and the servers on the other end record what
// arrived: after each test, no token or DPoP proof may have gone anywhere but to its own resource.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createServer as createHttpsServer } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { inspect } from 'node:util'
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import { decodeJwt } from 'jose'
import { Agent, type Dispatcher } from 'undici'
import { createResourceClient, ResourceTokensError, type ResourceClient, type ResourceClientOptions } from 'resource-tokens'
import { CountingAgent, recordingInterceptor, type Dispatched } from '../support/dispatchers.js'
import { code } from '../support/errors.js'
import { readAll } from '../support/http.js'
import { redirector, startRecordingServer, type RecordedRequest, type TestResourceServer } from '../support/resource-server.js'
import { startScenario, type Scenario } from '../support/scenario.js'
import { TLS_CERT, TLS_KEY } from '../support/tls.js'

const KEY = 'fast-path-user'

/** `${from}/redirect?status=&to=`: the redirector below answers it with that redirect. */
const redirect = (from: string, status: number, to: string): string => `${from}/redirect?status=${status}&to=${encodeURIComponent(to)}`

/** An https recording server with the test certificate (trusted only by the dispatcher below). */
async function startHttpsRecorder(): Promise<{ url: string; port: number; requests: RecordedRequest[]; close(): Promise<void> }> {
  const requests: RecordedRequest[] = []
  const server = createHttpsServer({ key: TLS_KEY, cert: TLS_CERT }, (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const body = (await readAll(req)).toString('utf8')
      requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: { ...req.headers }, body })
      if (await redirector(req, res)) return
      res.setHeader('content-type', 'application/json')
      res.end('{"ok":true}')
    })().catch(() => res.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  server.unref()
  const port = (server.address() as AddressInfo).port
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

function authorizationOf(request: RecordedRequest | undefined): string | undefined {
  const value = request?.headers['authorization']
  return Array.isArray(value) ? value.join(',') : value
}

function proofOf(request: RecordedRequest | undefined): Record<string, unknown> {
  return decodeJwt(String(request?.headers['dpop']))
}

function bodyText(body: unknown): string | undefined {
  if (typeof body === 'string') return body
  if (body instanceof URLSearchParams) return body.toString()
  if (body instanceof Uint8Array) return Buffer.from(body).toString('utf8')
  return undefined
}

/** Reads undici's answer as JSON (the connection goes back to the pool). */
async function json(res: Dispatcher.ResponseData): Promise<unknown> {
  return res.body.json()
}

/** Everything a caller can see of an error: message, stack, causes, util.inspect (hidden too) and JSON. */
function renderError(err: unknown): string {
  const parts = [inspect(err, { depth: 10 }), inspect(err, { depth: 10, showHidden: true })]
  try {
    parts.push(JSON.stringify(err) ?? '')
  } catch {
    // not JSON: inspect shows it all
  }
  for (let current: unknown = err, depth = 0; current instanceof Error && depth < 10; current = current.cause, depth++) {
    parts.push(current.message, current.stack ?? '')
  }
  return parts.join('\n')
}

describe('fast path: client.request keeps the token rules of client.fetch', () => {
  let world: Scenario
  let client: ResourceClient
  /** Recording server with two registered resources: `${rs.url}/v1` and, nested, `${rs.url}/v1/admin`. */
  let rs: TestResourceServer
  /** Another loopback port: no resource. */
  let other: TestResourceServer
  /** An https resource at `${secure.url}/api`, for scheme downgrades. */
  let secure: Awaited<ReturnType<typeof startHttpsRecorder>>
  let recUrl: string
  let adminUrl: string
  let secureUrl: string
  let agent: Agent
  /** What the library handed the dispatcher: every request to a resource or a non-resource URL. */
  const sent: Dispatched[] = []
  /** What went to the provider (through the configured `fetch`, never the dispatcher). */
  const toProvider: string[] = []
  /** Access token → the indicator (resource URL) it was issued for, from the token endpoint's answers. */
  const owners = new Map<string, string>()
  /** Refresh tokens and client credentials seen on the wire: must never appear in an error. */
  const secrets = new Set<string>()
  const dpopResources: string[] = []

  const spy: typeof fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : input instanceof URL ? input.href : input
    toProvider.push(url)
    const body = bodyText(init?.body)
    const presented = new URLSearchParams(body ?? '').get('refresh_token')
    if (presented !== null) secrets.add(presented)
    const response = await fetch(input, init)
    if (url === `${world.op.issuer}/token` && response.ok) {
      const answer = (await response.clone().json()) as { access_token?: string; refresh_token?: string }
      const resource = new URLSearchParams(body ?? '').get('resource')
      if (resource !== null && answer.access_token !== undefined) owners.set(answer.access_token, resource)
      if (answer.access_token !== undefined) secrets.add(answer.access_token)
      if (answer.refresh_token !== undefined) secrets.add(answer.refresh_token)
    }
    return response
  }

  /** Same origin, no userinfo, path equal to the resource's or under it after a '/'. Independent of the library's matcher. */
  function belongsTo(url: string, resourceUrl: string): boolean {
    const u = new URL(url)
    const r = new URL(resourceUrl)
    if (u.username !== '' || u.password !== '' || u.origin !== r.origin) return false
    const prefix = r.pathname.replace(/\/+$/, '')
    return prefix === '' || u.pathname === prefix || u.pathname.startsWith(`${prefix}/`)
  }

  /** Requests that carried one of our tokens (or a signed DPoP proof) anywhere but to that token's own resource. */
  function strayTokens(): string[] {
    const stray: string[] = []
    for (const s of sent) {
      for (const [token] of owners) if (s.url.includes(token) || (s.body ?? '').includes(token)) stray.push(`${s.method} ${s.url} (token in URL or body)`)
      const token = /^(?:bearer|dpop) +(\S+)$/i.exec(s.headers.get('authorization') ?? '')?.[1]
      const owner = token === undefined ? undefined : owners.get(token)
      if (token !== undefined && (owner === undefined || !belongsTo(s.url, owner))) stray.push(`${s.method} ${s.url} (authorization)`)
      const proof = s.headers.get('dpop')
      if (proof !== null && proof.split('.').length === 3 && !dpopResources.some((r) => belongsTo(s.url, r))) stray.push(`${s.method} ${s.url} (DPoP proof)`)
    }
    return stray
  }

  /** What the resource `url` belongs to currently sends, as an Authorization header value. */
  async function bearer(url: string, key = KEY): Promise<string> {
    return `Bearer ${(await client.accessToken(key, url)).value}`
  }

  function refreshes(): number {
    return world.op.tokenRequests.filter((r) => r.grantType === 'refresh_token').length
  }

  async function newClient(overrides: Partial<ResourceClientOptions> = {}): Promise<ResourceClient> {
    return world.client({
      fetch: spy,
      dispatcher: agent.compose(recordingInterceptor(sent)),
      resources: [
        ...world.options().resources,
        { url: recUrl, scope: 'rec:read', name: 'rec', indicator: recUrl },
        { url: adminUrl, scope: 'rec:admin', name: 'rec-admin', indicator: adminUrl },
        { url: secureUrl, scope: 'secure:read', name: 'secure', indicator: secureUrl },
      ],
      ...overrides,
    })
  }

  before(async () => {
    world = await startScenario()
    rs = await startRecordingServer()
    other = await startRecordingServer()
    secure = await startHttpsRecorder()
    recUrl = `${rs.url}/v1`
    adminUrl = `${rs.url}/v1/admin`
    secureUrl = `${secure.url}/api`
    world.op.registerResource({ indicator: recUrl, scope: 'rec:read' })
    world.op.registerResource({ indicator: adminUrl, scope: 'rec:admin' })
    world.op.registerResource({ indicator: secureUrl, scope: 'secure:read' })
    // The test certificate is trusted by this dispatcher only.
    agent = new Agent({ connect: { ca: TLS_CERT } })
    client = await newClient()
    await world.login(client, KEY)
    rs.respond(redirector)
    other.respond(redirector)
    secrets.add(world.op.clientSecret)
  })

  beforeEach(() => {
    sent.length = 0
    toProvider.length = 0
    for (const server of [rs, other, secure, world.contacts, world.calendar]) server.requests.length = 0
  })

  afterEach(() => {
    assert.deepEqual(strayTokens(), [], 'no token or DPoP proof left for anywhere but its own resource')
  })

  after(async () => {
    await Promise.all([rs.close(), other.close(), secure.close()])
    await world.close()
    await agent.close()
  })

  describe('matching', () => {
    test('each resource gets its own token, and the real resource servers accept it', async () => {
      const contacts = await client.request(KEY, `${world.contactsUrl}/people`)
      const calendar = await client.request(KEY, `${world.calendarUrl}events`)
      const rec = await client.request(KEY, `${recUrl}/people`)
      assert.equal(contacts.statusCode, 200)
      assert.deepEqual(await json(contacts), { resource: 'contacts', sub: 'alice', aud: world.contactsUrl, scope: 'contacts:read', path: '/api/people' })
      assert.equal(calendar.statusCode, 200)
      assert.equal(((await json(calendar)) as { aud: string }).aud, world.calendarUrl)
      assert.equal(rec.statusCode, 200)
      await rec.body.dump()
      const arrived = [authorizationOf(world.contacts.requests[0]), authorizationOf(world.calendar.requests[0]), authorizationOf(rs.requests[0])]
      assert.deepEqual(arrived, [await bearer(world.contactsUrl), await bearer(world.calendarUrl), await bearer(recUrl)])
      assert.equal(new Set(arrived).size, 3, 'three different tokens')
      // The nested resource /v1/admin gets its own token (longest prefix), /v10 none.
      await (await client.request(KEY, `${adminUrl}/users`)).body.dump()
      await (await client.request(KEY, `${rs.url}/v10/people`)).body.dump()
      assert.equal(authorizationOf(rs.requests[1]), await bearer(adminUrl))
      assert.notEqual(authorizationOf(rs.requests[1]), authorizationOf(rs.requests[0]))
      assert.equal(authorizationOf(rs.requests[2]), undefined)
    })

    test('a cold burst over three resources: one token request per resource, each server sees only its own token', async () => {
      const BKEY = 'fast-path-burst'
      await world.login(client, BKEY)
      const before = refreshes()
      world.op.setTokenEndpointHook(() => sleep(50)) // keeps the token requests in flight while the burst arrives
      try {
        const urls = [`${world.contactsUrl}/p`, `${world.calendarUrl}e`, `${recUrl}/r`]
        const responses = await Promise.all(Array.from({ length: 30 }, (_, i) => client.request(BKEY, urls[i % 3] ?? '')))
        assert.deepEqual(new Set(responses.map((r) => r.statusCode)), new Set([200]))
        await Promise.all(responses.map((r) => r.body.dump()))
      } finally {
        world.op.setTokenEndpointHook()
      }
      assert.equal(refreshes(), before + 3)
      const seen = [world.contacts, world.calendar, rs].map((server) => new Set(server.requests.map(authorizationOf)))
      assert.deepEqual(seen.map((s) => s.size), [1, 1, 1])
      assert.deepEqual(seen.map((s) => [...s][0]), [await bearer(world.contactsUrl, BKEY), await bearer(world.calendarUrl, BKEY), await bearer(recUrl, BKEY)])
    })

    test('a URL of no resource is sent without a token, body and headers as given, even for a key with no grant', async () => {
      const res = await client.request(KEY, `${other.url}/public`, { method: 'POST', body: 'hi', headers: { 'x-app': '1', 'x-multi': ['a', 'b'] } })
      assert.equal(res.statusCode, 200)
      assert.deepEqual(await json(res), { ok: true })
      const arrived = other.requests[0]
      assert.equal(arrived?.method, 'POST')
      assert.equal(arrived?.body, 'hi')
      assert.equal(arrived?.headers['x-app'], '1')
      assert.equal(arrived?.headers['x-multi'], 'a, b')
      assert.equal(authorizationOf(arrived), undefined)
      for (const url of [`${rs.url}/v10`, `${rs.url}/v1x/a`, recUrl.replace('127.0.0.1', 'localhost')]) {
        await (await client.request(KEY, url)).body.dump()
        assert.equal(authorizationOf(rs.requests.at(-1)), undefined, url)
      }
      const anonymous = await client.request('no-grant-for-this-key', `${other.url}/public`)
      assert.equal(anonymous.statusCode, 200)
      await anonymous.body.dump()
    })

    // Fails on 0412772: resourceRequest (src/fetch/resource-fetch.ts) does not check its options: a non-string
    // method crashes with a raw TypeError, an unknown redirect mode is followed, a string or array of headers
    // is read with Object.entries and sends headers named "0", "1", ... Fixed: they are invalid_argument.
    test('bad request options are refused with invalid_argument, and nothing is sent', async () => {
      for (const options of [{ method: 42 }, { method: 'GE T' }, { redirect: 'bogus' }, { headers: 'x-a: 1' }, { headers: [['x-a', '1']] }]) {
        for (const url of [`${recUrl}/x`, `${other.url}/x`]) {
          await assert.rejects(client.request(KEY, url, options as never), (err) => code(err) === 'invalid_argument', `${inspect(options)} ${url}`)
        }
      }
      assert.deepEqual(sent, [])
    })

    test('a key without a grant gets login_required for a resource URL, and nothing is sent', async () => {
      await assert.rejects(client.request('no-grant-for-this-key', `${recUrl}/people`), (err) => code(err) === 'login_required')
      assert.equal(rs.requests.length, 0)
      assert.equal(sent.length, 0)
    })

    test('relative URLs throw invalid_argument; ..%2F and %2e%2e under a resource throw ambiguous_path; nothing is sent', async () => {
      for (const url of ['/v1/people', `//127.0.0.1:${rs.port}/v1/people`, '']) {
        await assert.rejects(client.request(KEY, url), (err) => code(err) === 'invalid_argument', JSON.stringify(url))
      }
      for (const path of ['/v1/..%2Fv10', '/v1/..%2fadmin', '/v1/%2E%2E%2Fx', '/v1/..;/x', '/v1/%252e%252e%252fx', '/v1/admin/..%2F..%2Fv10']) {
        await assert.rejects(client.request(KEY, `${rs.url}${path}`), (err) => code(err) === 'ambiguous_path', path)
      }
      assert.deepEqual(sent, [])
      assert.equal(rs.requests.length, 0)
      // A dot segment URL parsing does remove (%2e%2e between slashes) leaves the resource: sent, without a token.
      await (await client.request(KEY, `${recUrl}/%2e%2e/x`)).body.dump()
      assert.deepEqual([rs.requests[0]?.url, authorizationOf(rs.requests[0])], ['/x', undefined])
    })
  })

  describe('redirects', () => {
    for (const status of [301, 302, 303, 307, 308]) {
      test(`a ${status} from the resource to another origin drops the token`, async () => {
        const res = await client.request(KEY, redirect(recUrl, status, `${other.url}/landing`))
        assert.equal(res.statusCode, 200)
        assert.deepEqual(await json(res), { ok: true })
        assert.equal(authorizationOf(rs.requests[0]), await bearer(recUrl), 'control: the first hop had the token')
        assert.equal(other.requests.length, 1)
        assert.equal(other.requests[0]?.url, '/landing')
        assert.equal(authorizationOf(other.requests[0]), undefined)
      })
    }

    test('a redirect to another resource (other origin, or nested on the same origin) carries neither token', async () => {
      const res = await client.request(KEY, redirect(recUrl, 302, `${world.contactsUrl}/people`))
      assert.equal(res.statusCode, 401, 'contacts refuses the token-less request')
      await res.body.dump()
      assert.equal(world.contacts.requests.length, 1)
      assert.equal(authorizationOf(world.contacts.requests[0]), undefined)
      for (const [from, to] of [
        [recUrl, `${adminUrl}/users`],
        [adminUrl, `${recUrl}/people`],
      ] as const) {
        rs.requests.length = 0
        await (await client.request(KEY, redirect(from, 307, to))).body.dump()
        assert.equal(rs.requests.length, 2)
        assert.equal(authorizationOf(rs.requests[0]), await bearer(from), 'control')
        assert.equal(authorizationOf(rs.requests[1]), undefined, `${from} -> ${to}`)
      }
    })

    test('a redirect to a non-resource path on the same origin drops the token', async () => {
      for (const to of ['/public', '/v10/x', `${rs.url}/`]) {
        rs.requests.length = 0
        await (await client.request(KEY, redirect(recUrl, 302, to))).body.dump()
        assert.equal(rs.requests.length, 2)
        assert.equal(authorizationOf(rs.requests[1]), undefined, to)
      }
    })

    test('https -> http: a redirect from the https resource to http drops the token, also on the same host and port', async () => {
      for (const status of [301, 302, 307, 308]) {
        other.requests.length = 0
        const res = await client.request(KEY, redirect(secureUrl, status, `${other.url}/downgraded`))
        assert.equal(res.statusCode, 200)
        await res.body.dump()
        assert.equal(authorizationOf(secure.requests.at(-1)), await bearer(secureUrl), 'control')
        assert.equal(authorizationOf(other.requests[0]), undefined, `${status}`)
      }
      // Same host and port, scheme downgraded: the hop fails (a TLS server) but is sent without a token.
      sent.length = 0
      await client.request(KEY, redirect(secureUrl, 302, `http://127.0.0.1:${secure.port}/api/x`)).then((res) => res.body.dump(), () => undefined)
      const downgraded = sent.find((s) => s.url.startsWith('http://'))
      assert.ok(downgraded, 'the downgraded hop was attempted')
      assert.equal(downgraded.headers.get('authorization'), null)
    })

    test('resource -> foreign -> back to the resource: the token is never attached again', async () => {
      const back = `${recUrl}/people`
      for (const status of [302, 307]) {
        rs.requests.length = 0
        other.requests.length = 0
        const res = await client.request(KEY, redirect(recUrl, status, redirect(`${other.url}/x`, status, back)))
        assert.equal(res.statusCode, 200)
        await res.body.dump()
        assert.deepEqual(rs.requests.map((r) => r.url.split('?')[0]), ['/v1/redirect', '/v1/people'])
        assert.equal(authorizationOf(rs.requests[0]), await bearer(recUrl), 'control')
        assert.equal(authorizationOf(other.requests[0]), undefined)
        assert.equal(authorizationOf(rs.requests[1]), undefined, 'a foreign server must not choose where on the resource the token goes')
      }
      // Same with a same-origin detour through a non-resource path.
      rs.requests.length = 0
      await (await client.request(KEY, redirect(recUrl, 302, redirect(`${rs.url}/public`, 302, back)))).body.dump()
      assert.equal(rs.requests.length, 3)
      assert.equal(authorizationOf(rs.requests[2]), undefined)
    })

    test('a non-resource URL that redirects to the resource is followed without a token', async () => {
      const res = await client.request(KEY, redirect(`${other.url}/x`, 302, `${recUrl}/people`))
      assert.equal(res.statusCode, 200)
      await res.body.dump()
      assert.equal(rs.requests.length, 1)
      assert.equal(authorizationOf(rs.requests[0]), undefined)
    })

    test('a redirect within the resource keeps its token, and a 307 its method and body', async () => {
      const res = await client.request(KEY, redirect(recUrl, 307, `${recUrl}/next`), { method: 'PUT', body: 'payload', headers: { 'content-type': 'text/plain' } })
      assert.equal(res.statusCode, 200)
      await res.body.dump()
      assert.equal(rs.requests.length, 2)
      assert.equal(rs.requests[1]?.url, '/v1/next')
      assert.deepEqual(rs.requests.map((r) => [r.method, r.body, authorizationOf(r)]), [
        ['PUT', 'payload', await bearer(recUrl)],
        ['PUT', 'payload', await bearer(recUrl)],
      ])
      assert.equal(rs.requests[1]?.headers['content-type'], 'text/plain')
    })

    test('303 turns POST into a body-less GET (body headers dropped); 307/308 keep the method and a Uint8Array body', async () => {
      const res = await client.request(KEY, redirect(recUrl, 303, `${other.url}/see-other`), { method: 'POST', body: 'form=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
      await res.body.dump()
      assert.deepEqual([other.requests[0]?.method, other.requests[0]?.body, other.requests[0]?.headers['content-type']], ['GET', '', undefined])
      for (const status of [307, 308]) {
        other.requests.length = 0
        const bytes = new TextEncoder().encode(`bytes-${status}`)
        await (await client.request(KEY, redirect(recUrl, status, `${other.url}/upload`), { method: 'POST', body: bytes })).body.dump()
        assert.deepEqual([other.requests[0]?.method, other.requests[0]?.body, authorizationOf(other.requests[0])], ['POST', `bytes-${status}`, undefined])
      }
    })

    test('redirect "manual" returns the 3xx and follows nothing; "error" throws redirect_refused', async () => {
      const res = await client.request(KEY, redirect(recUrl, 302, `${other.url}/x`), { redirect: 'manual' })
      assert.equal(res.statusCode, 302)
      assert.equal(res.headers['location'], `${other.url}/x`)
      await res.body.dump()
      await assert.rejects(client.request(KEY, redirect(recUrl, 307, `${other.url}/x`), { redirect: 'error' }), (err) => {
        assert.equal(code(err), 'redirect_refused')
        assert.equal((err as ResourceTokensError).status, 307)
        return true
      })
      assert.equal(other.requests.length, 0)
      assert.equal(rs.requests.length, 2)
    })

    test('a redirect loop ends with redirect_refused; across origins too, and no foreign hop sees the token', async () => {
      await assert.rejects(client.request(KEY, `${recUrl}/loop`), (err) => code(err) === 'redirect_refused')
      assert.ok(rs.requests.length >= 2 && rs.requests.length <= 21, `${rs.requests.length} requests`)
      const bounce = (n: number): string => (n === 0 ? `${recUrl}/loop` : redirect(recUrl, 302, redirect(`${other.url}/x`, 302, bounce(n - 1))))
      await assert.rejects(client.request(KEY, bounce(3)), (err) => code(err) === 'redirect_refused')
      assert.ok(other.requests.length >= 1)
      for (const request of other.requests) assert.equal(authorizationOf(request), undefined)
    })

    test('a redirect within the resource to a hidden dot segment is refused with ambiguous_path: the hop is not sent', async () => {
      await assert.rejects(client.request(KEY, redirect(recUrl, 302, `${recUrl}/..%2Fv10/x`)), (err) => code(err) === 'ambiguous_path')
      assert.equal(rs.requests.length, 1)
    })

    test('a streamed body: a 307 is redirect_refused (nothing re-sent), a 303 becomes a GET', async () => {
      await assert.rejects(client.request(KEY, redirect(recUrl, 307, `${other.url}/x`), { method: 'POST', body: Readable.from(['streamed']) }), (err) => code(err) === 'redirect_refused')
      assert.equal(rs.requests[0]?.body, 'streamed')
      assert.equal(other.requests.length, 0)
      const res = await client.request(KEY, redirect(recUrl, 303, `${other.url}/y`), { method: 'POST', body: Readable.from(['streamed']) })
      assert.equal(res.statusCode, 200)
      await res.body.dump()
      assert.deepEqual([other.requests[0]?.method, other.requests[0]?.body], ['GET', ''])
    })
  })

  describe('challenges', () => {
    /** rs answers the next `times` requests that carry a token with 401 invalid_token. */
    function refuse(times: number): { refused: () => number } {
      let refused = 0
      rs.respond((req, res) => {
        if (refused >= times || req.headers.authorization === undefined) return redirector(req, res)
        refused++
        res.writeHead(401, { 'www-authenticate': 'Bearer realm="rec", error="invalid_token", error_description="revoked"', 'content-type': 'application/json' })
        res.end('{"error":"invalid_token"}')
        return true
      })
      return { refused: () => refused }
    }
    afterEach(() => rs.respond(redirector))

    for (const [kind, body] of [
      ['string', () => 'hello'],
      ['Uint8Array', () => new TextEncoder().encode('hello')],
    ] as const) {
      test(`401 invalid_token is retried once with a new token, the ${kind} body sent again`, async () => {
        const before = await bearer(recUrl)
        const refreshesBefore = refreshes()
        refuse(1)
        const res = await client.request(KEY, `${recUrl}/people`, { method: 'POST', body: body(), headers: { 'content-type': 'text/plain' } })
        assert.equal(res.statusCode, 200)
        await res.body.dump()
        assert.equal(rs.requests.length, 2)
        assert.deepEqual(rs.requests.map((r) => r.body), ['hello', 'hello'])
        assert.equal(authorizationOf(rs.requests[0]), before)
        assert.equal(authorizationOf(rs.requests[1]), await bearer(recUrl))
        assert.notEqual(authorizationOf(rs.requests[1]), before, 'the retry carries a new token')
        assert.equal(refreshes(), refreshesBefore + 1)
      })
    }

    test('401 invalid_token twice is returned, not looped', async () => {
      const { refused } = refuse(Infinity)
      const res = await client.request(KEY, `${recUrl}/people`)
      assert.equal(res.statusCode, 401)
      assert.deepEqual(await json(res), { error: 'invalid_token' })
      assert.equal(refused(), 2)
    })

    test('401 invalid_token with a Readable body is returned as is: not retried, no token requested, no stream error', async () => {
      await (await client.request(KEY, `${recUrl}/warm`)).body.dump() // a cached token: the only token request would be a retry's
      rs.requests.length = 0
      const refreshesBefore = refreshes()
      refuse(1)
      const res = await client.request(KEY, `${recUrl}/people`, { method: 'POST', body: Readable.from([Buffer.from('{"name":'), Buffer.from('"streamed"}')]) })
      assert.equal(res.statusCode, 401)
      assert.deepEqual(await json(res), { error: 'invalid_token' })
      assert.equal(rs.requests.length, 1, 'sent once, never retried')
      assert.equal(rs.requests[0]?.body, '{"name":"streamed"}')
      assert.equal(refreshes(), refreshesBefore, 'no new token was fetched for a retry')
    })

    test('403 insufficient_scope becomes a typed error with the scope asked for', async () => {
      rs.respond((_req, res) => {
        res.writeHead(403, { 'www-authenticate': 'Bearer error="insufficient_scope", scope="rec:read rec:write"' }).end()
        return true
      })
      await assert.rejects(client.request(KEY, `${recUrl}/people`), (err) => {
        assert.ok(err instanceof ResourceTokensError)
        assert.equal(err.code, 'insufficient_scope')
        assert.equal(err.status, 403)
        assert.equal(err.scope, 'rec:read rec:write')
        return true
      })
      assert.equal(rs.requests.length, 1)
    })
  })

  describe('caller headers', () => {
    test('the caller\'s headers object is left unchanged; its authorization and dpop are replaced on the token hop', async () => {
      const record: Record<string, string | string[]> = { 'x-app': '1', authorization: 'Basic YXBwOnNlY3JldA==', dpop: 'caller-proof', 'x-multi': ['a', 'b'] }
      const snapshot = structuredClone(record)
      const headers = new Headers({ 'x-app': '2', authorization: 'Basic YXBwOnNlY3JldA==', dpop: 'caller-proof' })
      const headersBefore = [...headers]
      await (await client.request(KEY, redirect(recUrl, 307, `${recUrl}/next`), { headers: record })).body.dump()
      await (await client.request(KEY, `${recUrl}/again`, { headers })).body.dump()
      assert.deepEqual(record, snapshot)
      assert.deepEqual([...headers], headersBefore)
      assert.equal(rs.requests.length, 3)
      for (const arrived of rs.requests) {
        assert.equal(authorizationOf(arrived), await bearer(recUrl), arrived.url)
        assert.equal(arrived.headers['dpop'], undefined, arrived.url)
      }
      assert.deepEqual(rs.requests.map((r) => r.headers['x-app']), ['1', '1', '2'])
      assert.equal(rs.requests[0]?.headers['x-multi'], 'a, b')
    })

    test('the caller\'s authorization and cookie do not cross origins', async () => {
      const headers = { authorization: 'Basic YXBwOnNlY3JldA==', cookie: 'sid=app-session', 'x-app': '1' }
      await (await client.request(KEY, redirect(recUrl, 302, `${other.url}/elsewhere`), { headers })).body.dump()
      // From a URL of no resource, the caller's own header goes to that URL only.
      await (await client.request(KEY, redirect(`${other.url}/start`, 302, `${rs.url}/public`), { headers })).body.dump()
      assert.deepEqual(other.requests.map((r) => [r.url.split('?')[0], authorizationOf(r), r.headers['cookie'], r.headers['x-app']]), [
        ['/elsewhere', undefined, undefined, '1'],
        ['/start/redirect', 'Basic YXBwOnNlY3JldA==', 'sid=app-session', '1'],
      ])
      assert.deepEqual(rs.requests.map((r) => [r.url.split('?')[0], authorizationOf(r), r.headers['cookie']]), [
        ['/v1/redirect', await bearer(recUrl), 'sid=app-session'],
        ['/public', undefined, undefined],
      ])
    })

    // Fails on 0412772: nextHop (src/fetch/hop.ts) drops authorization, cookie and proxy-authorization on a
    // cross-origin hop, not dpop. Fixed: it drops dpop too.
    test('the caller\'s dpop header does not cross origins either', async () => {
      const headers = { dpop: 'caller-proof' }
      await (await client.request(KEY, redirect(`${other.url}/start`, 302, `${rs.url}/public`), { headers })).body.dump()
      await (await client.request(KEY, redirect(recUrl, 302, `${other.url}/elsewhere`), { headers })).body.dump()
      assert.equal(other.requests[0]?.headers['dpop'], 'caller-proof', 'control: the caller\'s own request')
      assert.equal(rs.requests[1]?.headers['dpop'], undefined, 'the token hop: dropped')
      assert.equal(rs.requests[0]?.headers['dpop'], undefined, 'crossed an origin')
      assert.equal(other.requests[1]?.headers['dpop'], undefined, 'crossed an origin')
    })
  })

  describe('DPoP resource', () => {
    let dpopClient: ResourceClient
    const DKEY = 'fast-path-dpop'
    before(async () => {
      dpopResources.push(world.contactsUrl)
      dpopClient = await newClient({
        resources: [
          { url: world.contactsUrl, scope: 'contacts:read', indicator: world.contactsUrl, name: 'contacts', dpop: true },
          { url: world.calendarUrl, scope: 'calendar:read', indicator: world.calendarUrl, name: 'calendar' },
        ],
      })
      await world.login(dpopClient, DKEY)
    })
    afterEach(() => world.contacts.respond())

    test('request gets the DPoP-bound token with a fresh proof for the exact method and URL; the real server verifies it', async () => {
      const get = await dpopClient.request(DKEY, `${world.contactsUrl}/people?page=1`)
      assert.equal(get.statusCode, 200, 'the resource server checked htm, htu, ath and the key thumbprint')
      assert.equal(((await json(get)) as { sub: string }).sub, 'alice')
      const post = await dpopClient.request(DKEY, `${world.contactsUrl}/people/new`, { method: 'post', body: 'x' })
      assert.equal(post.statusCode, 200)
      await post.body.dump()
      const token = await dpopClient.accessToken(DKEY, world.contactsUrl)
      assert.equal(token.type, 'dpop')
      const jkt = (decodeJwt(token.value)['cnf'] as { jkt?: string } | undefined)?.jkt
      assert.equal(typeof jkt, 'string')
      const [a, b] = world.contacts.requests
      assert.equal(authorizationOf(a), `DPoP ${token.value}`)
      assert.equal(authorizationOf(b), `DPoP ${token.value}`)
      const [pa, pb] = [proofOf(a), proofOf(b)]
      assert.deepEqual([pa['htm'], pa['htu']], ['GET', `${world.contactsUrl}/people`])
      assert.deepEqual([pb['htm'], pb['htu']], ['POST', `${world.contactsUrl}/people/new`])
      assert.equal(pa['ath'], createHash('sha256').update(token.value).digest('base64url'))
      assert.notEqual(pa['jti'], pb['jti'])
      assert.equal(b?.body, 'x')
      // The bearer resource of the same client stays bearer, with no proof.
      await (await dpopClient.request(DKEY, `${world.calendarUrl}events`)).body.dump()
      assert.match(authorizationOf(world.calendar.requests.at(-1)) ?? '', /^Bearer /)
      assert.equal(world.calendar.requests.at(-1)?.headers['dpop'], undefined)
    })

    test('a caller\'s authorization and dpop headers are replaced by the token and a proof of ours', async () => {
      const res = await dpopClient.request(DKEY, `${world.contactsUrl}/people`, { headers: { authorization: 'Basic YXBwOnNlY3JldA==', dpop: 'caller-proof', 'x-app': '1' } })
      assert.equal(res.statusCode, 200)
      await res.body.dump()
      const arrived = world.contacts.requests[0]
      assert.match(authorizationOf(arrived) ?? '', /^DPoP /)
      assert.equal(proofOf(arrived)['htu'], `${world.contactsUrl}/people`)
      assert.equal(arrived?.headers['x-app'], '1')
    })

    test('a redirect from the DPoP resource carries neither token nor proof; within it, a fresh proof for the new URL', async () => {
      world.contacts.respond(redirector)
      await (await dpopClient.request(DKEY, redirect(world.contactsUrl, 307, `${other.url}/elsewhere`))).body.dump()
      assert.match(authorizationOf(world.contacts.requests[0]) ?? '', /^DPoP /, 'control')
      assert.equal(authorizationOf(other.requests[0]), undefined)
      assert.equal(other.requests[0]?.headers['dpop'], undefined)
      world.contacts.requests.length = 0
      world.contacts.respond((req, res) => (req.url?.includes('/redirect') === true ? redirector(req, res) : false))
      const res = await dpopClient.request(DKEY, redirect(world.contactsUrl, 302, `${world.contactsUrl}/next`))
      assert.equal(res.statusCode, 200, 'the second hop\'s proof was verified by the resource server')
      await res.body.dump()
      const proofs = world.contacts.requests.map(proofOf)
      assert.deepEqual(proofs.map((p) => p['htu']), [`${world.contactsUrl}/redirect`, `${world.contactsUrl}/next`])
      assert.notEqual(proofs[0]?.['jti'], proofs[1]?.['jti'])
    })

    test('401 invalid_token on the DPoP resource is retried once with a new token and a new proof', async () => {
      const before = await dpopClient.accessToken(DKEY, world.contactsUrl)
      let refused = 0
      world.contacts.respond((_req, res) => {
        if (refused++ > 0) return false
        res.writeHead(401, { 'www-authenticate': 'DPoP error="invalid_token", algs="ES256"' }).end()
        return true
      })
      const res = await dpopClient.request(DKEY, `${world.contactsUrl}/people`, { method: 'PUT', body: 'again' })
      assert.equal(res.statusCode, 200)
      await res.body.dump()
      const after = await dpopClient.accessToken(DKEY, world.contactsUrl)
      assert.notEqual(after.value, before.value)
      assert.deepEqual(world.contacts.requests.map((r) => [authorizationOf(r), r.body]), [
        [`DPoP ${before.value}`, 'again'],
        [`DPoP ${after.value}`, 'again'],
      ])
      assert.equal(proofOf(world.contacts.requests[1])['ath'], createHash('sha256').update(after.value).digest('base64url'))
    })
  })

  describe('serviceRequest', () => {
    test('uses the client_credentials token of the resource; no token for a URL of no resource', async () => {
      world.op.resetCounters()
      const res = await client.serviceRequest(`${world.contactsUrl}/stats`)
      assert.equal(res.statusCode, 200)
      const body = (await json(res)) as { sub: string; aud: string }
      assert.equal(body.sub, world.op.clientId, 'the app itself, not a user')
      assert.equal(body.aud, world.contactsUrl)
      const grants = world.op.tokenRequests.map((r) => [r.grantType, r.resource?.[0]])
      assert.deepEqual(grants, [['client_credentials', world.contactsUrl]])
      const service = await client.serviceAccessToken(world.contactsUrl)
      assert.equal(authorizationOf(world.contacts.requests[0]), `Bearer ${service.value}`)
      assert.notEqual(service.value, (await client.accessToken(KEY, world.contactsUrl)).value)
      const plain = await client.serviceRequest(`${other.url}/public`)
      await plain.body.dump()
      assert.equal(authorizationOf(other.requests[0]), undefined)
    })

    test('the same redirect rules: leaving the resource drops the service token', async () => {
      const res = await client.serviceRequest(redirect(recUrl, 307, `${other.url}/elsewhere`), { method: 'POST', body: 'svc' })
      assert.equal(res.statusCode, 200)
      await res.body.dump()
      assert.equal(authorizationOf(rs.requests[0]), `Bearer ${(await client.serviceAccessToken(recUrl)).value}`)
      assert.deepEqual([other.requests[0]?.body, authorizationOf(other.requests[0])], ['svc', undefined])
    })
  })

  describe('the dispatcher option', () => {
    test('fetch, request, serviceFetch and serviceRequest go through the dispatcher (bearer and DPoP); provider requests do not', async () => {
      const counting = new CountingAgent()
      try {
        // Default fetch (Node's): the dispatcher reaches it as `init.dispatcher`.
        const dispatched = await world.client({
          dispatcher: counting,
          resources: [
            { url: world.contactsUrl, scope: 'contacts:read', indicator: world.contactsUrl, name: 'contacts', dpop: true },
            { url: world.calendarUrl, scope: 'calendar:read', indicator: world.calendarUrl, name: 'calendar' },
          ],
        })
        await world.login(dispatched, 'dispatched-user')
        world.op.resetCounters()
        const fetched = [
          await dispatched.fetch('dispatched-user', `${world.calendarUrl}a`),
          await dispatched.fetch('dispatched-user', `${world.contactsUrl}/b`),
          await dispatched.fetch('dispatched-user', `${other.url}/c`),
          await dispatched.serviceFetch(`${world.calendarUrl}d`),
        ]
        const requested = [
          await dispatched.request('dispatched-user', `${world.calendarUrl}e`),
          await dispatched.request('dispatched-user', `${world.contactsUrl}/f`),
          await dispatched.request('dispatched-user', `${other.url}/g`),
          await dispatched.serviceRequest(`${world.contactsUrl}/h`),
        ]
        assert.deepEqual(fetched.map((r) => r.status), [200, 200, 200, 200])
        assert.deepEqual(requested.map((r) => r.statusCode), [200, 200, 200, 200])
        await Promise.all([...fetched.map((r) => r.text()), ...requested.map((r) => r.body.dump())])
        assert.deepEqual(
          counting.dispatched.map((d) => d.url),
          [`${world.calendarUrl}a`, `${world.contactsUrl}/b`, `${other.url}/c`, `${world.calendarUrl}d`, `${world.calendarUrl}e`, `${world.contactsUrl}/f`, `${other.url}/g`, `${world.contactsUrl}/h`],
        )
        assert.deepEqual(counting.dispatched.map((d) => (d.headers.get('authorization') ?? 'none').split(' ')[0]), ['Bearer', 'DPoP', 'none', 'Bearer', 'Bearer', 'DPoP', 'none', 'DPoP'])
        // The provider was asked for tokens meanwhile, never through the dispatcher.
        assert.deepEqual(world.op.tokenRequests.map((r) => r.grantType).sort(), ['client_credentials', 'client_credentials', 'refresh_token', 'refresh_token'])
        for (const d of counting.dispatched) assert.ok(!d.url.startsWith(world.op.issuer), d.url)
      } finally {
        await counting.close()
      }
    })

    test('a dispatcher that is not an undici Dispatcher is refused at construction: invalid_config', async () => {
      for (const dispatcher of [{}, 'agent', 42, null, { dispatch: 'yes' }, fetch]) {
        await assert.rejects(createResourceClient(world.options({ dispatcher: dispatcher as never })), (err) => {
          assert.equal(code(err), 'invalid_config', inspect(dispatcher))
          assert.match((err as Error).message, /dispatcher/)
          return true
        })
      }
    })
  })

  describe('secrets', () => {
    test('no token, refresh token or client secret appears in any error of the fast path', async () => {
      const SKEY = 'fast-path-secrets'
      const errors: Array<{ step: string; err: unknown }> = []
      const failing = async (step: string, expected: string, run: () => Promise<Dispatcher.ResponseData>): Promise<void> => {
        try {
          const res = await run()
          await res.body.dump()
        } catch (err) {
          errors.push({ step, err })
          assert.equal(code(err), expected, `${step}: ${String(err)}`)
          return
        }
        assert.fail(`${step}: expected ${expected}, got no error`)
      }
      await world.login(client, SKEY)
      await (await client.request(SKEY, `${recUrl}/warm`)).body.dump()
      await (await client.serviceRequest(`${recUrl}/warm`)).body.dump()
      assert.ok(secrets.size >= 4, 'tokens were seen on the wire')

      rs.respond((_req, res) => {
        res.writeHead(403, { 'www-authenticate': 'Bearer error="insufficient_scope", scope="rec:write"' }).end()
        return true
      })
      await failing('insufficient_scope', 'insufficient_scope', () => client.request(SKEY, `${recUrl}/people`))
      await failing('insufficient_scope (service)', 'insufficient_scope', () => client.serviceRequest(`${recUrl}/people`))
      rs.respond(redirector)
      await failing('redirect "error"', 'redirect_refused', () => client.request(SKEY, redirect(recUrl, 302, `${other.url}/x`), { redirect: 'error' }))
      await failing('redirect loop', 'redirect_refused', () => client.request(SKEY, `${recUrl}/loop`))
      await failing('streamed body on a 307', 'redirect_refused', () => client.request(SKEY, redirect(recUrl, 307, `${recUrl}/x`), { method: 'POST', body: Readable.from(['s']) }))
      await failing('ambiguous path', 'ambiguous_path', () => client.request(SKEY, `${recUrl}/..%2Fv10`))
      await failing('relative URL', 'invalid_argument', () => client.request(SKEY, '/v1/x'))
      await failing('unknown key', 'login_required', () => client.request('nobody', `${recUrl}/x`))
      // The provider fails while echoing the refresh token and the client secret back: a 401 forces a refresh.
      const echo = `refresh_token=${[...secrets].join(' ')} client_secret=${world.op.clientSecret}`
      let refused = false
      rs.respond((req, res) => {
        if (refused || req.headers.authorization === undefined) return redirector(req, res)
        refused = true
        res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end()
        return true
      })
      world.op.failTokenRequests(1, { status: 503, body: echo, contentType: 'text/plain' })
      await failing('token endpoint down (echoing secrets)', 'token_endpoint_unavailable', () => client.request(SKEY, `${recUrl}/people`))
      refused = false
      world.op.failTokenRequests(1, { status: 400, body: JSON.stringify({ error: 'invalid_grant', error_description: echo }), contentType: 'application/json' })
      await failing('invalid_grant (echoing secrets)', 'login_required', () => client.request(SKEY, `${recUrl}/people`))
      rs.respond(redirector)

      assert.ok(errors.length >= 10)
      for (const { step, err } of errors) {
        const text = renderError(err)
        const found = [...secrets].filter((s) => text.includes(s))
        assert.deepEqual(found.map((s) => `${s.slice(0, 6)}...`), [], `${step}: ${(err as Error).message}`)
      }
    })
  })

  test('a refused call (empty key, closed client, bad URL or option) returns a rejected promise; it never throws', async () => {
    const closed = await newClient()
    await closed.close()
    const calls: Array<[string, () => Promise<unknown>, string]> = [
      ['fetch, empty key', () => client.fetch('', `${recUrl}/x`), 'invalid_argument'],
      ['request, empty key', () => client.request('', `${recUrl}/x`), 'invalid_argument'],
      ['fetch, relative URL', () => client.fetch('u', '/v1/x'), 'invalid_argument'],
      ['request, bad method', () => client.request('u', `${recUrl}/x`, { method: 'G ET' }), 'invalid_argument'],
      ['fetch, bad redirect mode', () => client.fetch('u', `${recUrl}/x`, { redirect: 'sideways' } as unknown as RequestInit), 'invalid_argument'],
      ['fetch, closed client', () => closed.fetch('u', `${recUrl}/x`), 'invalid_argument'],
      ['request, closed client', () => closed.request('u', `${recUrl}/x`), 'invalid_argument'],
      ['serviceFetch, closed client', () => closed.serviceFetch(`${recUrl}/x`), 'invalid_argument'],
      ['serviceRequest, closed client', () => closed.serviceRequest(`${recUrl}/x`), 'invalid_argument'],
    ]
    for (const [what, call, expected] of calls) {
      let promise: Promise<unknown> | undefined
      assert.doesNotThrow(() => (promise = call()), what)
      assert.ok(promise instanceof Promise, what)
      await assert.rejects(promise, (err) => code(err) === expected, what)
    }
  })
})
