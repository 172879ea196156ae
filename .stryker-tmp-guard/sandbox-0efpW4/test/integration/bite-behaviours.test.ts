// @ts-nocheck
// Issue 19, "tests that bite": four behaviours that a plausible bug could break while every older test
// still passed. Each test below was run against the bug planted in a scratch copy of src/ and failed
// there (the planted diffs and failures are in docs/MUTATION.md, "Planted bugs").
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { decodeJwt } from 'jose'
import type { ResourceClient } from 'resource-tokens'
import { RedisStore } from 'resource-tokens/redis'
import { startRedis, type TestRedis } from '../support/redis.js'
import { startRecordingServer, type RecordedRequest, type TestResourceServer } from '../support/resource-server.js'
import { startScenario, type Scenario } from '../support/scenario.js'

function authorizationOf(request: RecordedRequest | undefined): string | undefined {
  const value = request?.headers['authorization']
  return Array.isArray(value) ? value.join(',') : value
}

/** The `aud` of the bearer JWT a resource server received (undefined when it got none). */
function audienceOf(request: RecordedRequest): unknown {
  const authorization = authorizationOf(request)
  if (authorization === undefined) return undefined
  const token = /^Bearer (.+)$/.exec(authorization)?.[1]
  assert.ok(token !== undefined, `a bearer token, got ${authorization.slice(0, 12)}...`)
  return decodeJwt(token).aud
}

describe('behaviour 1: concurrent first calls for two resources of one grant never share a renewal', () => {
  let world: Scenario
  let client: ResourceClient
  before(async () => {
    world = await startScenario()
    client = await world.client()
  })
  after(() => world.close())

  test('no request at either resource server ever carries the other resource\'s token (checked at the servers, not only the status)', async () => {
    // A slower token endpoint keeps both first calls in flight together, whichever starts first.
    world.op.setTokenEndpointHook(({ grantType }) => (grantType === 'refresh_token' ? sleep(50) : undefined))
    try {
      const users = ['one', 'two', 'three']
      for (const user of users) await world.login(client, `bite1-${user}`, user)
      world.contacts.requests.length = 0
      world.calendar.requests.length = 0
      for (const [i, user] of users.entries()) {
        const key = `bite1-${user}`
        const calls = [
          () => client.fetch(key, `${world.contactsUrl}/people`),
          () => client.fetch(key, `${world.calendarUrl}events`),
        ]
        // Both orders: whichever resource asks first must not decide the other's token.
        if (i % 2 === 1) calls.reverse()
        const responses = await Promise.all(calls.map((call) => call()))
        for (const res of responses) assert.equal(res.status, 200)
      }
      // At the servers: every Authorization header each one ever received was issued for it alone.
      assert.ok(world.contacts.requests.length >= users.length && world.calendar.requests.length >= users.length)
      for (const request of world.contacts.requests) assert.equal(audienceOf(request), world.contactsUrl, 'contacts was sent a token for another audience')
      for (const request of world.calendar.requests) assert.equal(audienceOf(request), world.calendarUrl, 'calendar was sent a token for another audience')
      // And no 401-then-retry repaired anything behind our back: one request per fetch.
      assert.equal(world.contacts.requests.length, users.length)
      assert.equal(world.calendar.requests.length, users.length)
    } finally {
      world.op.setTokenEndpointHook()
    }
  })
})

describe('behaviours 2 and 3: redirects that come back, and a 401 on a streamed body', () => {
  let world: Scenario
  let client: ResourceClient
  let foreign: TestResourceServer
  const KEY = 'bite-fetch'
  before(async () => {
    world = await startScenario()
    foreign = await startRecordingServer()
    client = await world.client()
    await world.login(client, KEY)
  })
  after(async () => {
    await foreign.close()
    await world.close()
  })

  for (const status of [302, 307]) {
    test(`behaviour 2: resource -> foreign origin -> back to the resource (${status}): the hop back carries no token`, async () => {
      world.contacts.requests.length = 0
      foreign.requests.length = 0
      world.contacts.respond((req, res) => {
        if (!req.url?.startsWith('/api/start')) return false
        res.statusCode = status
        res.setHeader('location', `${foreign.url}/bounce`)
        res.end()
        return true
      })
      // The foreign server picks where on the resource the request lands next.
      foreign.respond((_req, res) => {
        res.statusCode = status
        res.setHeader('location', `${world.contactsUrl}/admin/delete-everything`)
        res.end()
        return true
      })
      try {
        const res = await client.fetch(KEY, `${world.contactsUrl}/start`, status === 307 ? { method: 'POST', body: 'payload' } : {})
        assert.deepEqual(world.contacts.requests.map((r) => r.url), ['/api/start', '/api/admin/delete-everything'])
        assert.equal(audienceOf(world.contacts.requests[0]!), world.contactsUrl, 'control: the first hop carried the contacts token')
        assert.equal(authorizationOf(foreign.requests[0]), undefined, 'the foreign origin got no token')
        assert.ok(authorizationOf(world.contacts.requests[1]) === undefined, 'the hop back to the resource, chosen by the foreign server, got a token')
        // The resource refuses the token-less request; that 401 is what the caller sees.
        assert.equal(res.status, 401)
      } finally {
        world.contacts.respond()
        foreign.respond()
      }
    })
  }

  test('behaviour 3: a 401 invalid_token on a request with a ReadableStream body is returned as is, not retried', async () => {
    await client.fetch(KEY, `${world.contactsUrl}/people`) // a cached token, so the only token request would be a retry's
    world.contacts.requests.length = 0
    const refreshesBefore = world.op.tokenRequests.filter((r) => r.grantType === 'refresh_token').length
    world.contacts.respond((req, res) => {
      if (req.method !== 'POST') return false
      res.statusCode = 401
      res.setHeader('www-authenticate', 'Bearer realm="contacts", error="invalid_token", error_description="revoked"')
      res.setHeader('content-type', 'application/json')
      res.end('{"error":"invalid_token"}')
      return true
    })
    try {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"name":"streamed"}'))
          controller.close()
        },
      })
      // A retry would have to send the stream again, which Fetch refuses ("body disturbed or locked").
      const res = await client.fetch(KEY, `${world.contactsUrl}/people`, { method: 'POST', body, duplex: 'half' })
      assert.equal(res.status, 401)
      assert.deepEqual(await res.json(), { error: 'invalid_token' })
      assert.equal(world.contacts.requests.length, 1, 'sent once, never retried')
      assert.equal(world.contacts.requests[0]?.body, '{"name":"streamed"}')
      assert.equal(world.op.tokenRequests.filter((r) => r.grantType === 'refresh_token').length, refreshesBefore, 'no new token was fetched for a retry')
    } finally {
      world.contacts.respond()
    }
  })
})

describe('behaviour 4: the grant lock outlives a slow token endpoint (heartbeat)', () => {
  const LOCK_TTL_MS = 150
  const TOKEN_ENDPOINT_MS = 600
  let world: Scenario
  let redis: TestRedis
  const stores: RedisStore[] = []
  before(async () => {
    world = await startScenario()
    redis = await startRedis()
  })
  after(async () => {
    world?.op.setTokenEndpointHook()
    await world?.close()
    await Promise.all(stores.map((s) => s.close()))
    await redis?.stop()
  })

  test(`two instances on one redis-server, token endpoint ${TOKEN_ENDPOINT_MS} ms, lockTtlMs ${LOCK_TTL_MS}: never the same refresh token twice`, async () => {
    const keyPrefix = `bite4:${randomUUID().slice(0, 8)}:`
    const instance = async (): Promise<ResourceClient> => {
      const store = new RedisStore({ url: redis.url, keyPrefix })
      stores.push(store)
      return world.client({ store, lockTtlMs: LOCK_TTL_MS, encryption: { secrets: ['bite4-test-secret-0123456789abcdef0123'] } })
    }
    const a = await instance()
    const b = await instance()
    const key = 'bite4-user'
    await world.login(a, key)
    world.op.resetCounters()
    world.op.setTokenEndpointHook(({ grantType }) => (grantType === 'refresh_token' ? sleep(TOKEN_ENDPOINT_MS) : undefined))
    try {
      // Each instance's first call for its resource needs a refresh: the second one waits for the lock the
      // first holds for the whole slow refresh, four TTLs and more.
      const [fromA, fromB] = await Promise.allSettled([
        a.fetch(key, `${world.contactsUrl}/people`),
        sleep(20).then(() => b.fetch(key, `${world.calendarUrl}events`)),
      ])
      const refreshes = world.op.tokenRequests.filter((r) => r.grantType === 'refresh_token')
      // Checked at the provider first: what it saw is the point, whatever the instances made of it.
      const hashes = refreshes.map((r) => r.refreshTokenHash)
      assert.equal(new Set(hashes).size, hashes.length, `a refresh token was presented twice: ${refreshes.length} refreshes, ${new Set(hashes).size} distinct tokens`)
      assert.equal(world.op.reusedRefreshTokens(), 0, 'the provider detected a reused refresh token')
      assert.equal(fromA.status === 'fulfilled' ? fromA.value.status : String(fromA.reason), 200)
      assert.equal(fromB.status === 'fulfilled' ? fromB.value.status : String(fromB.reason), 200)
      assert.equal(refreshes.length, 2, 'one refresh per resource')
    } finally {
      world.op.setTokenEndpointHook()
    }
  })
})
