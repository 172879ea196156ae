// @ts-nocheck
// The session index (issue 15) over a MemoryStore: kept in step with install, refresh (a new sid), removal; keys
// that do not reveal the user; entries bounded in number and time.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { GrantRecord } from '../../src/grants/grant-record.js'
import { GrantRepository } from '../../src/grants/grant-repository.js'
import { GrantWriter } from '../../src/grants/grant-writer.js'
import { MAX_INDEXED_GRANTS, SessionIndex } from '../../src/grants/session-index.js'
import { StoreKeys } from '../../src/grants/store-keys.js'
import { TypedEmitter } from '../../src/observability/events.js'
import { MemoryStore } from '../../src/stores/memory-store.js'

const DAY = 24 * 3600

function world(secrets?: string[]) {
  let now = 1_700_000_000_000
  const clock = (): number => now
  const store = new MemoryStore({ now: clock })
  const written = new Set<string>()
  const compareAndSet = store.compareAndSet.bind(store)
  // Records every key written, so the test can look at what the store would show an onlooker.
  store.compareAndSet = async (key, expected, value, options) => {
    written.add(key)
    return compareAndSet(key, expected, value, options)
  }
  const warnings: string[] = []
  const logger = { warn: (message: string) => void warnings.push(message) }
  const index = new SessionIndex({ store, namespace: 'https://op.example/\napp', secrets, ttlSeconds: 30 * DAY, now: clock, logger })
  const grants = new GrantRepository(store, { cacheSize: 10, grantTtlSeconds: 30 * DAY, now: clock })
  const writer = new GrantWriter({ grants, index, revoker: { canRevoke: false, revoke: async () => {} }, events: new TypedEmitter(), logger, now: clock })
  return { store, written, index, grants, writer, warnings, keys: new StoreKeys('ns'), advance: (ms: number) => (now += ms) }
}

function record(grantId: string, claims: Record<string, unknown>): GrantRecord {
  return { v: 1, grantId, rev: 1, refreshToken: `rt-${grantId}`, idToken: undefined, claims, scope: undefined, createdAt: 1_700_000_000_000, tokens: {} }
}

test('install indexes by sid and sub; a refresh whose ID token carries a new sid moves the grant to it', async () => {
  const w = world(['secret-one-0123456789abcdef0123456789'])
  const keys = w.keys.of('session-1')
  await w.writer.install(keys, record('g1', { sub: 'alice', sid: 'sid-A' }))
  assert.deepEqual((await w.index.lookup('sid', 'sid-A')).map((g) => g.grantId), ['g1'])
  assert.deepEqual((await w.index.lookup('sub', 'alice')).map((g) => g.grantId), ['g1'])
  const snapshot = await w.grants.readFresh(keys.grant)
  assert.ok(snapshot)
  assert.equal(await w.writer.store(keys, snapshot, { refreshToken: 'rt-2', idToken: 'id-2', sid: 'sid-B' }, 'slot', undefined), true)
  assert.deepEqual((await w.index.lookup('sid', 'sid-B')).map((g) => g.grantId), ['g1'])
  assert.equal((await w.grants.readFresh(keys.grant))?.record.claims['sid'], 'sid-B')
  // The old sid's entry goes in the background.
  await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(await w.index.lookup('sid', 'sid-A'), [])
})

test('a login under the same key replaces the old grant in the index; a removal by the refresh path drops it', async () => {
  const w = world()
  const keys = w.keys.of('session-1')
  await w.writer.install(keys, record('g1', { sub: 'alice', sid: 'sid-A' }))
  await w.writer.install(keys, record('g2', { sub: 'bob', sid: 'sid-B' }))
  await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(await w.index.lookup('sub', 'alice'), [])
  const snapshot = await w.grants.readFresh(keys.grant)
  assert.ok(snapshot)
  await w.writer.remove(keys, snapshot, 'invalid_grant')
  await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(await w.index.lookup('sub', 'bob'), [])
  assert.deepEqual(await w.index.lookup('sid', 'sid-B'), [])
})

test('index keys are keyed hashes: neither the sub nor the sid appears, and another secret gives other keys', async () => {
  const one = world(['secret-one-0123456789abcdef0123456789'])
  const two = world(['secret-two-0123456789abcdef0123456789'])
  for (const w of [one, two]) await w.index.add('digest', record('g1', { sub: 'alice@example.com', sid: 'sid-A' }))
  const k1 = [...one.written].filter((k) => k.startsWith('idx:'))
  const k2 = [...two.written].filter((k) => k.startsWith('idx:'))
  assert.equal(k1.length, 2)
  for (const k of k1) assert.doesNotMatch(k, /alice|sid-A/)
  assert.deepEqual(k1.filter((k) => k2.includes(k)), [])
  // With the secrets rotated (new first, old second), lookups still find what the old one indexed.
  const rotated = new SessionIndex({ store: one.store, namespace: 'https://op.example/\napp', secrets: ['secret-new-0123456789abcdef0123456789', 'secret-one-0123456789abcdef0123456789'], ttlSeconds: 30 * DAY, now: () => 1_700_000_000_000, logger: {} })
  assert.deepEqual((await rotated.lookup('sub', 'alice@example.com')).map((g) => g.grantId), ['g1'])
})

test('entries expire with the grant TTL, the record itself has a TTL, and a record holds at most MAX_INDEXED_GRANTS', async () => {
  const w = world()
  await w.index.add('d0', record('g0', { sub: 'alice' }))
  w.advance(30 * DAY * 1000 + 1)
  assert.deepEqual(await w.index.lookup('sub', 'alice'), [])
  w.store.sweep()
  assert.equal(w.store.size, 0, 'the record itself expired from the store')
  for (let i = 0; i < MAX_INDEXED_GRANTS + 5; i++) await w.index.add(`d${i}`, record(`g${i}`, { sub: 'many' }))
  const found = await w.index.lookup('sub', 'many')
  assert.equal(found.length, MAX_INDEXED_GRANTS)
  assert.ok(!found.some((g) => g.grantId === 'g0'), 'the oldest went first')
  assert.ok(w.warnings.some((m) => /session index full/.test(m)))
})


test('a grant stored before the index existed is indexed at its next write; a live grant\'s entries are renewed before they expire', async () => {
  const w = world()
  const keys = w.keys.of('old-session')
  await w.grants.create(keys.grant, record('g-old', { sub: 'carol', sid: 'sid-C' }))
  assert.deepEqual(await w.index.lookup('sub', 'carol'), [])
  let snapshot = await w.grants.readFresh(keys.grant)
  assert.ok(snapshot)
  assert.equal(await w.writer.store(keys, snapshot, {}, 'slot', undefined), true)
  assert.deepEqual((await w.index.lookup('sid', 'sid-C')).map((g) => g.grantId), ['g-old'])
  // 20 days on (past half the 30-day TTL), a refresh renews the entries; 20 more days and they are still there.
  w.advance(20 * DAY * 1000)
  snapshot = await w.grants.readFresh(keys.grant)
  assert.ok(snapshot)
  assert.equal(await w.writer.store(keys, snapshot, {}, 'slot', undefined), true)
  w.advance(20 * DAY * 1000)
  assert.deepEqual((await w.index.lookup('sub', 'carol')).map((g) => g.grantId), ['g-old'])
})
