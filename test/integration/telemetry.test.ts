// OpenTelemetry traces and metrics of real flows, exported by the real SDK's in-memory exporters: a login,
// a cold burst, refresh failures, lock contention between two processes, and a leak scan of everything.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { Writable } from 'node:stream'
import { after, before, test } from 'node:test'
import { pino } from 'pino'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { createAccessTokenVerifier, ResourceTokensError, type ResourceClient, type ResourceClientOptions } from 'resource-tokens'
import { RedisStore } from 'resource-tokens/redis'

import { code } from '../support/errors.js'
import { startRedis, type TestRedis } from '../support/redis.js'
import { startScenario, type Scenario } from '../support/scenario.js'
import { startTestTelemetry, type TestTelemetry } from '../support/telemetry.js'
import { startWorker, type Worker } from '../support/worker-process.js'

const TOKEN_REQUEST = 'resource_tokens.token_request'
const LOCK_ACQUIRE = 'resource_tokens.lock.acquire'
const LOCK_HOLD = 'resource_tokens.lock.hold'
const LOGIN_CALLBACK = 'resource_tokens.login.callback'
const SECRET = 'telemetry-test-encryption-secret-0123456789'

let scenario: Scenario
/** Every span and metric attribute any test exported, and every secret any test saw: for the leak scan. */
const exported: { spans: ReadableSpan[]; metricAttributes: Array<Record<string, unknown>>; logLines: string[] } = { spans: [], metricAttributes: [], logLines: [] }
const secrets = new Set<string>()
const sdks: TestTelemetry[] = []

before(async () => {
  scenario = await startScenario()
  // Every value the token endpoint is sent (refresh tokens, codes, verifiers, assertions) is a secret.
  scenario.op.setTokenEndpointHook(({ body }) => {
    for (const name of ['refresh_token', 'code', 'code_verifier', 'client_secret', 'client_assertion', 'subject_token']) {
      const value = body.get(name)
      if (value !== null && value !== '') secrets.add(value)
    }
  })
  secrets.add(scenario.op.clientSecret)
  secrets.add(SECRET)
})

after(async () => {
  for (const sdk of sdks) await sdk.shutdown()
  await scenario.close()
})

/** A fresh SDK, and a client that reports to it; `fetch` is tapped to learn every token issued. */
async function instrumentedClient(overrides: Partial<ResourceClientOptions> = {}): Promise<{ client: ResourceClient; sdk: TestTelemetry }> {
  const sdk = startTestTelemetry()
  sdks.push(sdk)
  const client = await scenario.client({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider, fetch: tappedFetch, ...overrides })
  return { client, sdk }
}

/** The global fetch, remembering every token a token endpoint answered with (never altering anything). */
const tappedFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, init)
  if (response.headers.get('content-type')?.includes('json') === true) {
    const body = (await response.clone().json().catch(() => undefined)) as Record<string, unknown> | undefined
    for (const name of ['access_token', 'refresh_token', 'id_token']) {
      const value = body?.[name]
      if (typeof value === 'string') secrets.add(value)
    }
  }
  return response
}

/** Logs in under a fresh key inside an app span; returns the key (a secret too: the app's session id). */
async function login(client: ResourceClient, sdk: TestTelemetry, accountId = 'alice'): Promise<string> {
  const key = `session-${randomUUID()}`
  secrets.add(key)
  const { url } = await client.startLogin(key)
  const callback = await scenario.op.login(url, { accountId })
  for (const name of ['code', 'state']) {
    const value = new URL(callback).searchParams.get(name)
    if (value !== null) secrets.add(value)
  }
  await sdk.tracerProvider.getTracer('app').startActiveSpan('GET /callback', async (span) => {
    await client.finishLogin(key, callback)
    span.end()
  })
  const claims = await client.claims(key)
  if (typeof claims?.['sid'] === 'string') secrets.add(claims['sid'])
  return key
}

async function keep(sdk: TestTelemetry): Promise<void> {
  exported.spans.push(...sdk.spans())
  for (const metric of await sdk.metrics()) for (const point of metric.dataPoints) exported.metricAttributes.push(point.attributes)
}

function parentOf(span: ReadableSpan, all: ReadableSpan[]): ReadableSpan | undefined {
  return all.find((s) => s.spanContext().spanId === span.parentSpanContext?.spanId)
}

test('a login: the callback span, its authorization_code token request and store writes as children', async () => {
  const { client, sdk } = await instrumentedClient()
  await login(client, sdk)
  const spans = sdk.spans()
  const [callback] = sdk.spansNamed(LOGIN_CALLBACK)
  assert.ok(callback !== undefined, `a login callback span; got ${spans.map((s) => s.name).join(', ')}`)
  assert.equal(parentOf(callback, spans)?.name, 'GET /callback', 'a child of the active context')
  assert.equal(callback.attributes['resource_tokens.outcome'], 'ok')
  assert.match(String(callback.attributes['resource_tokens.grant']), /^[A-Za-z0-9_-]{12}$/)
  assert.equal(callback.attributes['enduser.id'], undefined, 'sub only on opt-in')
  const requests = sdk.spansNamed(TOKEN_REQUEST)
  assert.equal(requests.length, 1)
  assert.equal(requests[0]?.attributes['resource_tokens.token_request.kind'], 'authorization_code')
  assert.equal(parentOf(requests[0], spans), callback)
  assert.ok(spans.some((s) => s.name.startsWith('resource_tokens.store.') && parentOf(s, spans) === callback), 'store operations are children of the callback')
  assert.equal(await sdk.counter('resource_tokens.logins', { 'resource_tokens.outcome': 'ok' }), 1)
  assert.equal(await sdk.counter('resource_tokens.token_requests', { 'resource_tokens.token_request.kind': 'authorization_code', 'resource_tokens.outcome': 'ok' }), 1)
  await keep(sdk)
})

test('recordIdentity: the login span carries sub (enduser.id), only when asked', async () => {
  const { client, sdk } = await instrumentedClient({ telemetry: { recordIdentity: true } })
  const key = await login(client, sdk)
  const [callback] = sdk.spansNamed(LOGIN_CALLBACK)
  assert.equal(callback?.attributes['enduser.id'], (await client.claims(key))?.['sub'])
  // Not kept for the leak scan: this span carries sub on purpose.
})

test('a cold burst of 100 fetches to two resources: exactly 2 token-request spans, then hits without spans', async () => {
  const { client, sdk } = await instrumentedClient()
  const key = await login(client, sdk)
  const since = scenario.op.tokenRequests.length
  const before = sdk.spans().length
  await sdk.tracerProvider.getTracer('app').startActiveSpan('burst', async (span) => {
    const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => client.fetch(key, i % 2 === 0 ? `${scenario.contactsUrl}/people` : `${scenario.calendarUrl}events`)))
    for (const response of responses) {
      assert.equal(response.status, 200)
      await response.arrayBuffer()
    }
    span.end()
  })
  const spans = sdk.spans()
  const burst = sdk.spansNamed('burst')[0]!
  const requests = sdk.spansNamed(TOKEN_REQUEST, { 'resource_tokens.token_request.kind': 'refresh' })
  assert.equal(requests.length, 2, 'one token request per resource')
  assert.equal(scenario.op.tokenRequests.slice(since).filter((r) => r.grantType === 'refresh_token').length, 2, 'the provider agrees')
  assert.deepEqual(requests.map((s) => s.attributes['resource_tokens.resource']).sort(), ['calendar', 'contacts'])
  for (const request of requests) {
    assert.equal(request.attributes['resource_tokens.outcome'], 'ok')
    assert.equal(request.attributes['resource_tokens.grant'], sdk.spansNamed(LOGIN_CALLBACK)[0]?.attributes['resource_tokens.grant'], 'the same grant reference as the login')
    const hold = parentOf(request, spans)
    assert.equal(hold?.name, LOCK_HOLD, 'the token request runs while the lock is held')
    assert.equal(parentOf(hold, spans), burst, 'the renewal is a child of the caller that started it')
  }
  assert.equal(sdk.spansNamed(LOCK_ACQUIRE).length, 2)
  assert.equal(sdk.spansNamed(LOCK_HOLD).length, 2)
  assert.equal(await sdk.counter('resource_tokens.token_requests', { 'resource_tokens.token_request.kind': 'refresh', 'resource_tokens.outcome': 'ok' }), 2)
  assert.equal((await sdk.histogram('resource_tokens.token_request.duration', { 'resource_tokens.token_request.kind': 'refresh' })).count, 2)
  assert.equal((await sdk.histogram('resource_tokens.lock.wait.duration', { 'resource_tokens.outcome': 'ok' })).count, 2)
  assert.equal((await sdk.histogram('resource_tokens.lock.hold.duration')).count, 2)
  assert.equal(await sdk.counter('resource_tokens.cache.lookups', { 'resource_tokens.resource': 'contacts', 'resource_tokens.cache.result': 'miss' }), 50)
  assert.equal(await sdk.counter('resource_tokens.cache.lookups', { 'resource_tokens.resource': 'calendar', 'resource_tokens.cache.result': 'miss' }), 50)

  // The grant the client just wrote is served from its cache (one confirming read ran in the background).
  const afterBurst = sdk.spans().length
  await (await client.fetch(key, `${scenario.contactsUrl}/people`)).arrayBuffer()
  assert.deepEqual(sdk.spans().slice(afterBurst).map((s) => s.name), [], 'no store read after the client\'s own write')
  // Warm: ten more fetches are ten hits, and not one span.
  const spanCount = sdk.spans().length
  for (let i = 0; i < 10; i++) await (await client.fetch(key, i % 2 === 0 ? `${scenario.contactsUrl}/people` : `${scenario.calendarUrl}events`)).arrayBuffer()
  assert.deepEqual(sdk.spans().slice(spanCount).map((s) => s.name), [], 'a cache hit makes no span')
  assert.equal(await sdk.counter('resource_tokens.cache.lookups', { 'resource_tokens.cache.result': 'hit' }), 11)
  assert.ok(spanCount > before)
  for (const resource of ['contacts', 'calendar']) secrets.add((await client.accessToken(key, resource === 'contacts' ? scenario.contactsUrl : scenario.calendarUrl)).value)
  await keep(sdk)
})

test('a refresh failure: error.type, HTTP status and outcome on the span; failures by code; the grant kept', async () => {
  const { client, sdk } = await instrumentedClient()
  const key = await login(client, sdk)
  scenario.op.failTokenRequests(1, { status: 503, body: 'down for maintenance', contentType: 'text/plain' })
  await assert.rejects(client.fetch(key, `${scenario.contactsUrl}/people`), (err) => code(err) === 'token_endpoint_unavailable')
  const [failed] = sdk.spansNamed(TOKEN_REQUEST, { 'resource_tokens.token_request.kind': 'refresh' })
  assert.ok(failed !== undefined)
  assert.equal(failed.attributes['error.type'], 'token_endpoint_unavailable')
  assert.equal(failed.attributes['resource_tokens.outcome'], 'token_endpoint_unavailable')
  assert.equal(failed.attributes['http.response.status_code'], 503)
  assert.equal(failed.status.code, 2)
  assert.equal(await sdk.counter('resource_tokens.refresh.failures', { 'resource_tokens.resource': 'contacts', 'error.type': 'token_endpoint_unavailable' }), 1)
  assert.equal(await sdk.counter('resource_tokens.token_requests', { 'resource_tokens.outcome': 'token_endpoint_unavailable' }), 1)
  assert.equal(await client.hasGrant(key), true, 'a transient failure keeps the grant')

  // The provider refuses the refresh token: the grant goes, counted by reason.
  scenario.op.failTokenRequests(1, { status: 400, body: JSON.stringify({ error: 'invalid_grant', error_description: 'grant request is invalid' }), contentType: 'application/json' })
  await assert.rejects(client.fetch(key, `${scenario.calendarUrl}events`), (err) => err instanceof ResourceTokensError)
  const refused = sdk.spansNamed(TOKEN_REQUEST, { 'resource_tokens.oauth.error': 'invalid_grant' })
  assert.equal(refused.length, 1)
  assert.equal(refused[0]?.attributes['http.response.status_code'], 400)
  assert.equal(await sdk.counter('resource_tokens.grants.removed', { 'resource_tokens.grant.removal_reason': 'invalid_grant' }), 1)
  assert.equal(await client.hasGrant(key), false)
  await keep(sdk)
})

test('lock contention between two processes: the waiting process shows its wait, and makes no token request', async (t) => {
  let redis: TestRedis | undefined
  let worker: Worker | undefined
  const stores: RedisStore[] = []
  t.after(async () => {
    scenario.op.setTokenEndpointHook(undefined)
    await worker?.stop()
    for (const s of stores) await s.close()
    await redis?.stop()
  })
  redis = await startRedis()
  const keyPrefix = `otel-${randomUUID()}:`
  const store = new RedisStore({ url: redis.url, keyPrefix })
  stores.push(store)
  const { client, sdk } = await instrumentedClient({ store, encryption: { secrets: [SECRET] } })
  const key = await login(client, sdk)
  const options = scenario.options()
  worker = await startWorker({
    client: { issuer: options.issuer, clientId: options.clientId, clientSecret: options.clientSecret!, redirectUri: options.redirectUri, resources: options.resources },
    redis: { url: redis.url, keyPrefix },
    secrets: [SECRET],
  })

  // The worker's refresh is held at the provider until we let it go: it holds the grant lock meanwhile.
  let entered!: () => void
  const inProvider = new Promise<void>((resolve) => (entered = resolve))
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  scenario.op.setTokenEndpointHook(async ({ grantType, body }) => {
    for (const name of ['refresh_token', 'code', 'code_verifier']) {
      const value = body.get(name)
      if (value !== null) secrets.add(value)
    }
    if (grantType !== 'refresh_token') return
    entered()
    await gate
  })
  const since = scenario.op.tokenRequests.length
  const workerFetch = worker.request({ op: 'fetch', key, url: `${scenario.contactsUrl}/people` })
  await inProvider
  const mine = client.fetch(key, `${scenario.contactsUrl}/people`)
  setTimeout(release, 300)
  const [theirs, response] = await Promise.all([workerFetch, mine])
  assert.deepEqual([theirs.type === 'result' && theirs.ok, response.status], [true, 200])
  await response.arrayBuffer()

  assert.equal(scenario.op.tokenRequests.slice(since).filter((r) => r.grantType === 'refresh_token').length, 1, 'one refresh for both processes')
  assert.equal(sdk.spansNamed(TOKEN_REQUEST, { 'resource_tokens.token_request.kind': 'refresh' }).length, 0, 'this process used the token the other obtained')
  const [acquire] = sdk.spansNamed(LOCK_ACQUIRE)
  assert.ok(acquire !== undefined)
  assert.equal(acquire.attributes['resource_tokens.outcome'], 'ok')
  assert.ok(Number(acquire.attributes['resource_tokens.lock.attempts']) >= 2, `the store lock was tried more than once (${String(acquire.attributes['resource_tokens.lock.attempts'])})`)
  const wait = await sdk.histogram('resource_tokens.lock.wait.duration', { 'resource_tokens.outcome': 'ok' })
  assert.equal(wait.count, 1)
  // Not a timing assertion: the other process held the lock until the gate opened, 300 ms after we started waiting.
  assert.ok(wait.sum >= 0.2, `the wait covers the other process's hold (${wait.sum} s)`)
  assert.ok((await sdk.histogram('resource_tokens.store.operation.duration', { 'resource_tokens.store.operation': 'try_lock' })).count >= 2)
  await keep(sdk)
})

test('service tokens: one client_credentials token request span per resource, hits and misses counted', async () => {
  const { client, sdk } = await instrumentedClient()
  const calls = await Promise.all(Array.from({ length: 20 }, (_, i) => client.serviceAccessToken(i % 2 === 0 ? scenario.contactsUrl : scenario.calendarUrl)))
  for (const token of calls) secrets.add(token.value)
  const requests = sdk.spansNamed(TOKEN_REQUEST, { 'resource_tokens.token_request.kind': 'client_credentials' })
  assert.deepEqual(requests.map((s) => s.attributes['resource_tokens.resource']).sort(), ['calendar', 'contacts'])
  assert.ok(requests.every((s) => s.attributes['resource_tokens.grant'] === undefined), 'no user grant behind a service token')
  await client.serviceAccessToken(scenario.contactsUrl)
  assert.equal(await sdk.counter('resource_tokens.cache.lookups', { 'resource_tokens.resource': 'contacts', 'resource_tokens.cache.result': 'hit' }), 1)
  assert.equal(await sdk.counter('resource_tokens.token_requests', { 'resource_tokens.token_request.kind': 'client_credentials', 'resource_tokens.outcome': 'ok' }), 2)
  await keep(sdk)
})

test('the guard: one verification span each, outcome and method as attributes, verifications counted by outcome', async () => {
  const { client, sdk } = await instrumentedClient()
  const key = await login(client, sdk)
  const contacts = await client.accessToken(key, scenario.contactsUrl)
  const calendar = await client.accessToken(key, scenario.calendarUrl)
  secrets.add(contacts.value)
  secrets.add(calendar.value)
  const verify = createAccessTokenVerifier({ issuer: scenario.op.issuer, audience: scenario.contactsUrl, tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider })
  const request = (authorization?: string) => ({ method: 'GET', url: `${scenario.contactsUrl}/people`, headers: authorization === undefined ? {} : { authorization } })
  const verified = await sdk.tracerProvider.getTracer('app').startActiveSpan('GET /api/people', async (span) => {
    try {
      return await verify(request(`Bearer ${contacts.value}`))
    } finally {
      span.end()
    }
  })
  assert.deepEqual(verified.scopes, ['contacts:read'])
  await assert.rejects(verify(request(`Bearer ${calendar.value}`)), (err) => code(err) === 'invalid_token')
  await assert.rejects(verify(request()))
  const spans = sdk.spansNamed('resource_tokens.guard.verify')
  assert.equal(spans.length, 3)
  assert.equal(parentOf(spans[0]!, sdk.spans())?.name, 'GET /api/people')
  assert.deepEqual(
    spans.map((s) => [s.attributes['resource_tokens.outcome'], s.attributes['resource_tokens.guard.method'], s.attributes['resource_tokens.guard.scheme']]),
    [
      ['ok', 'jwt', 'Bearer'],
      ['invalid_token', 'jwt', 'Bearer'],
      [spans[2]!.attributes['error.type'], undefined, undefined],
    ],
  )
  assert.equal(spans[1]?.attributes['http.response.status_code'], 401)
  assert.equal(await sdk.counter('resource_tokens.guard.verifications', { 'resource_tokens.outcome': 'ok', 'resource_tokens.guard.method': 'jwt' }), 1)
  assert.equal(await sdk.counter('resource_tokens.guard.verifications', { 'resource_tokens.outcome': 'invalid_token' }), 1)
  assert.equal((await sdk.histogram('resource_tokens.guard.verification.duration')).count, 3)
  await keep(sdk)
})

test('a pino logger passed as it is: fields as the object, the message as msg, levels as pino levels', async () => {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter((l) => l !== ''))
      done()
    },
  })
  const { client, sdk } = await instrumentedClient({ logger: pino({ level: 'debug' }, stream) })
  const key = await login(client, sdk)
  scenario.op.failTokenRequests(1, { status: 503, body: 'down', contentType: 'text/plain' })
  await assert.rejects(client.fetch(key, `${scenario.contactsUrl}/people`), (err) => code(err) === 'token_endpoint_unavailable')
  const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
  const failed = records.find((r) => r['msg'] === 'refresh failed')
  assert.ok(failed !== undefined, `a "refresh failed" line; got ${records.map((r) => String(r['msg'])).join(', ')}`)
  assert.deepEqual([failed['level'], failed['resource'], failed['code'], failed['component']], [40, 'contacts', 'token_endpoint_unavailable', 'resource-tokens'])
  assert.equal(failed['grant'], sdk.spansNamed(LOGIN_CALLBACK)[0]?.attributes['resource_tokens.grant'], 'log lines and spans name the grant alike')
  assert.ok(records.some((r) => r['msg'] === 'login finished' && r['level'] === 30))
  exported.logLines.push(...lines)
  await keep(sdk)
})

test('leak scan: no exported attribute, status, metric or log line holds a token, code, secret, key or subject', async () => {
  assert.ok(exported.spans.length > 20, `spans were exported (${exported.spans.length})`)
  assert.ok(secrets.size > 10, `secrets were collected (${secrets.size})`)
  const subjects = ['alice']
  const texts: string[] = []
  for (const span of exported.spans) {
    texts.push(span.name, span.status.message ?? '')
    for (const value of Object.values(span.attributes)) texts.push(String(value))
    for (const event of span.events) texts.push(event.name, ...Object.values(event.attributes ?? {}).map(String))
  }
  for (const attributes of exported.metricAttributes) for (const value of Object.values(attributes)) texts.push(String(value))
  texts.push(...exported.logLines)
  const haystack = texts.join('\n')
  for (const secret of secrets) {
    assert.ok(!haystack.includes(secret), `a secret (${secret.slice(0, 6)}…) was exported`)
    // A truncated token is a leak too: its last 16 characters (a signature, random bytes) must not appear.
    if (secret.length > 32) assert.ok(!haystack.includes(secret.slice(-16)), `part of a secret (${secret.slice(0, 6)}…) was exported`)
  }
  for (const subject of subjects) assert.ok(!texts.includes(subject), 'no attribute is the subject')
})

