// @ts-nocheck
// Issue 12, item 6: a lock holder that lost its lock must not call the provider. Two app instances share a real
// redis-server, with the DEFAULT lock options (lockTtlMs 3 s, lockTimeoutMs 10 s). Instance A wins the grant's lock
// and then stalls past the lock's TTL (injected in front of its store: see StallingStore; a true event-loop block
// would stall B too, as both run in this process). Instance B takes the expired lock and refreshes, rotating the refresh token. When A wakes it must
// give up with a typed error instead of sending the refresh token it read, which B has already spent: under
// rotation the provider would take that reuse for theft and revoke the grant.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ResourceClient, StoreWriteOptions, TokenStore } from 'resource-tokens'
import { RedisStore } from 'resource-tokens/redis'
import { code } from '../support/errors.js'
import { startRedis, type TestRedis } from '../support/redis.js'
import { startScenario, type Scenario } from '../support/scenario.js'

const SECRET = 'lost-lock-test-secret-0123456789abcdef'
/** The default lockTtlMs (3 s) and a stall past it. */
const STALL_MS = 3500

/**
 * A real RedisStore in front of a process that stalls (injected fault: what a long GC pause or a blocked event loop
 * does to one instance, while the other instance runs on). Once armed, the first lock this instance wins starts the
 * stall: for STALL_MS, replies reach the caller only when it ends (A's read of the grant was answered by Redis at
 * once, before B rotated it), and lock calls (heartbeats) leave only when it ends.
 */
class StallingStore implements TokenStore {
  armed = false
  #stallUntil = 0
  #won: () => void = () => undefined
  readonly lockWon = new Promise<void>((resolve) => (this.#won = resolve))
  constructor(private readonly inner: RedisStore) {}

  async #reply<T>(call: Promise<T>): Promise<T> {
    const value = await call
    const wait = this.#stallUntil - performance.now()
    if (wait > 0) await sleep(wait)
    return value
  }

  get(key: string): Promise<string | undefined> {
    return this.#reply(this.inner.get(key))
  }
  set(key: string, value: string, options?: StoreWriteOptions): Promise<void> {
    return this.#reply(this.inner.set(key, value, options))
  }
  delete(key: string): Promise<void> {
    return this.#reply(this.inner.delete(key))
  }
  take(key: string): Promise<string | undefined> {
    return this.#reply(this.inner.take(key))
  }
  compareAndSet(key: string, expected: string | undefined, value: string, options?: StoreWriteOptions): Promise<boolean> {
    return this.#reply(this.inner.compareAndSet(key, expected, value, options))
  }
  async tryLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    // A stalled process sends no heartbeat: a lock call made during the stall leaves only when it ends.
    const wait = this.#stallUntil - performance.now()
    if (wait > 0) await sleep(wait)
    const won = await this.inner.tryLock(name, owner, ttlMs)
    if (won && this.armed) {
      this.armed = false
      this.#stallUntil = performance.now() + STALL_MS
      this.#won()
      return won
    }
    return this.#reply(Promise.resolve(won))
  }
  unlock(name: string, owner: string): Promise<void> {
    return this.#reply(this.inner.unlock(name, owner))
  }
  subscribe(listener: (key: string) => void): () => void {
    return this.inner.subscribe(listener)
  }
}

let redis: TestRedis
let world: Scenario
const stores: RedisStore[] = []

before(async () => {
  redis = await startRedis()
  world = await startScenario()
})

after(async () => {
  await Promise.all(stores.map((s) => s.close()))
  await world?.close()
  await redis?.stop()
})

test('a holder stalled past the lock TTL gives up with lock_timeout before the token request; the provider never sees a refresh token twice (default lock options)', async () => {
  const keyPrefix = `lost-lock:${randomUUID().slice(0, 8)}:`
  const storeA = new RedisStore({ url: redis.url, keyPrefix })
  const storeB = new RedisStore({ url: redis.url, keyPrefix })
  stores.push(storeA, storeB)
  const stalling = new StallingStore(storeA)
  const a: ResourceClient = await world.client({ store: stalling, encryption: { secrets: [SECRET] } })
  const b: ResourceClient = await world.client({ store: storeB, encryption: { secrets: [SECRET] } })
  await world.login(a, 'user')
  world.op.resetCounters()
  const url = `${world.contactsUrl}/people`

  stalling.armed = true
  const startedAt = performance.now()
  const fromA = a.accessToken('user', url)
  await stalling.lockWon
  // B wants the same grant's token while A holds (and then loses) the lock.
  const fromB = b.accessToken('user', url)
  const [outcomeA, outcomeB] = await Promise.allSettled([fromA, fromB])

  const refreshes = world.op.tokenRequests.filter((r) => r.grantType === 'refresh_token')
  const hashes = refreshes.map((r) => r.refreshTokenHash)
  console.log('lost lock', {
    a: outcomeA.status === 'rejected' ? code(outcomeA.reason) : 'token',
    b: outcomeB.status === 'rejected' ? code(outcomeB.reason) : 'token',
    refreshes: refreshes.length,
    reused: world.op.reusedRefreshTokens(),
    ms: Math.round(performance.now() - startedAt),
  })
  assert.equal(outcomeB.status, 'fulfilled', outcomeB.status === 'rejected' ? String(outcomeB.reason) : '')
  assert.equal(outcomeA.status, 'rejected', 'A must not have refreshed after losing its lock')
  assert.equal(code(outcomeA.reason), 'lock_timeout')
  assert.match((outcomeA.reason as Error).message, /lost/)
  assert.equal(new Set(hashes).size, hashes.length, 'no refresh token was presented twice')
  assert.equal(world.op.reusedRefreshTokens(), 0)
  assert.equal(refreshes.length, 1, 'only B refreshed')

  // The grant survived: A, awake again, gets B's token (or a new one) and the resource accepts it.
  const res = await a.fetch('user', url)
  assert.equal(res.status, 200)
  await res.text()
  assert.equal(world.op.reusedRefreshTokens(), 0)
})
