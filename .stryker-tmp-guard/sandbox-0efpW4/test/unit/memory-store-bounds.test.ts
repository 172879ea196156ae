// @ts-nocheck
// Issue 12, item 1 (store side): MemoryStore gives the memory of expired records back without their being read
// again, and bounds the number of transient records (pending login transactions) whatever their TTL, oldest
// first, never touching records that are not transient.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { MemoryStore, ResourceTokensConfigError } from 'resource-tokens'

describe('MemoryStore: expired records are swept', () => {
  test('amortised on writes: records that are never read again are dropped once expired', async () => {
    let now = 1_000_000
    const store = new MemoryStore({ now: () => now })
    for (let i = 0; i < 5000; i++) await store.set(`tx:abandoned:${i}`, 'x'.repeat(100), { ttlSeconds: 1 })
    await store.set('grant:kept', 'g', { ttlSeconds: 3600 })
    await store.set('kept-forever', 'f')
    assert.equal(store.size, 5002)
    now += 2000
    // Other traffic, none of it reading the abandoned keys.
    for (let i = 0; i < 5000; i++) await store.set(`other:${i % 10}`, 'y')
    assert.equal(store.size, 12, 'only the 2 live records and the 10 others are left')
    assert.equal(await store.get('grant:kept'), 'g')
    assert.equal(await store.get('kept-forever'), 'f')
    await store.close()
  })

  test('on an unref\'d timer: with no writes at all, expired records go within the sweep interval', async () => {
    const store = new MemoryStore({ sweepIntervalMs: 50 })
    for (let i = 0; i < 100; i++) await store.set(`tx:${i}`, 'x', { ttlSeconds: 0.05 })
    await store.set('no-ttl', 'v')
    await sleep(300)
    assert.equal(store.size, 1)
    await store.close()
  })

  test('expired locks are swept too', async () => {
    let now = 0
    const store = new MemoryStore({ now: () => now })
    for (let i = 0; i < 3000; i++) await store.tryLock(`lock:${i}`, 'dead-owner', 1000)
    now += 5000
    for (let i = 0; i < 5000; i++) await store.set('k', 'v')
    assert.equal(store.lockCount, 0)
    assert.equal(await store.tryLock('lock:1', 'someone', 1000), true)
    await store.close()
  })
})

describe('MemoryStore: transient records are capped', () => {
  test('over maxTransientEntries the oldest transient records go first; grants and records without TTL never', async () => {
    const store = new MemoryStore({ maxTransientEntries: 100 })
    const removed: string[] = []
    store.subscribe((key) => key.startsWith('tx:') && removed.push(key))
    await store.set('grant:a', 'grant', { ttlSeconds: 3600 })
    await store.set('plain', 'plain')
    for (let i = 0; i < 1000; i++) await store.set(`tx:${i}`, `v${i}`, { ttlSeconds: 600, transient: true })
    assert.equal(store.size, 102)
    assert.equal(await store.get('grant:a'), 'grant')
    assert.equal(await store.get('plain'), 'plain')
    assert.equal(await store.get('tx:899'), undefined, 'older ones are gone')
    assert.equal(await store.get('tx:900'), 'v900', 'the newest 100 are kept')
    assert.equal(await store.take('tx:999'), 'v999')
    assert.ok(removed.includes('tx:0'), 'evictions are announced like removals')
    await store.close()
  })

  test('a transient record written again as a grant is no longer transient (compare-and-set too)', async () => {
    const store = new MemoryStore({ maxTransientEntries: 2 })
    await store.set('k', 'tx', { ttlSeconds: 60, transient: true })
    assert.equal(await store.compareAndSet('k', 'tx', 'grant', { ttlSeconds: 60 }), true)
    for (let i = 0; i < 10; i++) await store.set(`tx:${i}`, 'v', { ttlSeconds: 60, transient: true })
    assert.equal(await store.get('k'), 'grant')
    assert.equal(store.size, 3)
    await store.close()
  })

  test('300,000 transient writes with the default options: heap growth after GC stays bounded (printed)', async (t) => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const store = new MemoryStore()
    gc()
    const before = process.memoryUsage().heapUsed
    // About the size of a serialized login transaction.
    const value = JSON.stringify({ state: 'x'.repeat(43), nonce: 'y'.repeat(43), codeVerifier: 'z'.repeat(43), returnTo: '/home', createdAt: Date.now(), pad: 'p'.repeat(300) })
    for (let i = 0; i < 300_000; i++) {
      await store.set(`tx:${i.toString(36).padStart(43, '0')}:${i}`, `${value}${i}`, { ttlSeconds: 600, transient: true })
    }
    gc()
    const grownMiB = (process.memoryUsage().heapUsed - before) / 1024 / 1024
    t.diagnostic(`heap growth after 300,000 transient writes: ${grownMiB.toFixed(1)} MiB; ${store.size} records kept`)
    console.log('memory store flood', { grownMiB: Number(grownMiB.toFixed(1)), kept: store.size })
    assert.ok(grownMiB < 40, `heap grew ${grownMiB.toFixed(1)} MiB`)
    await store.close()
  })

  test('options are validated at construction', () => {
    for (const bad of [{ maxTransientEntries: 0 }, { maxTransientEntries: 1.5 }, { sweepIntervalMs: -1 }, { sweepIntervalMs: Number.NaN }]) {
      assert.throws(() => new MemoryStore(bad), ResourceTokensConfigError, JSON.stringify(bad))
    }
  })
})
