// @ts-nocheck
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { ResourceTokensError } from '../../src/errors/resource-tokens-error.js'
import { MemoryStore } from '../../src/stores/memory-store.js'
import { RedisStore } from '../../src/stores/redis-store.js'
import type { TokenStore } from '../../src/stores/token-store.js'
import { EncryptedStore } from '../../src/vault/encrypted-store.js'
import { RecordCipher } from '../../src/vault/record-cipher.js'
import { startRedis, type TestRedis } from '../support/redis.js'

/**
 * Two handles on the same data: two instances where the store can be shared between instances (as two
 * processes would share Redis), the same instance for MemoryStore.
 */
interface StorePair {
  a: TokenStore
  b: TokenStore
  close(): Promise<void>
}

const cipher = new RecordCipher({ secrets: ['store-suite-secret-store-suite-secret-01'] })
let redis: TestRedis

before(async () => {
  redis = await startRedis()
})

after(async () => {
  await redis?.stop()
})

function uniquePrefix(): string {
  return `test:${randomUUID().slice(0, 8)}:`
}

function key(): string {
  return `grant:${randomUUID()}`
}

function hasCode(code: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof ResourceTokensError, `expected a ResourceTokensError, got ${String(error)}`)
    assert.equal(error.code, code)
    return true
  }
}

function redisPair(): StorePair {
  const keyPrefix = uniquePrefix()
  const a = new RedisStore({ url: redis.url, keyPrefix })
  const b = new RedisStore({ url: redis.url, keyPrefix })
  return { a, b, close: async () => void (await Promise.all([a.close(), b.close()])) }
}

function encrypted(pair: StorePair): StorePair {
  return { a: new EncryptedStore(pair.a, cipher), b: new EncryptedStore(pair.b, cipher), close: pair.close }
}

function memoryPair(): StorePair {
  const store = new MemoryStore()
  return { a: store, b: store, close: async () => {} }
}

/** Resolves with the keys `store` reports, once `until` holds for them; rejects after `timeoutMs`. */
function collect(store: TokenStore): { keys: string[]; until(predicate: (keys: string[]) => boolean, timeoutMs?: number): Promise<void>; stop(): void } {
  assert.ok(store.subscribe, 'the store supports subscribe')
  const keys: string[] = []
  const stop = store.subscribe((changed) => keys.push(changed))
  return {
    keys,
    stop,
    async until(predicate, timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs
      while (!predicate(keys)) {
        if (Date.now() > deadline) assert.fail(`no such notification within ${timeoutMs} ms; got ${JSON.stringify(keys)}`)
        await sleep(10)
      }
    },
  }
}

/** Waits until a subscription on `listener`'s store is live, by writing probes through `writer`. */
async function waitForSubscription(writer: TokenStore, seen: ReturnType<typeof collect>): Promise<void> {
  const probe = `probe:${randomUUID()}`
  const deadline = Date.now() + 5000
  while (!seen.keys.includes(probe)) {
    if (Date.now() > deadline) assert.fail('the subscription never became live')
    await writer.set(probe, 'x', { ttlSeconds: 5 })
    await sleep(20)
  }
  seen.keys.length = 0
}

/** The behaviours every TokenStore must have. */
function storeSuite(name: string, open: () => StorePair): void {
  describe(name, () => {
    let pair: StorePair
    before(() => {
      pair = open()
    })
    after(async () => {
      await pair.close()
    })

    test('get, set and overwrite; the other handle sees the same data', async () => {
      const { a, b } = pair
      const k = key()
      assert.equal(await a.get(k), undefined)
      await a.set(k, 'one')
      assert.equal(await a.get(k), 'one')
      assert.equal(await b.get(k), 'one')
      await b.set(k, 'two ✓ "quoted" \n')
      assert.equal(await a.get(k), 'two ✓ "quoted" \n')
    })

    test('records with ttlSeconds expire; a later set without ttl keeps the record', async () => {
      const { a, b } = pair
      const [expiring, kept, swapped] = [key(), key(), key()]
      await a.set(expiring, 'v', { ttlSeconds: 1 })
      await a.set(kept, 'v', { ttlSeconds: 1 })
      await a.set(kept, 'w')
      assert.equal(await a.compareAndSet(swapped, undefined, 'v', { ttlSeconds: 1 }), true)
      assert.equal(await b.get(expiring), 'v')
      await sleep(1200)
      assert.equal(await b.get(expiring), undefined)
      assert.equal(await b.get(swapped), undefined)
      assert.equal(await b.get(kept), 'w')
    })

    test('delete removes; deleting a missing key is fine', async () => {
      const { a, b } = pair
      const k = key()
      await a.set(k, 'v')
      await b.delete(k)
      assert.equal(await a.get(k), undefined)
      await b.delete(k)
    })

    test('take returns and removes the value', async () => {
      const { a, b } = pair
      const k = key()
      assert.equal(await a.take(k), undefined)
      await a.set(k, 'v')
      assert.equal(await b.take(k), 'v')
      assert.equal(await a.get(k), undefined)
      assert.equal(await a.take(k), undefined)
    })

    test('take is atomic: of 100 concurrent takes exactly one gets the value', async () => {
      const { a, b } = pair
      const k = key()
      await a.set(k, 'only-once')
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? a : b).take(k)))
      assert.deepEqual(results.filter((value) => value !== undefined), ['only-once'])
    })

    test('compareAndSet writes only when the current value matches', async () => {
      const { a, b } = pair
      const k = key()
      assert.equal(await a.compareAndSet(k, 'anything', 'v1'), false, 'expected a value, none there')
      assert.equal(await a.get(k), undefined)
      assert.equal(await a.compareAndSet(k, undefined, 'v1'), true, 'expected absent, absent')
      assert.equal(await b.compareAndSet(k, undefined, 'v2'), false, 'expected absent, present')
      assert.equal(await b.compareAndSet(k, 'wrong', 'v2'), false)
      assert.equal(await a.get(k), 'v1')
      assert.equal(await b.compareAndSet(k, 'v1', 'v2'), true)
      assert.equal(await a.get(k), 'v2')
      assert.equal(await a.compareAndSet(k, 'v1', 'v3'), false, 'a stale expectation')
      assert.equal(await a.compareAndSet(k, 'v2', 'v3'), true)
      assert.equal(await b.get(k), 'v3')
    })

    test('set-if-absent with a ttl (a logout token\'s jti, issue 15): one claim of many wins, and the key is free again once it expires', async () => {
      const { a, b } = pair
      const k = key()
      const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).compareAndSet(k, undefined, '1', { ttlSeconds: 1 })))
      assert.equal(claims.filter(Boolean).length, 1)
      assert.equal(await b.compareAndSet(k, undefined, '1', { ttlSeconds: 1 }), false, 'a replay before expiry')
      await sleep(1200)
      assert.equal(await b.compareAndSet(k, undefined, '1', { ttlSeconds: 1 }), true, 'the record expired: no unbounded growth')
    })

    test('the empty string is a value, distinct from absent', async () => {
      const { a, b } = pair
      const k = key()
      await a.set(k, '')
      assert.equal(await b.get(k), '')
      assert.equal(await b.compareAndSet(k, undefined, 'x'), false)
      assert.equal(await b.compareAndSet(k, '', 'x'), true)
      assert.equal(await a.compareAndSet(k, 'x', ''), true)
      assert.equal(await a.take(k), '')
      assert.equal(await a.get(k), undefined)
    })

    test('compareAndSet is atomic: of 50 concurrent swaps from the same value exactly one wins', async () => {
      const { a, b } = pair
      const k = key()
      await a.set(k, 'start')
      assert.equal(await b.get(k), 'start')
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).compareAndSet(k, 'start', `next-${i}`)),
      )
      const winners = results.flatMap((won, i) => (won ? [i] : []))
      assert.equal(winners.length, 1)
      assert.equal(await a.get(k), `next-${winners[0]}`)

      const fresh = key()
      const created = await Promise.all(
        Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).compareAndSet(fresh, undefined, `first-${i}`)),
      )
      assert.equal(created.filter(Boolean).length, 1)
    })

    test('tryLock is exclusive; unlock by another owner is ignored', async () => {
      const { a, b } = pair
      const lock = `lock:${key()}`
      assert.equal(await a.tryLock(lock, 'owner-1', 10_000), true)
      assert.equal(await b.tryLock(lock, 'owner-2', 10_000), false)
      await b.unlock(lock, 'owner-2')
      assert.equal(await b.tryLock(lock, 'owner-2', 10_000), false, 'still held by owner-1')
      await a.unlock(lock, 'owner-1')
      assert.equal(await b.tryLock(lock, 'owner-2', 10_000), true)
      await b.unlock(lock, 'owner-2')
      await b.unlock(lock, 'owner-2')
    })

    test('of 20 concurrent tryLocks by different owners exactly one wins', async () => {
      const { a, b } = pair
      const lock = `lock:${key()}`
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).tryLock(lock, `owner-${i}`, 10_000)),
      )
      assert.equal(results.filter(Boolean).length, 1)
    })

    test('a lock expires after ttlMs; the same owner extends it', async () => {
      const { a, b } = pair
      const expiring = `lock:${key()}`
      assert.equal(await a.tryLock(expiring, 'owner-1', 150), true)
      await sleep(250)
      assert.equal(await b.tryLock(expiring, 'owner-2', 10_000), true, 'expired, so another owner takes it')

      const extended = `lock:${key()}`
      assert.equal(await a.tryLock(extended, 'owner-1', 400), true)
      await sleep(250)
      assert.equal(await a.tryLock(extended, 'owner-1', 600), true, 'the holder extends it')
      await sleep(250) // 500 ms in: past the first expiry, within the second
      assert.equal(await b.tryLock(extended, 'owner-2', 10_000), false)
      await sleep(450)
      assert.equal(await b.tryLock(extended, 'owner-2', 10_000), true)
    })

    test('subscribe reports writes and removals made through the other handle', async () => {
      const { a, b } = pair
      const seen = collect(b)
      try {
        await waitForSubscription(a, seen)
        const [set, swapped, deleted, taken] = [key(), key(), key(), key()]
        await a.set(set, 'v')
        await a.compareAndSet(swapped, undefined, 'v')
        await a.set(deleted, 'v')
        await a.delete(deleted)
        await a.set(taken, 'v')
        await a.take(taken)
        const count = (keys: string[], k: string): number => keys.filter((changed) => changed === k).length
        // Delete and take each follow a write of the same key: two notifications each.
        await seen.until((keys) => count(keys, set) === 1 && count(keys, swapped) === 1 && count(keys, deleted) === 2 && count(keys, taken) === 2)
      } finally {
        seen.stop()
      }
      const after = key()
      await a.set(after, 'v')
      await sleep(100)
      assert.ok(!seen.keys.includes(after), 'nothing after unsubscribing')
    })
  })
}

storeSuite('MemoryStore', memoryPair)
storeSuite('RedisStore', redisPair)
storeSuite('EncryptedStore over MemoryStore', () => encrypted(memoryPair()))
storeSuite('EncryptedStore over RedisStore', () => encrypted(redisPair()))

describe('RedisStore against a real redis-server', () => {
  let raw: Redis
  before(() => {
    raw = new Redis(redis.url)
  })
  after(async () => {
    await raw.quit()
  })

  /** Every key and string value in the server. */
  async function dump(): Promise<Map<string, string>> {
    const all = new Map<string, string>()
    let cursor = '0'
    do {
      const [next, keys] = await raw.scan(cursor, 'COUNT', 1000)
      cursor = next
      for (const k of keys) {
        const value = await raw.get(k).catch(() => null)
        all.set(k, value ?? '')
      }
    } while (cursor !== '0')
    return all
  }

  test('keys carry the prefix; ttlSeconds and defaultTtlSeconds become a Redis expiry', async () => {
    const keyPrefix = uniquePrefix()
    const store = new RedisStore({ url: redis.url, keyPrefix, defaultTtlSeconds: 60 })
    try {
      await store.set('grant:a', 'v')
      await store.set('grant:b', 'v', { ttlSeconds: 5 })
      assert.equal(await raw.get(`${keyPrefix}grant:a`), 'v')
      const ttlA = await raw.pttl(`${keyPrefix}grant:a`)
      const ttlB = await raw.pttl(`${keyPrefix}grant:b`)
      assert.ok(ttlA > 55_000 && ttlA <= 60_000, `default ttl, got ${ttlA}`)
      assert.ok(ttlB > 4_000 && ttlB <= 5_000, `explicit ttl, got ${ttlB}`)
      assert.equal(await store.tryLock('lock:grant:a', 'me', 3000), true)
      const lockTtl = await raw.pttl(`${keyPrefix}lock:grant:a`)
      assert.ok(lockTtl > 2000 && lockTtl <= 3000)
    } finally {
      await store.close()
    }
  })

  test('with a client given, the store uses it and leaves it open', async () => {
    const client = new Redis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 2000, lazyConnect: true })
    const store = new RedisStore({ client, keyPrefix: uniquePrefix() })
    try {
      assert.equal(await store.compareAndSet('grant:a', undefined, 'v'), true)
      assert.equal(await store.take('grant:a'), 'v')
      await store.close()
      assert.equal(await client.ping(), 'PONG')
      await assert.rejects(store.get('grant:a'), hasCode('store_unavailable'))
    } finally {
      await client.quit()
    }
  })

  test('bad options are invalid_config', () => {
    const invalid = hasCode('invalid_config')
    assert.throws(() => new RedisStore({}), invalid)
    assert.throws(() => new RedisStore({ url: redis.url, client: raw }), invalid)
    assert.throws(() => new RedisStore({ url: 'http://localhost' }), invalid)
    assert.throws(() => new RedisStore({ url: redis.url, defaultTtlSeconds: 0 }), invalid)
  })

  test('records written through EncryptedStore are ciphertext in Redis', async () => {
    const pair = encrypted(redisPair())
    const plaintexts = Array.from({ length: 5 }, (_, i) => `{"refresh_token":"rt-secret-${i}-${randomUUID()}"}`)
    try {
      for (const [i, plaintext] of plaintexts.entries()) {
        await pair.a.set(`grant:user-${i}`, plaintext)
        await pair.a.compareAndSet(`tx:user-${i}`, undefined, plaintext)
      }
      const all = await dump()
      assert.ok(all.size >= 10)
      for (const [k, value] of all) {
        for (const plaintext of plaintexts) {
          assert.ok(!value.includes(plaintext) && !value.includes(plaintext.slice(18, 40)), `plaintext under ${k}`)
        }
      }
    } finally {
      await pair.close()
    }
  })

  test('a record copied to another key, or with a flipped byte, fails with decryption_failed', async () => {
    const keyPrefix = uniquePrefix()
    const inner = new RedisStore({ url: redis.url, keyPrefix })
    const store = new EncryptedStore(inner, cipher)
    try {
      await store.set('grant:alice', 'alice-refresh-token')
      const sealed = await raw.get(`${keyPrefix}grant:alice`)
      assert.ok(sealed !== null)

      await raw.set(`${keyPrefix}grant:mallory`, sealed)
      await assert.rejects(store.get('grant:mallory'), hasCode('decryption_failed'))

      const parts = sealed.split('.')
      const ciphertext = Buffer.from(parts[3] ?? '', 'base64url')
      ciphertext[0] = (ciphertext[0] ?? 0) ^ 0x01
      parts[3] = ciphertext.toString('base64url')
      await raw.set(`${keyPrefix}grant:alice`, parts.join('.'))
      await assert.rejects(store.get('grant:alice'), hasCode('decryption_failed'))
      await assert.rejects(store.compareAndSet('grant:alice', 'alice-refresh-token', 'x'), hasCode('decryption_failed'))
    } finally {
      await store.close()
    }
  })

  test('a frozen server makes operations fail within the timeout instead of hanging', async () => {
    const store = new RedisStore({ url: redis.url, keyPrefix: uniquePrefix(), commandTimeoutMs: 1000 })
    try {
      await store.set('grant:a', 'v')
      await redis.pause()
      const started = Date.now()
      await assert.rejects(store.get('grant:a'), hasCode('store_unavailable'))
      const elapsed = Date.now() - started
      assert.ok(elapsed < 1500, `took ${elapsed} ms`)
    } finally {
      await redis.resume()
    }
    assert.equal(await eventually(() => store.get('grant:a')), 'v')
    await store.close()
  })

  test('stopping redis makes every operation reject with store_unavailable promptly; restarting heals', async () => {
    const pair = redisPair()
    const { a, b } = pair
    const seen = collect(b)
    try {
      await waitForSubscription(a, seen)
      await a.set('grant:a', 'v')

      await redis.stop()
      const operations: Array<[string, () => Promise<unknown>]> = [
        ['get', () => a.get('grant:a')],
        ['set', () => a.set('grant:a', 'w')],
        ['delete', () => a.delete('grant:a')],
        ['take', () => a.take('grant:a')],
        ['compareAndSet', () => a.compareAndSet('grant:a', 'v', 'w')],
        ['tryLock', () => a.tryLock('lock:grant:a', 'me', 1000)],
        ['unlock', () => a.unlock('lock:grant:a', 'me')],
      ]
      for (const [name, operation] of operations) {
        const started = Date.now()
        await assert.rejects(operation(), (error: unknown) => {
          hasCode('store_unavailable')(error)
          assert.match((error as Error).message, /^redis store unavailable: /)
          return true
        }, name)
        const elapsed = Date.now() - started
        assert.ok(elapsed < 3000, `${name} took ${elapsed} ms`)
      }

      await redis.restart()
      // The restarted server is empty (no persistence): anything may have changed, and the subscriber says so.
      await eventually(() => a.set('grant:a', 'after'))
      assert.equal(await eventually(() => b.get('grant:a')), 'after')
      await seen.until((keys) => keys.includes('*'), 5000)
      seen.keys.length = 0
      await a.delete('grant:a')
      await seen.until((keys) => keys.includes('grant:a'))
    } finally {
      seen.stop()
      await pair.close()
    }
  })

  test('a killed server is no different', async () => {
    const store = new RedisStore({ url: redis.url, keyPrefix: uniquePrefix() })
    try {
      await store.set('grant:a', 'v')
      await redis.kill()
      const started = Date.now()
      await assert.rejects(store.take('grant:a'), hasCode('store_unavailable'))
      assert.ok(Date.now() - started < 3000)
    } finally {
      await redis.restart()
    }
    await eventually(() => store.set('grant:a', 'v'))
    assert.equal(await store.take('grant:a'), 'v')
    await store.close()
  })
})

/** Retries `operation` until it resolves (ioredis reconnects on its own schedule), for up to 10 s. */
async function eventually<T>(operation: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 10_000
  for (;;) {
    try {
      return await operation()
    } catch (error) {
      if (Date.now() > deadline) throw error
      await sleep(100)
    }
  }
}
