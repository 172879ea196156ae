// The warm path's memo (issue 17): a token found fresh in a cached grant is remembered with the grant cache entry it
// came from, and handed out again only while that entry is current, the token before its renewal time and the session
// before its end. Sources imported directly (mutation testing reaches them).
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { GrantRepository } from '../../src/grants/grant-repository.js'
import { serializeGrant, type GrantRecord } from '../../src/grants/grant-record.js'
import { BoundedMap } from '../../src/lib/bounded-map.js'
import { ReadyTokens } from '../../src/tokens/ready-tokens.js'
import { toCachedToken } from '../../src/tokens/cached-token.js'
import { MemoryStore } from '../../src/index.js'
import type { RegisteredResource } from '../../src/resources/resource.js'

describe('BoundedMap.entry: a live view that says when it is gone', () => {
  test('an entry is current until deleted, replaced, evicted, cleared or expired, and then lets go of what it held', () => {
    const map = new BoundedMap<{ n: number }>(2)
    map.set('a', { n: 1 }, 1000, 0)
    const a = map.entry('a', 0)!
    a.memo = 'derived'
    assert.equal(a.expiresAt, 1000)
    assert.equal(map.entry('a', 10), a, 'the same entry while it is current')

    map.set('a', { n: 2 }, 1000, 0)
    assert.equal(a.expiresAt, Number.NEGATIVE_INFINITY, 'replaced: gone')
    assert.equal(a.value, undefined, 'a gone entry does not keep the value alive')
    assert.equal(a.memo, undefined, 'nor what was derived from it')
    assert.equal(map.entry('a', 0)?.value.n, 2)
    assert.equal(map.entry('a', 0)?.memo, undefined, 'a new entry starts without a memo')

    const deleted = map.entry('a', 0)!
    map.delete('a')
    assert.equal(deleted.expiresAt, Number.NEGATIVE_INFINITY, 'deleted: gone')

    map.set('b', { n: 3 }, 1000, 0)
    map.set('c', { n: 4 }, 1000, 0)
    const b = map.entry('b', 0)!
    map.set('d', { n: 5 }, 1000, 0)
    assert.equal(b.expiresAt, Number.NEGATIVE_INFINITY, 'evicted to make room: gone')

    const c = map.entry('c', 0)!
    map.clear()
    assert.equal(c.expiresAt, Number.NEGATIVE_INFINITY, 'cleared: gone')

    map.set('e', { n: 6 }, 1000, 0)
    const e = map.entry('e', 0)!
    assert.equal(map.entry('e', 1000), undefined, 'expired')
    assert.equal(e.expiresAt, Number.NEGATIVE_INFINITY, 'an expired entry found expired is dropped: gone')
  })
})

const CONTACTS = { id: 'https://contacts.example/', name: 'contacts', scope: 'contacts:read', indicator: undefined } as unknown as RegisteredResource
const CALENDAR = { id: 'https://calendar.example/', name: 'calendar', scope: 'calendar:read', indicator: undefined } as unknown as RegisteredResource

function token(value: string, lifetimeS = 3600) {
  return toCachedToken({ access_token: value, token_type: 'Bearer', expires_in: lifetimeS } as never, CONTACTS, 0, { skewMs: 30_000, defaultTokenLifetimeMs: 60_000 }).token
}

function grant(rev: number): GrantRecord {
  return { v: 1, grantId: 'g', rev, refreshToken: `rt${rev}`, idToken: undefined, claims: { sub: 'u' }, scope: 'openid', createdAt: 0, tokens: { [CONTACTS.id]: token(`at${rev}`) } }
}

describe('ReadyTokens', () => {
  async function cached(store: MemoryStore, repository: GrantRepository, record: GrantRecord) {
    await store.set('grant:x', serializeGrant(record), { ttlSeconds: 3600 })
    await repository.read('grant:x')
    return repository.peekEntry('grant:x', 0)!
  }

  test('hands out the remembered token while the grant cache entry is current and the clock is before its bound', async () => {
    const store = new MemoryStore()
    const repository = new GrantRepository(store, { cacheSize: 10, grantTtlSeconds: 3600, now: () => 0 })
    const ready = new ReadyTokens(10)
    const entry = await cached(store, repository, grant(1))
    const remembered = entry.value.record.tokens[CONTACTS.id]!
    ready.remember('user', entry, CONTACTS, remembered, 5000)
    assert.equal(ready.find('user', CONTACTS, 4999), remembered)
    assert.equal(ready.find('user', CONTACTS, 5000), undefined, 'at its bound (renewal time or session end): the full lookup runs')
    assert.equal(ready.find('user', CALENDAR, 0), undefined, 'another resource: nothing remembered')
    assert.equal(ready.find('other', CONTACTS, 0), undefined, 'another grant key: nothing remembered')
    const copy = { ...CONTACTS }
    assert.equal(ready.find('user', copy, 0), undefined, 'a resource registered again is another object: not matched')
  })

  test('the grant cache entry ages out (60 s without a store read): the memo ends with it, before the token is due', async () => {
    const store = new MemoryStore()
    const repository = new GrantRepository(store, { cacheSize: 10, grantTtlSeconds: 3600, now: () => 0 })
    const ready = new ReadyTokens(10)
    const entry = await cached(store, repository, grant(1))
    ready.remember('user', entry, CONTACTS, entry.value.record.tokens[CONTACTS.id]!, 600_000)
    assert.equal(entry.expiresAt, 60_000)
    assert.equal(ready.find('user', CONTACTS, 59_999)?.value, 'at1')
    assert.equal(ready.find('user', CONTACTS, 60_000), undefined, 'the full lookup runs (and reads the store)')
    repository.close()
  })

  test('a change of the grant announced by the store (another instance wrote it, or logged the user out) ends the memo', async () => {
    const store = new MemoryStore()
    const repository = new GrantRepository(store, { cacheSize: 10, grantTtlSeconds: 3600, now: () => 0 })
    const ready = new ReadyTokens(10)
    const entry = await cached(store, repository, grant(1))
    ready.remember('user', entry, CONTACTS, entry.value.record.tokens[CONTACTS.id]!, 5000)
    await store.set('grant:x', serializeGrant(grant(2)), { ttlSeconds: 3600 })
    assert.equal(ready.find('user', CONTACTS, 0), undefined, 'rotated elsewhere: the old token is not handed out')

    const again = await cached(store, repository, grant(3))
    ready.remember('user', again, CONTACTS, again.value.record.tokens[CONTACTS.id]!, 5000)
    assert.equal(ready.find('user', CONTACTS, 0)?.value, 'at3')
    await store.take('grant:x')
    assert.equal(ready.find('user', CONTACTS, 0), undefined, 'logged out elsewhere: nothing handed out')
    repository.close()
  })

  test('bounded: routes per grant and grant keys', async () => {
    const store = new MemoryStore()
    const repository = new GrantRepository(store, { cacheSize: 10, grantTtlSeconds: 3600, now: () => 0 })
    const entry = await cached(store, repository, grant(1))
    const ready = new ReadyTokens(2)
    const resources = Array.from({ length: 9 }, (_, i) => ({ ...CONTACTS, name: `r${i}` }))
    const t = entry.value.record.tokens[CONTACTS.id]!
    for (const r of resources) ready.remember('user', entry, r, t, 5000)
    assert.equal((entry.memo as { routes: unknown[] }).routes.length, 8, 'at most 8 resources per grant')
    assert.equal(ready.find('user', resources[0]!, 0), undefined, 'the oldest route made room')
    assert.equal(ready.find('user', resources[8]!, 0), t)
    ready.remember('a', entry, CONTACTS, t, 5000)
    ready.remember('b', entry, CONTACTS, t, 5000)
    assert.equal(ready.find('user', resources[8]!, 0), undefined, 'the oldest grant key made room')
    repository.close()
  })
})

describe('ReadyTokens lanes (a URL sent before, sent again without locating it or looking up its token)', () => {
  const URL_A = 'https://contacts.example/people'
  async function setup() {
    const store = new MemoryStore()
    const repository = new GrantRepository(store, { cacheSize: 10, grantTtlSeconds: 3600, now: () => 0 })
    await store.set('grant:x', serializeGrant(grant(1)), { ttlSeconds: 3600 })
    await repository.read('grant:x')
    const entry = repository.peekEntry('grant:x', 0)!
    const ready = new ReadyTokens(10)
    const t = entry.value.record.tokens[CONTACTS.id]!
    return { store, repository, entry, ready, t }
  }

  test('made only from a route holding that very token; then found for the same input, grant and resources version', async () => {
    const { repository, entry, ready, t } = await setup()
    ready.addLane('user', URL_A, new URL(URL_A), CONTACTS, t, 'Bearer at1', 1, 0)
    assert.equal(ready.lane('user', URL_A, 1, 0), undefined, 'no route yet: no lane')
    ready.remember('user', entry, CONTACTS, t, 5000)
    ready.addLane('user', URL_A, new URL(URL_A), CONTACTS, token('other'), 'Bearer other', 1, 0)
    assert.equal(ready.lane('user', URL_A, 1, 0), undefined, 'another token than the route holds: no lane')
    ready.addLane('user', URL_A, new URL(URL_A), CONTACTS, t, 'Bearer at1', 1, 0)
    const lane = ready.lane('user', URL_A, 1, 0)
    assert.equal(lane?.token, t)
    assert.equal(lane?.authorization, 'Bearer at1')
    assert.equal(ready.lane('user', `${URL_A}`.slice(0), 1, 4999), lane, 'an equal string finds it')
    assert.equal(ready.lane('user', URL_A, 1, 5000), undefined, 'not at the route bound (renewal time or session end)')
    assert.equal(ready.lane('user', URL_A, 2, 0), undefined, 'resources added or removed since: not used')
    assert.equal(ready.lane('other', URL_A, 1, 0), undefined, 'another grant key: not used')
    assert.equal(ready.lane('user', `${URL_A}/1`, 1, 0), undefined, 'another URL: not used')
    repository.close()
  })

  test('ends with the grant cache entry: an announced change, and the 60 s age-out', async () => {
    const { store, repository, entry, ready, t } = await setup()
    ready.remember('user', entry, CONTACTS, t, 600_000)
    ready.addLane('user', URL_A, new URL(URL_A), CONTACTS, t, 'Bearer at1', 1, 0)
    assert.notEqual(ready.lane('user', URL_A, 1, 59_999), undefined)
    assert.equal(ready.lane('user', URL_A, 1, 60_000), undefined, 'aged out')
    await store.set('grant:x', serializeGrant(grant(2)), { ttlSeconds: 3600 })
    assert.equal(ready.lane('user', URL_A, 1, 0), undefined, 'written elsewhere')
    repository.close()
  })

  test('bounded: 4 URLs per grant, none longer than 512 characters', async () => {
    const { repository, entry, ready, t } = await setup()
    ready.remember('user', entry, CONTACTS, t, 5000)
    const urls = Array.from({ length: 5 }, (_, i) => `${URL_A}/${i}`)
    for (const u of urls) ready.addLane('user', u, new URL(u), CONTACTS, t, 'Bearer at1', 1, 0)
    assert.equal(ready.lane('user', urls[0]!, 1, 0), undefined, 'the oldest made room')
    assert.notEqual(ready.lane('user', urls[4]!, 1, 0), undefined)
    const long = `${URL_A}/${'a'.repeat(512)}`
    ready.addLane('user', long, new URL(long), CONTACTS, t, 'Bearer at1', 1, 0)
    assert.equal(ready.lane('user', long, 1, 0), undefined, 'too long to remember')
    repository.close()
  })
})
