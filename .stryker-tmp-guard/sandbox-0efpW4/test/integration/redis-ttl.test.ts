// @ts-nocheck
// Issue 12, item 1 (Redis side): every record the library writes to Redis expires (grants after grantTtlSeconds,
// login transactions after loginTtlSeconds, locks after lockTtlMs): nothing an outsider starts stays forever.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, test } from 'node:test'
import { Redis } from 'ioredis'
import { RedisStore } from 'resource-tokens/redis'
import { startRedis, type TestRedis } from '../support/redis.js'
import { startScenario, type Scenario } from '../support/scenario.js'

let redis: TestRedis
let raw: Redis
let world: Scenario
let store: RedisStore

before(async () => {
  redis = await startRedis()
  raw = new Redis(redis.url)
  world = await startScenario()
})
after(async () => {
  await store?.close()
  raw?.disconnect()
  await world?.close()
  await redis?.stop()
})

test('every key written through a client with default options has a TTL', async (t) => {
  const keyPrefix = `ttl:${randomUUID().slice(0, 8)}:`
  store = new RedisStore({ url: redis.url, keyPrefix })
  const client = await world.client({ store, encryption: { secrets: ['redis-ttl-test-secret-0123456789abcdef'] } })
  await world.login(client, 'user')
  await client.fetch('user', `${world.contactsUrl}/people`)
  for (let i = 0; i < 20; i++) await client.startLogin(`anonymous-${i}`)
  const keys = await raw.keys(`${keyPrefix}*`)
  const ttls = await Promise.all(keys.map(async (k) => [k.slice(keyPrefix.length).split(':')[0], await raw.pttl(k)] as const))
  t.diagnostic(`keys by kind: ${JSON.stringify(ttls.reduce<Record<string, number>>((n, [kind]) => ({ ...n, [kind as string]: (n[kind as string] ?? 0) + 1 }), {}))}`)
  assert.ok(ttls.some(([kind]) => kind === 'grant') && ttls.filter(([kind]) => kind === 'tx').length === 20)
  for (const [kind, ttl] of ttls) assert.ok(ttl > 0, `${kind} has a TTL (pttl ${ttl})`)
})
