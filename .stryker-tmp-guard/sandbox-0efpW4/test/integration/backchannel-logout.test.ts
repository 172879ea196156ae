// @ts-nocheck
// OpenID Connect Back-Channel Logout (issue 15) against a real oidc-provider with features.backchannelLogout, a
// real redis-server and a second app instance in a child process. The user signs out at the provider; the
// provider POSTs a logout token to the app; every grant of that provider session is gone on both instances, the
// others stay, and their refresh tokens are dead at the provider. Then the attacks on the endpoint.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, test } from 'node:test'
import { decodeJwt, generateKeyPair, importJWK, SignJWT, UnsecuredJWT } from 'jose'
import { handleBackchannelLogoutRequest, type ResourceClient, type ResourceClientEvents } from 'resource-tokens'
import { Redis } from 'ioredis'
import { RedisStore } from 'resource-tokens/redis'
import { code } from '../support/errors.js'
import { closeServer, listenOnLoopback } from '../support/http.js'
import { TEST_SIGNING_KEYS } from '../support/keys.js'
import { HeadlessBrowser } from '../support/provider.js'
import { startRedis, type TestRedis } from '../support/redis.js'
import { startScenario, type Scenario } from '../support/scenario.js'
import { startWorker, type Worker, type WorkerResult } from '../support/worker-process.js'

const SECRET = 'backchannel-logout-test-secret-0123456789abcdef'
const EVENT = 'http://schemas.openid.net/event/backchannel-logout'

let redis: TestRedis
let world: Scenario
let app: Server
let appUrl: string
/** The instance in this process; it answers the provider's back-channel calls. */
let instanceA: ResourceClient
let worker: Worker
const stores: RedisStore[] = []
/** Logout tokens the provider sent, in order, and what the endpoint answered. */
const received: Array<{ token: string; status: number }> = []
/** Refresh and ID tokens the provider issued to instance A, in order (snooped on A's `fetch`). */
const issued: Array<{ refreshToken: string | undefined; idToken: string | undefined }> = []
/** While set, token responses to instance A are held until it resolves (an in-flight refresh). */
let holdTokenResponses: { reached: () => void; release: Promise<void> } | undefined

const keyPrefix = `bcl:${randomUUID().slice(0, 8)}:`

/** Instance A's fetch: the real one, recording what the token endpoint issued. */
const snoopingFetch: typeof fetch = async (input, init) => {
  const res = await fetch(input, init)
  const url = input instanceof Request ? input.url : String(input)
  if (!url.endsWith('/token') || !res.ok) return res
  const body = (await res.clone().json()) as Record<string, unknown>
  issued.push({ refreshToken: body['refresh_token'] as string | undefined, idToken: body['id_token'] as string | undefined })
  const hold = holdTokenResponses
  if (hold !== undefined) {
    hold.reached()
    await hold.release
  }
  return res
}

before(async () => {
  redis = await startRedis()
  // The app listens first: the provider registers its back-channel logout URI at start.
  app = createServer((req, res) => void serveApp(req, res))
  appUrl = `http://127.0.0.1:${await listenOnLoopback(app)}`
  // No rotation: the refresh token a login issued stays the grant's, so the test can introspect it later.
  world = await startScenario({ provider: { backchannelLogoutUri: `${appUrl}/auth/backchannel-logout`, rotateRefreshToken: false } })
  instanceA = await world.client({ store: redisStore(), encryption: { secrets: [SECRET] }, fetch: snoopingFetch })
  const o = world.options()
  worker = await startWorker({
    client: { issuer: o.issuer, clientId: o.clientId, clientSecret: o.clientSecret as string, redirectUri: o.redirectUri, resources: o.resources },
    redis: { url: redis.url, keyPrefix },
    secrets: [SECRET],
  })
})

after(async () => {
  await worker?.kill('SIGKILL')
  await world?.close()
  await Promise.all(stores.map((s) => s.close()))
  if (app !== undefined) await closeServer(app)
  await redis?.stop()
})

function redisStore(): RedisStore {
  const store = new RedisStore({ url: redis.url, keyPrefix })
  stores.push(store)
  return store
}

/** The app's back-channel logout endpoint, through the framework-neutral Fetch API handler. */
async function serveApp(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const body = Buffer.concat(chunks)
  const request = new Request(`${appUrl}${req.url ?? '/'}`, {
    method: req.method ?? 'GET',
    headers: Object.entries(req.headers).flatMap(([k, v]): Array<[string, string]> => (v === undefined ? [] : [[k, String(v)]])),
    ...(req.method === 'POST' ? { body: Readable.toWeb(Readable.from([body])), duplex: 'half' } : {}),
  })
  const response = await handleBackchannelLogoutRequest(instanceA, request)
  const token = new URLSearchParams(body.toString('utf8')).get('logout_token')
  if (token !== null) received.push({ token, status: response.status })
  res.writeHead(response.status, Object.fromEntries(response.headers))
  res.end(Buffer.from(await response.arrayBuffer()))
}

/** Logs `key` in on instance A in `browser` (its provider session), as `account`; resolves the grant's refresh and ID tokens. */
async function login(key: string, browser: HeadlessBrowser, account = 'alice'): Promise<{ refreshToken: string; idToken: string }> {
  const { url } = await instanceA.startLogin(key)
  const callback = await world.op.login(url, { accountId: account, browser })
  await instanceA.finishLogin(key, callback)
  const last = issued.at(-1)
  assert.ok(last?.refreshToken !== undefined && last.idToken !== undefined)
  return { refreshToken: last.refreshToken, idToken: last.idToken }
}

function value(reply: WorkerResult): unknown {
  if (reply.type !== 'result') return reply.type
  return reply.ok ? (reply.value ?? reply.status) : reply.code
}

async function hasGrantOnWorker(key: string): Promise<unknown> {
  return value(await worker.request({ op: 'hasGrant', key }))
}

/** Polls until `check` holds (at most `ms`); asserts it then. Never a timing assertion: only an upper bound. */
async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`)
    await sleep(25)
  }
}

async function active(token: string): Promise<boolean> {
  return (await world.op.introspect(token))['active'] === true
}

describe('back-channel logout on two instances sharing Redis', () => {
  const tab1 = new HeadlessBrowser()
  const tab2 = new HeadlessBrowser()
  const grants: Record<string, { refreshToken: string; idToken: string }> = {}

  test('the user signs out at the provider: every grant of that provider session is gone on both instances, the others stay', async (t) => {
    // Two browser sessions of alice (two provider sessions), two grants in the first, and a background job key.
    grants['s1'] = await login('s1', tab1)
    grants['s1-second-app-session'] = await login('s1-second-app-session', tab1)
    grants['s2'] = await login('s2', tab2)
    grants['job'] = await login('job:alice', new HeadlessBrowser())
    grants['bob'] = await login('bob', new HeadlessBrowser(), 'bob')
    const sid1 = decodeJwt(grants['s1'].idToken)['sid']
    assert.equal(decodeJwt(grants['s1-second-app-session'].idToken)['sid'], sid1, 'two logins in one browser share the provider session')
    assert.notEqual(decodeJwt(grants['s2'].idToken)['sid'], sid1)
    for (const key of ['s1', 's1-second-app-session', 's2', 'job:alice', 'bob']) {
      assert.equal((await instanceA.fetch(key, `${world.contactsUrl}/people`)).status, 200)
      assert.equal(value(await worker.request({ op: 'fetch', key, url: `${world.contactsUrl}/people` })), 200, 'the worker has the grant in its cache too')
    }
    const removedEvents: Array<ResourceClientEvents['grant_removed']> = []
    instanceA.on('grant_removed', (e) => removedEvents.push(e))

    const signedOutAt = Date.now()
    await world.op.signOut(tab1)
    const providerDoneAt = Date.now()

    assert.equal(received.length, 1, 'the provider sent one logout token to the app')
    assert.equal(received[0]?.status, 200)
    const claims = decodeJwt(received[0]?.token ?? '')
    assert.equal(claims['sid'], sid1)
    await eventually(async () => !(await instanceA.hasGrant('s1')) && !(await instanceA.hasGrant('s1-second-app-session')), 2000, 'gone on instance A')
    await eventually(async () => (await hasGrantOnWorker('s1')) === false && (await hasGrantOnWorker('s1-second-app-session')) === false, 2000, 'gone on the worker')
    // A figure for the report, not an assertion (a noisy shared machine): sign-out to gone on both instances.
    t.diagnostic(`provider sign-out round trip ${providerDoneAt - signedOutAt} ms; gone on both instances after ${Date.now() - signedOutAt} ms`)
    assert.equal(value(await worker.request({ op: 'fetch', key: 's1', url: `${world.contactsUrl}/people` })), 'login_required')
    for (const key of ['s2', 'job:alice', 'bob']) {
      assert.equal(await instanceA.hasGrant(key), true, `${key} stays on A`)
      assert.equal(await hasGrantOnWorker(key), true, `${key} stays on the worker`)
    }
    assert.deepEqual(removedEvents.map((e) => e.reason), ['backchannel_logout', 'backchannel_logout'])
  })

  test('in Redis the index keys and values reveal no user or session id, and every index record expires', async () => {
    const raw = new Redis(redis.url)
    try {
      const keys = await raw.keys(`${keyPrefix}idx:*`)
      assert.ok(keys.length >= 3, 'sid and sub index records of the remaining grants')
      const sid2 = decodeJwt(grants['s2']?.idToken ?? '')['sid'] as string
      for (const k of keys) {
        assert.doesNotMatch(k, /alice|bob/)
        assert.ok(!k.includes(sid2))
        const v = (await raw.get(k)) ?? ''
        assert.ok(!v.includes('alice') && !v.includes(sid2) && !v.includes('grants'), 'the index record is encrypted')
        assert.ok((await raw.pttl(k)) > 0, 'bounded in time')
      }
    } finally {
      raw.disconnect()
    }
  })

  test('the removed grants\' refresh tokens are inactive at the provider; the others are active', async () => {
    await eventually(async () => !(await active(grants['s1']?.refreshToken as string)) && !(await active(grants['s1-second-app-session']?.refreshToken as string)), 2000, 'revoked at the provider')
    assert.equal(await active(grants['s2']?.refreshToken as string), true)
    assert.equal(await active(grants['job']?.refreshToken as string), true)
  })

  test('a replayed logout token (on the other instance, and on this one) is refused with invalid_logout_token, nothing removed', async () => {
    const replay = await worker.request({ op: 'backchannelLogout', token: received[0]?.token as string })
    assert.equal(value(replay), 'invalid_logout_token')
    await assert.rejects(instanceA.handleBackchannelLogout(received[0]?.token as string), (err) => code(err) === 'invalid_logout_token')
    assert.equal(await instanceA.hasGrant('s2'), true)
  })

  test('logoutAll({ sub }) removes the rest of that user, on both instances; another user stays', async () => {
    const sub = decodeJwt(grants['s2']?.idToken as string).sub as string
    const result = await worker.request({ op: 'logoutAll', sub })
    assert.equal(value(result), 2)
    await eventually(async () => !(await instanceA.hasGrant('s2')) && !(await instanceA.hasGrant('job:alice')), 2000, 'gone on A')
    assert.equal(await hasGrantOnWorker('job:alice'), false)
    assert.equal(await instanceA.hasGrant('bob'), true)
    await eventually(async () => !(await active(grants['s2']?.refreshToken as string)) && !(await active(grants['job']?.refreshToken as string)), 2000, 'revoked')
    assert.deepEqual(await instanceA.logoutAll({ sub }), { removed: 0 })
  })
})

/** A logout token signed with the provider's own key (the test knows it), valid unless `change` spoils it. */
async function forge(claims: Record<string, unknown>, header: Record<string, unknown> = {}, key = TEST_SIGNING_KEYS[0]): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  const payload = { iss: world.op.issuer, aud: world.op.clientId, iat: now, exp: now + 120, jti: randomUUID(), events: { [EVENT]: {} }, ...claims }
  for (const [name, v] of Object.entries(payload)) if (v === undefined) delete (payload as Record<string, unknown>)[name]
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: 'test-rs256', typ: 'logout+jwt', ...header }).sign(await importJWK({ ...key }, 'RS256'))
}

describe('attacks on the back-channel logout endpoint: refused with invalid_logout_token, nothing removed', () => {
  let bobSid: string
  let bobSub: string
  let bobIdToken: string

  before(async () => {
    if (!(await instanceA.hasGrant('bob'))) await login('bob', new HeadlessBrowser(), 'bob')
    const claims = await instanceA.claims('bob')
    bobSid = claims?.['sid'] as string
    bobSub = claims?.['sub'] as string
    bobIdToken = issued.findLast((t) => t.idToken !== undefined && decodeJwt(t.idToken)['sid'] === bobSid)?.idToken as string
    assert.ok(bobSid && bobSub && bobIdToken)
  })

  const attacks: Array<[string, () => Promise<string>]> = [
    ['a bad signature (another key, same kid)', async () => {
      const { privateKey } = await generateKeyPair('RS256')
      const now = Math.floor(Date.now() / 1000)
      return new SignJWT({ iss: world.op.issuer, aud: world.op.clientId, iat: now, jti: randomUUID(), events: { [EVENT]: {} }, sid: bobSid })
        .setProtectedHeader({ alg: 'RS256', kid: 'test-rs256', typ: 'logout+jwt' })
        .sign(privateKey)
    }],
    ['another audience', () => forge({ sid: bobSid, aud: 'another-client' })],
    ['another issuer', () => forge({ sid: bobSid, iss: 'https://evil.example' })],
    ['a nonce', () => forge({ sid: bobSid, nonce: 'n-0S6_WzA2Mj' })],
    ['no events claim', () => forge({ sid: bobSid, events: undefined })],
    ['an events claim without the back-channel logout event', () => forge({ sid: bobSid, events: { 'http://schemas.openid.net/event/other': {} } })],
    ['the event as a string, not an object', () => forge({ sid: bobSid, events: { [EVENT]: 'logout' } })],
    ['neither sid nor sub', () => forge({})],
    ['no jti', () => forge({ sid: bobSid, jti: undefined })],
    ['alg none', async () => new UnsecuredJWT({ iss: world.op.issuer, aud: world.op.clientId, iat: Math.floor(Date.now() / 1000), jti: randomUUID(), events: { [EVENT]: {} }, sid: bobSid }).encode()],
    ['expired', () => forge({ sid: bobSid, iat: Math.floor(Date.now() / 1000) - 200, exp: Math.floor(Date.now() / 1000) - 100 })],
    ['issued long ago (iat outside the window)', () => forge({ sid: bobSid, iat: Math.floor(Date.now() / 1000) - 3600, exp: undefined })],
    ['explicitly typed as an access token', () => forge({ sid: bobSid }, { typ: 'at+jwt' })],
    ['an ID token passed as a logout token', async () => bobIdToken],
    ['not a JWT at all', async () => 'not-a-jwt'],
  ]
  for (const [name, make] of attacks) {
    test(name, async () => {
      const token = await make()
      await assert.rejects(instanceA.handleBackchannelLogout(token), (err) => code(err) === 'invalid_logout_token' && !String((err as Error).message).includes(token))
      assert.equal(await instanceA.hasGrant('bob'), true, 'nothing removed')
    })
  }

  test('over HTTP: 400 invalid_request, Cache-Control no-store, no cookie, no redirect; GET is 405', async () => {
    const res = await fetch(`${appUrl}/auth/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: await forge({ sid: bobSid, nonce: 'x' }) }),
      redirect: 'manual',
    })
    assert.equal(res.status, 400)
    assert.equal(res.headers.get('cache-control'), 'no-store')
    assert.equal(res.headers.get('set-cookie'), null)
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_request')
    const missing = await fetch(`${appUrl}/auth/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' })
    assert.equal(missing.status, 400)
    assert.equal((await fetch(`${appUrl}/auth/backchannel-logout`)).status, 405)
    assert.equal(await instanceA.hasGrant('bob'), true)
  })

  test('control: the same forgery with every claim right is accepted (the attacks above fail for their own reason)', async () => {
    assert.deepEqual(await instanceA.handleBackchannelLogout(await forge({ sid: bobSid, sub: bobSub })), { removed: 1 })
    assert.equal(await instanceA.hasGrant('bob'), false)
    assert.equal(await hasGrantOnWorker('bob'), false)
  })
})

describe('a refresh in flight when its grant is removed', () => {
  test('does not write the grant back: login_required, nothing in the store, and the refresh token dead', async () => {
    const race = await login('race', new HeadlessBrowser(), 'carol')
    let reached!: () => void
    const atProvider = new Promise<void>((resolve) => (reached = resolve))
    let release!: () => void
    holdTokenResponses = { reached, release: new Promise<void>((resolve) => (release = resolve)) }
    const inFlight = instanceA.fetch('race', `${world.calendarUrl}events`)
    inFlight.catch(() => undefined)
    try {
      // The provider has answered the refresh; its answer has not reached the grant writer yet.
      await atProvider
      holdTokenResponses = undefined
      assert.deepEqual(await worker.request({ op: 'logoutAll', sub: decodeJwt(race.idToken).sub as string }).then(value), 1)
    } finally {
      release()
    }
    await assert.rejects(inFlight, (err) => code(err) === 'login_required')
    assert.equal(await instanceA.hasGrant('race'), false)
    assert.equal(await hasGrantOnWorker('race'), false)
    // The writer's compare-and-set found the grant gone: it was not written back (a plain write would have).
    await sleep(50)
    assert.equal(await instanceA.hasGrant('race'), false, 'still gone after the writer gave up')
    for (const t of issued.slice(-2)) if (t.refreshToken !== undefined) assert.equal(await active(t.refreshToken), false)
  })
})

describe('imported grants are indexed too', () => {
  test('a grant imported with its ID token is found by logoutAll, on both instances', async () => {
    const dave = await login('dave-login', new HeadlessBrowser(), 'dave')
    await instanceA.importGrant('dave-imported', dave)
    assert.equal(await hasGrantOnWorker('dave-imported'), true)
    assert.deepEqual(await instanceA.logoutAll({ sub: 'dave' }), { removed: 2 })
    assert.equal(await hasGrantOnWorker('dave-imported'), false)
    assert.equal(await instanceA.hasGrant('dave-login'), false)
  })
})
