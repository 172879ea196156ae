// The renewal policy (refresh-ahead, issue 17) and the single-flight grant read, on their own: when a token is
// fresh, renewed in the background or no longer handed out; how failed background renewals back off; and that
// concurrent reads of one grant make one store read. Sources imported directly (mutation testing reaches them).
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { GrantRepository } from '../../src/grants/grant-repository.js'
import { serializeGrant, type GrantRecord } from '../../src/grants/grant-record.js'
import { toCachedToken } from '../../src/tokens/cached-token.js'
import { Renewals, servableUntil, tokenState } from '../../src/tokens/renewal.js'
import { MemoryStore } from '../../src/index.js'
import type { RegisteredResource } from '../../src/resources/resource.js'

const RESOURCE = { name: 'contacts', scope: 'contacts:read', indicator: undefined } as unknown as RegisteredResource

function issued(lifetimeS: number, at = 1_000_000, skewMs = 30_000) {
  return toCachedToken({ access_token: 'at', token_type: 'Bearer', expires_in: lifetimeS } as never, RESOURCE, at, { skewMs, defaultTokenLifetimeMs: 60_000 }).token
}

describe('when a token is renewed and how long it is used', () => {
  test('60 s token, default skew 30 s: renewal from 30 s on, used until 5 s before expiry', () => {
    const token = issued(60)
    assert.equal(token.expiresAt, 1_060_000)
    assert.equal(token.refreshAt, 1_030_000)
    assert.equal(servableUntil(token), 1_055_000)
    assert.equal(tokenState(token, 1_029_999), 'fresh')
    assert.equal(tokenState(token, 1_030_000), 'renew')
    assert.equal(tokenState(token, 1_054_999), 'renew')
    assert.equal(tokenState(token, 1_055_000), 'expired')
    assert.equal(tokenState(token, 1_070_000), 'expired')
  })

  test('an hour-long token renews 30 s before expiry; the margin stays 5 s', () => {
    const token = issued(3600)
    assert.equal(token.refreshAt, token.expiresAt - 30_000)
    assert.equal(servableUntil(token), token.expiresAt - 5000)
  })

  test('short tokens: renewal at half their life, margin a third of the window', () => {
    const token = issued(6)
    assert.equal(token.refreshAt, 1_003_000)
    assert.equal(servableUntil(token), 1_005_000)
    assert.equal(tokenState(token, 1_004_999), 'renew')
    assert.equal(tokenState(token, 1_005_000), 'expired')
  })

  test('skewSeconds 0: no renewal window, the token is used until it expires', () => {
    const token = issued(60, 1_000_000, 0)
    assert.equal(token.refreshAt, token.expiresAt)
    assert.equal(tokenState(token, token.expiresAt - 1), 'fresh')
    assert.equal(tokenState(token, token.expiresAt), 'expired')
  })
})

describe('Renewals: single flight per key, back-off for background failures', () => {
  function setup() {
    let now = 0
    const renewals = new Renewals<string>({ maxKeys: 100, now: () => now })
    return { renewals, tick: (ms: number) => (now += ms) }
  }

  test('callers of one key share one renewal; other keys get their own', async () => {
    const { renewals } = setup()
    let started = 0
    const start = (value: string) => async () => {
      started++
      await new Promise((r) => setImmediate(r))
      return value
    }
    const results = await Promise.all([renewals.join('a', start('A')), renewals.join('a', start('X')), renewals.join('b', start('B')), renewals.join('a', start('Y'))])
    assert.deepEqual(results, ['A', 'A', 'B', 'A'])
    assert.equal(started, 2)
    assert.equal(renewals.pending, 0)
  })

  test('ahead: one background renewal; a caller that must wait joins it', async () => {
    const { renewals } = setup()
    let release!: (v: string) => void
    let started = 0
    const start = () => {
      started++
      return new Promise<string>((r) => (release = r))
    }
    renewals.ahead('k', start, () => assert.fail('no failure'))
    renewals.ahead('k', start, () => assert.fail('no failure'))
    const waiting = renewals.join('k', start)
    assert.equal(started, 1)
    release('new')
    assert.equal(await waiting, 'new')
  })

  test('failed background renewals are reported and retried after 1, 2, 4, 5, 5 s; success resets the back-off', async () => {
    const { renewals, tick } = setup()
    let attempts = 0
    let fail = true
    const failures: unknown[] = []
    const start = async () => {
      attempts++
      if (fail) throw new Error('down')
      return 'ok'
    }
    const settle = () => new Promise((r) => setImmediate(r))
    const aheadNow = async () => {
      renewals.ahead('k', start, (err) => failures.push(err))
      await settle()
    }
    await aheadNow()
    assert.equal(attempts, 1)
    assert.equal(failures.length, 1)
    for (const wait of [1000, 2000, 4000, 5000, 5000]) {
      tick(wait - 1)
      await aheadNow()
      assert.equal(attempts, failures.length, 'no attempt before the back-off is over')
      tick(1)
      const before: number = attempts
      await aheadNow()
      assert.equal(attempts, before + 1, `an attempt ${wait} ms after the last failure`)
    }
    fail = false
    tick(5000)
    await aheadNow()
    assert.equal(attempts, 7)
    // After a success, the next failure starts the back-off from 1 s again.
    fail = true
    await aheadNow()
    assert.equal(attempts, 8)
    tick(1000)
    await aheadNow()
    assert.equal(attempts, 9)
  })

  test('a failure of a renewal someone waits for reaches that caller, not the background handler', async () => {
    const { renewals } = setup()
    const reported: unknown[] = []
    const waiting = renewals.join('k', async () => {
      await new Promise((r) => setImmediate(r))
      throw new Error('down')
    })
    renewals.ahead('k', async () => 'never', (err) => reported.push(err))
    await assert.rejects(waiting, /down/)
    assert.deepEqual(reported, [])
  })
})

describe('GrantRepository: one store read for concurrent reads of a grant', () => {
  const record: GrantRecord = { v: 1, grantId: 'g', rev: 1, refreshToken: 'rt', idToken: undefined, claims: { sub: 'u' }, scope: 'openid', createdAt: 0, tokens: {} }

  function countingStore() {
    const store = new MemoryStore()
    let gets = 0
    const get = store.get.bind(store)
    store.get = async (key: string) => {
      gets++
      return get(key)
    }
    return { store, gets: () => gets }
  }

  test('64 concurrent reads of an uncached grant make one GET; the next read is from the cache', async () => {
    const { store, gets } = countingStore()
    await store.set('grant:x', serializeGrant(record), { ttlSeconds: 60 })
    const grants = new GrantRepository(store, { cacheSize: 10, grantTtlSeconds: 60, now: Date.now })
    const reads = await Promise.all(Array.from({ length: 64 }, () => grants.read('grant:x')))
    assert.equal(gets(), 1)
    assert.ok(reads.every((r) => r?.record.grantId === 'g'))
    await grants.read('grant:x')
    assert.equal(gets(), 1)
    grants.close()
  })

  test('without a coherent cache (no subscribe), concurrent reads still share one GET, later reads read again', async () => {
    const { store, gets } = countingStore()
    await store.set('grant:x', serializeGrant(record), { ttlSeconds: 60 })
    ;(store as { subscribe?: unknown }).subscribe = undefined
    const grants = new GrantRepository(store, { cacheSize: 10, grantTtlSeconds: 60, now: Date.now })
    await Promise.all(Array.from({ length: 10 }, () => grants.read('grant:x')))
    assert.equal(gets(), 1)
    await grants.read('grant:x')
    assert.equal(gets(), 2)
  })

  test('a change announced while a read is in flight: later readers do not join the older read', async () => {
    const { store, gets } = countingStore()
    await store.set('grant:x', serializeGrant(record), { ttlSeconds: 60 })
    const grants = new GrantRepository(store, { cacheSize: 10, grantTtlSeconds: 60, now: Date.now })
    const first = grants.read('grant:x')
    await store.set('grant:x', serializeGrant({ ...record, rev: 2 }), { ttlSeconds: 60 })
    const second = grants.read('grant:x')
    assert.equal((await second)?.record.rev, 2)
    await first
    assert.equal(gets(), 2)
    grants.close()
  })
})

describe('GrantRepository: after its own write, requests keep being served from memory', () => {
  const record: GrantRecord = { v: 1, grantId: 'g', rev: 1, refreshToken: 'rt', idToken: undefined, claims: { sub: 'u' }, scope: 'openid', createdAt: 0, tokens: {} }

  /** Lets the background confirmation read (a store call or two) finish. */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 10))

  test('a successful replace is in the cache at once (nobody waits for a store read); one confirming read follows', async () => {
    const store = new MemoryStore()
    await store.set('grant:x', serializeGrant(record), { ttlSeconds: 60 })
    const grants = new GrantRepository(store, { cacheSize: 10, grantTtlSeconds: 60, now: Date.now })
    const before = await grants.read('grant:x')
    let gets = 0
    const get = store.get.bind(store)
    store.get = async (key: string) => {
      gets++
      return get(key)
    }
    const written = await grants.replace('grant:x', before!, { ...record, rev: 2 })
    assert.equal(written?.record.rev, 2)
    assert.equal(grants.peek('grant:x')?.record.rev, 2, 'the written grant is served without a store read')
    await settle()
    assert.equal(gets, 1, 'one confirming read, in the background')
    assert.equal(grants.peek('grant:x')?.record.rev, 2)
    grants.close()
  })

  test('a logout elsewhere announced before the write reply arrives: the confirming read drops the written grant', async () => {
    const store = new MemoryStore()
    await store.set('grant:x', serializeGrant(record), { ttlSeconds: 60 })
    const grants = new GrantRepository(store, { cacheSize: 10, grantTtlSeconds: 60, now: Date.now })
    const other = new GrantRepository(store, { cacheSize: 10, grantTtlSeconds: 60, now: Date.now })
    const before = await grants.read('grant:x')
    const compareAndSet = store.compareAndSet.bind(store)
    // The other instance's logout lands after the store applied our write and before its reply reaches us.
    store.compareAndSet = async (...args: Parameters<MemoryStore['compareAndSet']>) => {
      const done = await compareAndSet(...args)
      await other.take('grant:x')
      return done
    }
    assert.equal((await grants.replace('grant:x', before!, { ...record, rev: 2 }))?.record.rev, 2)
    await settle()
    assert.equal(grants.peek('grant:x'), undefined, 'the logged-out grant is not served from the cache')
    assert.equal(await grants.read('grant:x'), undefined)
    grants.close()
    other.close()
  })

  test('a newer write elsewhere announced before the write reply, while other keys keep changing: the written grant is not kept', async () => {
    const store = new MemoryStore()
    await store.set('grant:x', serializeGrant(record), { ttlSeconds: 60 })
    const grants = new GrantRepository(store, { cacheSize: 10, grantTtlSeconds: 60, now: Date.now })
    const before = await grants.read('grant:x')
    const compareAndSet = store.compareAndSet.bind(store)
    store.compareAndSet = async (...args: Parameters<MemoryStore['compareAndSet']>) => {
      const done = await compareAndSet(...args)
      // Another instance rotates the grant after our write landed, before our reply arrives.
      await store.set('grant:x', serializeGrant({ ...record, rev: 3 }), { ttlSeconds: 60 })
      return done
    }
    const get = store.get.bind(store)
    store.get = async (key: string) => {
      // Meanwhile other grants change (a busy store): the confirming read cannot fill the cache.
      await store.set('grant:other', serializeGrant({ ...record, grantId: 'o' }), { ttlSeconds: 60 })
      return get(key)
    }
    assert.equal((await grants.replace('grant:x', before!, { ...record, rev: 2 }))?.record.rev, 2)
    await settle()
    assert.notEqual(grants.peek('grant:x')?.record.rev, 2, 'the overwritten grant is not served from the cache')
    store.get = get
    assert.equal((await grants.read('grant:x'))?.record.rev, 3)
    grants.close()
  })

  test('a failed compare-and-set caches nothing', async () => {
    const store = new MemoryStore()
    await store.set('grant:x', serializeGrant(record), { ttlSeconds: 60 })
    const grants = new GrantRepository(store, { cacheSize: 10, grantTtlSeconds: 60, now: Date.now })
    const before = await grants.read('grant:x')
    await store.set('grant:x', serializeGrant({ ...record, rev: 7 }), { ttlSeconds: 60 })
    assert.equal(await grants.replace('grant:x', before!, { ...record, rev: 2 }), undefined)
    assert.equal(grants.peek('grant:x'), undefined)
    assert.equal((await grants.read('grant:x'))?.record.rev, 7)
    grants.close()
  })
})
