// @ts-nocheck
// Issue 12, item 4: the guard's DPoP jti replay cache lived in each process, so a proof replayed to another
// instance behind a load balancer was accepted. With `store` (the RedisStore the instances share) a proof is
// accepted at most once across all of them (RFC 9449 section 11.1). Real provider (DPoP-bound JWT access token),
// real proof sent by the library's fetch, two verifiers on one real redis-server.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { createAccessTokenVerifier, GuardError, type ResourceClient } from 'resource-tokens'
import { Redis } from 'ioredis'
import { RedisStore } from 'resource-tokens/redis'
import { code } from '../support/errors.js'
import { startRedis, type TestRedis } from '../support/redis.js'
import { startRecordingServer, type TestResourceServer } from '../support/resource-server.js'
import { startScenario, type Scenario } from '../support/scenario.js'

describe('DPoP proof replay across instances (item 4)', () => {
  let world: Scenario
  let redis: TestRedis
  let rs: TestResourceServer
  let client: ResourceClient
  let indicator: string
  const stores: RedisStore[] = []

  before(async () => {
    redis = await startRedis()
    world = await startScenario()
    rs = await startRecordingServer()
    indicator = `${rs.url}/api`
    world.op.registerResource({ indicator, scope: 'contacts:read' })
    client = await world.client({ resources: [{ url: indicator, scope: 'contacts:read', indicator, dpop: true, name: 'rec' }] })
    await world.login(client, 'user')
  })
  after(async () => {
    await Promise.all(stores.map((s) => s.close()))
    await rs.close()
    await world.close()
    await redis.stop()
  })

  /** One real request from the library: the proof and token as they arrived, ready to replay. */
  async function capturedRequest(): Promise<{ method: string; url: string; headers: Headers }> {
    const res = await client.fetch('user', `${indicator}/orders/${randomUUID()}`)
    await res.text()
    const recorded = rs.requests.at(-1)
    assert.ok(recorded !== undefined)
    const headers = new Headers()
    for (const [name, value] of Object.entries(recorded.headers)) if (typeof value === 'string') headers.set(name, value)
    assert.match(headers.get('authorization') ?? '', /^DPoP /, 'a DPoP-bound token was sent')
    assert.ok(headers.has('dpop'))
    return { method: recorded.method, url: `${rs.url}${recorded.url}`, headers }
  }

  function verifier(store?: RedisStore): ReturnType<typeof createAccessTokenVerifier> {
    return createAccessTokenVerifier({ issuer: world.op.issuer, audience: indicator, scopes: ['contacts:read'], dpop: {}, ...(store === undefined ? {} : { store }) })
  }

  test('with a shared store: the first instance accepts the proof, a replay to the second (or the first) is refused', async () => {
    const keyPrefix = `guard:${randomUUID().slice(0, 8)}:`
    const storeA = new RedisStore({ url: redis.url, keyPrefix })
    const storeB = new RedisStore({ url: redis.url, keyPrefix })
    stores.push(storeA, storeB)
    const instanceA = verifier(storeA)
    const instanceB = verifier(storeB)
    const request = await capturedRequest()

    const verified = await instanceA(request)
    assert.ok(verified.bound !== undefined, 'the token is DPoP-bound')
    await assert.rejects(instanceB(request), (err) => err instanceof GuardError && err.code === 'invalid_dpop_proof' && /already been used/.test(err.message))
    await assert.rejects(instanceA(request), (err) => err instanceof GuardError && err.code === 'invalid_dpop_proof')

    // Concurrent replays to both instances: exactly one wins.
    const fresh = await capturedRequest()
    const outcomes = await Promise.allSettled([instanceA(fresh), instanceB(fresh), instanceA(fresh), instanceB(fresh)])
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1)

    // Every replay record expires with the proof's iat window (default 60 s): nothing is kept for ever.
    const raw = new Redis(redis.url)
    try {
      const keys = await raw.keys(`${keyPrefix}*`)
      assert.equal(keys.length, 2, keys.join(' '))
      for (const key of keys) {
        assert.match(key, /dpop-jti:/)
        const ttl = await raw.pttl(key)
        assert.ok(ttl > 0 && ttl <= 62_000, `${key} has TTL ${ttl}`)
      }
    } finally {
      raw.disconnect()
    }
  })

  test('without a store each instance has its own cache: the replay to another instance is accepted (what the option fixes)', async () => {
    const request = await capturedRequest()
    await verifier()(request)
    const second = await verifier()(request)
    assert.ok(second.bound !== undefined)
  })

  test('a store that fails refuses the proof (fail closed) with store_unavailable', async () => {
    const broken = new RedisStore({ url: 'redis://127.0.0.1:1', keyPrefix: 'broken:', commandTimeoutMs: 200 })
    stores.push(broken)
    const request = await capturedRequest()
    await assert.rejects(verifier(broken)(request), (err) => code(err) === 'store_unavailable')
  })
})
