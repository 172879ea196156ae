// Refresh-ahead (issue 17): a token in its renewal window keeps being used while one background renewal
// replaces it; only a request that finds no usable token waits. When renewal fails, the token is still used
// until it is about to expire, the failure is reported (event and log) and tried again with back-off.
// Against the real test provider, with the library's default options (skew 30 s, 60 s tokens); the client's
// clock is moved instead of waiting (the provider's tokens stay valid in real time meanwhile). Token-endpoint
// outages are real 503 answers of the provider, armed at the moment a request arrives within the outage.
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, test } from 'node:test'
import type { ResourceClient } from 'resource-tokens'
import { RedisStore } from 'resource-tokens/redis'
import { code } from '../support/errors.js'
import { startRedis } from '../support/redis.js'
import { startScenario, type Scenario } from '../support/scenario.js'

const UNAVAILABLE = { status: 503, body: '{"error":"temporarily_unavailable"}', contentType: 'application/json' }


/** Resolves with `promise`, or fails the test after `ms` (a hang is a failure, not a slow pass). */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} (still pending after ${ms} ms)`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

function nextEvent(client: ResourceClient, name: 'token' | 'refresh_failed'): Promise<unknown> {
  return new Promise((resolve) => {
    const listener = (payload: unknown): void => {
      client.off(name, listener)
      resolve(payload)
    }
    client.on(name, listener)
  })
}

describe('refresh-ahead with default options (60 s tokens, renewal from 30 s before expiry)', () => {
  let world: Scenario
  before(async () => {
    world = await startScenario({ provider: { accessTokenTTL: 60 } })
  })
  after(() => world.close())

  /** A client on a clock the test moves; token requests arriving while `down()` are answered 503 by the provider. */
  async function clientWithClock(down: () => boolean = () => false) {
    const clock = { offset: 0 }
    const warnings: Array<{ message: string; fields: unknown }> = []
    let tokenEndpoint = ''
    const client = await world.client({
      now: () => Date.now() + clock.offset,
      logger: { warn: (message: string, fields?: unknown) => warnings.push({ message, fields }) },
      fetch: async (input, init) => {
        const url = input instanceof Request ? input.url : String(input)
        if (url === tokenEndpoint && down()) world.op.failTokenRequests(1, UNAVAILABLE)
        return fetch(input, init)
      },
    })
    tokenEndpoint = String(client.serverMetadata['token_endpoint'])
    /** Sets the client's clock to `at` (ms since the epoch, on the client's clock). */
    const setClock = (at: number): void => {
      clock.offset = at - Date.now()
    }
    return { client, setClock, warnings }
  }

  test('in the renewal window, requests use the current token without waiting; one background renewal replaces it', async () => {
    const { client, setClock } = await clientWithClock()
    await world.login(client, 'ahead')
    const first = await client.accessToken('ahead', world.contactsUrl)
    world.op.resetCounters()
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    world.op.setTokenEndpointHook(() => held)
    try {
      // 31 s into the 60 s token: in its renewal window (from 30 s before expiry).
      setClock(first.expiresAt - 29_000)
      const renewed = nextEvent(client, 'token')
      // While the renewal is held at the provider, 20 requests complete with the current token.
      const responses = await within(Promise.all(Array.from({ length: 20 }, () => client.fetch('ahead', `${world.contactsUrl}/people`))), 10_000, 'requests in the renewal window waited for the renewal')
      for (const response of responses) {
        assert.equal(response.status, 200)
        await response.arrayBuffer()
      }
      assert.deepEqual(new Set(world.contacts.requests.slice(-20).map((r) => r.headers['authorization'])), new Set([`Bearer ${first.value}`]))
      assert.equal(world.op.tokenRequests.length, 1, 'exactly one renewal started for 20 requests')
      release()
      await within(renewed, 10_000, 'the background renewal did not finish')
    } finally {
      release()
      world.op.setTokenEndpointHook()
    }
    const second = await client.accessToken('ahead', world.contactsUrl)
    assert.notEqual(second.value, first.value)
    assert.ok(second.expiresAt > first.expiresAt)
    assert.equal((await client.fetch('ahead', `${world.contactsUrl}/people`)).status, 200)
    assert.equal(world.contacts.requests.at(-1)?.headers['authorization'], `Bearer ${second.value}`)
    assert.equal(world.op.tokenRequests.length, 1)
    assert.equal(world.op.reusedRefreshTokens(), 0)
  })

  test('token endpoint failing for 20 s from the start of renewal: 0 failed requests, failures reported, attempts backed off', async () => {
    let outageEnd = 0
    let now = 0
    const { client, setClock, warnings } = await clientWithClock(() => now < outageEnd)
    await world.login(client, 'outage')
    const first = await client.accessToken('outage', world.contactsUrl)
    const failedEvents: unknown[] = []
    client.on('refresh_failed', (event) => failedEvents.push(event))
    world.op.resetCounters()
    // Renewal starts 30 s before expiry (skewSeconds 30; a 60 s token, so not capped at half its life).
    const renewalStart = first.expiresAt - 30_000
    outageEnd = renewalStart + 20_000

    let requests = 0
    let failures = 0
    let renewedAt: number | undefined
    // Through the renewal window in 250 ms steps of the client's clock, 4 requests a step, until 2 s before expiry.
    for (let at = renewalStart; at <= first.expiresAt - 2000; at += 250) {
      now = at
      setClock(at)
      const results = await Promise.allSettled(Array.from({ length: 4 }, () => client.fetch('outage', `${world.contactsUrl}/people`).then(async (r) => (await r.arrayBuffer(), r.status))))
      for (const result of results) {
        requests++
        if (result.status === 'rejected' || result.value !== 200) failures++
      }
      if (renewedAt === undefined && world.contacts.requests.at(-1)?.headers['authorization'] !== `Bearer ${first.value}`) renewedAt = at
      // Let a background attempt started by this step reach the provider and settle before the clock moves on.
      await sleep(15)
    }
    assert.equal(failures, 0, `${failures} of ${requests} requests failed`)
    assert.ok(renewedAt !== undefined && renewedAt >= outageEnd, 'a new token is in use after the outage')
    const attempts = world.op.tokenRequests.length
    const failed = world.op.tokenRequests.filter((r) => r.status === 503).length
    assert.ok(failed >= 4, `the renewal was tried during the outage (${failed} failed attempts)`)
    // Back-off (1, 2, 4, then every 5 s): a handful of attempts over 20 s, not one per request.
    assert.ok(attempts <= 9, `${attempts} token requests for ${requests} requests`)
    assert.equal(world.op.reusedRefreshTokens(), 0)
    assert.ok(failedEvents.length >= 4)
    for (const event of failedEvents) assert.deepEqual(event, { grant: (event as { grant: string }).grant, resource: 'contacts', code: 'token_endpoint_unavailable', background: true })
    const warned = warnings.filter((w) => /refresh ahead of expiry failed/.test(w.message))
    assert.ok(warned.length >= 4, 'each failure is logged as a warning')
    assert.doesNotMatch(JSON.stringify(warnings), new RegExp(first.value.slice(-20)), 'no token in the log')
  })

  test('a token about to expire is not used: the request waits for the renewal, and fails typed when it fails; the grant is kept', async () => {
    let down = false
    const { client, setClock } = await clientWithClock(() => down)
    await world.login(client, 'expiring')
    const first = await client.accessToken('expiring', world.contactsUrl)
    down = true
    world.op.resetCounters()
    // In the window: the current token is used and the failing renewal is reported.
    setClock(first.expiresAt - 29_000)
    const failed = nextEvent(client, 'refresh_failed')
    assert.equal((await client.fetch('expiring', `${world.contactsUrl}/people`)).status, 200)
    assert.equal(((await within(failed, 10_000, 'no refresh_failed event')) as { background: boolean }).background, true)
    // Within the back-off, more requests start no new attempt.
    for (let i = 0; i < 10; i++) assert.equal((await client.fetch('expiring', `${world.contactsUrl}/people`)).status, 200)
    assert.equal(world.op.tokenRequests.length, 1)

    // 4 s before expiry (inside the 5 s safety margin): the token is not sent; the request waits and fails typed.
    setClock(first.expiresAt - 4000)
    const events: unknown[] = []
    client.on('refresh_failed', (event) => events.push(event))
    await assert.rejects(client.fetch('expiring', `${world.contactsUrl}/people`), (err) => code(err) === 'token_endpoint_unavailable')
    assert.deepEqual(events.map((e) => (e as { background: boolean }).background), [false])
    assert.equal(world.contacts.requests.filter((r) => r.headers['authorization'] === `Bearer ${first.value}`).length, 11, 'sent 11 times in the window, then not once it was about to expire')
    assert.equal(await client.hasGrant('expiring'), true)

    down = false
    const res = await client.fetch('expiring', `${world.contactsUrl}/people`)
    assert.equal(res.status, 200)
    assert.notEqual(world.contacts.requests.at(-1)?.headers['authorization'], `Bearer ${first.value}`)
    assert.equal(world.op.reusedRefreshTokens(), 0)
  })

  test('refresh-ahead never crosses resources: two resources in their windows renew separately, each with its own token', async () => {
    const { client, setClock } = await clientWithClock()
    await world.login(client, 'two')
    const contacts = await client.accessToken('two', world.contactsUrl)
    const calendar = await client.accessToken('two', world.calendarUrl)
    world.op.resetCounters()
    setClock(Math.max(contacts.expiresAt, calendar.expiresAt) - 29_000)
    let renewals = 0
    const both = new Promise<void>((resolve) => {
      client.on('token', () => {
        if (++renewals === 2) resolve()
      })
    })
    const responses = await Promise.all([client.fetch('two', `${world.contactsUrl}/people`), client.fetch('two', `${world.calendarUrl}events`), client.fetch('two', `${world.contactsUrl}/x`), client.fetch('two', `${world.calendarUrl}y`)])
    for (const r of responses) assert.equal(r.status, 200)
    await within(both, 10_000, 'both renewals')
    const requests = world.op.tokenRequests
    assert.deepEqual(requests.map((r) => r.resource?.join()).sort(), [world.calendarUrl, world.contactsUrl].sort())
    const contacts2 = await client.accessToken('two', world.contactsUrl)
    const calendar2 = await client.accessToken('two', world.calendarUrl)
    assert.notEqual(contacts2.value, contacts.value)
    assert.notEqual(calendar2.value, calendar.value)
    // Each resource accepts only its own new token (the resource servers check the audience).
    assert.equal((await client.fetch('two', `${world.contactsUrl}/people`)).status, 200)
    assert.equal((await client.fetch('two', `${world.calendarUrl}events`)).status, 200)
    assert.equal((await fetch(`${world.calendarUrl}events`, { headers: { authorization: `Bearer ${contacts2.value}` } })).status, 401)
  })

  test('close() waits for a background renewal in flight: it finishes and is stored before the store goes away', async () => {
    const { client, setClock } = await clientWithClock()
    await world.login(client, 'closing')
    const first = await client.accessToken('closing', world.contactsUrl)
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    let arrived!: () => void
    const atProvider = new Promise<void>((resolve) => (arrived = resolve))
    world.op.setTokenEndpointHook(async () => {
      arrived()
      await held
    })
    try {
      setClock(first.expiresAt - 29_000)
      const order: string[] = []
      client.on('token', () => order.push('token'))
      assert.equal((await client.fetch('closing', `${world.contactsUrl}/people`)).status, 200)
      await within(atProvider, 10_000, 'the background renewal did not reach the provider')
      const closed = client.close().then(() => order.push('closed'))
      await sleep(50)
      assert.deepEqual(order, [], 'close() is still waiting for the renewal')
      release()
      await within(closed, 10_000, 'close() did not finish')
      assert.deepEqual(order, ['token', 'closed'])
    } finally {
      release()
      world.op.setTokenEndpointHook()
    }
  })

  test('RedisStore: once renewed, requests use the new token at once; none waits for a store read (reads held)', async () => {
    const redis = await startRedis()
    const store = new RedisStore({ url: redis.url, keyPrefix: 'ahead-redis:' })
    try {
      let offset = 0
      const shared = await world.client({ store, encryption: { secrets: ['refresh-ahead-redis-secret-0123456789'] }, now: () => Date.now() + offset })
      await world.login(shared, 'redis-ahead')
      const first = await shared.accessToken('redis-ahead', world.contactsUrl)
      // The grant cache is warm (the client hears its own login write announced): a request reads nothing.
      await sleep(100)
      assert.equal((await shared.fetch('redis-ahead', `${world.contactsUrl}/people`)).status, 200)
      offset = first.expiresAt - 29_000 - Date.now()
      const renewed = nextEvent(shared, 'token')
      assert.equal((await shared.fetch('redis-ahead', `${world.contactsUrl}/people`)).status, 200)
      await within(renewed, 10_000, 'the background renewal did not finish')
      // From now on every store read hangs until released: a request that needed one would not complete.
      let releaseReads!: () => void
      const readsHeld = new Promise<void>((resolve) => (releaseReads = resolve))
      const get = store.get.bind(store)
      let heldReads = 0
      store.get = async (key: string) => {
        heldReads++
        await readsHeld
        return get(key)
      }
      try {
        const responses = await within(
          Promise.all(Array.from({ length: 20 }, () => shared.fetch('redis-ahead', `${world.contactsUrl}/people`))),
          5000,
          'requests right after a renewal waited for a store read',
        )
        for (const response of responses) assert.equal(response.status, 200)
        const second = await shared.accessToken('redis-ahead', world.contactsUrl)
        assert.notEqual(second.value, first.value)
        assert.deepEqual(new Set(world.contacts.requests.slice(-20).map((r) => r.headers['authorization'])), new Set([`Bearer ${second.value}`]))
      } finally {
        releaseReads()
        store.get = get
      }
      assert.ok(heldReads <= 1, `at most the one confirming read after the write (${heldReads})`)
      await shared.close()
    } finally {
      await store.close()
      await redis.stop()
    }
  })
})
