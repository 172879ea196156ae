// @ts-nocheck
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { MemoryStore, type StoreWriteOptions, type TokenStore } from 'resource-tokens'
import { startScenario, type Scenario } from '../support/scenario.js'
import { code } from '../support/errors.js'

/** Test double over MemoryStore: a compare-and-set whose reply can be held back after the write was applied. */
class SlowReplyStore implements TokenStore {
  readonly inner = new MemoryStore()
  readonly inProcess = true
  hold: { applied: () => void; until: Promise<void> } | undefined
  /** Makes the next grant compare-and-set fail (a timeout, the write not applied). */
  failNextWrite = false
  get(k: string) { return this.inner.get(k) }
  set(k: string, v: string, o?: StoreWriteOptions) { return this.inner.set(k, v, o) }
  delete(k: string) { return this.inner.delete(k) }
  take(k: string) { return this.inner.take(k) }
  async compareAndSet(k: string, e: string | undefined, v: string, o?: StoreWriteOptions) {
    if (this.failNextWrite && k.startsWith('grant:')) {
      this.failNextWrite = false
      throw new Error('ETIMEDOUT')
    }
    const written = await this.inner.compareAndSet(k, e, v, o)
    const hold = this.hold
    if (hold !== undefined && k.startsWith('grant:')) {
      this.hold = undefined
      hold.applied()
      await hold.until
    }
    return written
  }
  tryLock(n: string, o: string, t: number) { return this.inner.tryLock(n, o, t) }
  unlock(n: string, o: string) { return this.inner.unlock(n, o) }
  subscribe(l: (k: string) => void) { return this.inner.subscribe(l) }
}

describe('races around one grant key', () => {
  let world: Scenario
  before(async () => {
    world = await startScenario()
  })
  after(() => world.close())

  test('a new login under the same key while a refresh is in flight: the old user\'s token never lands in the new grant', async () => {
    let gate: Promise<void> | undefined
    let arrived!: () => void
    const arrivedAtProvider = new Promise<void>((resolve) => (arrived = resolve))
    const slowFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init)
      const body = init?.body instanceof URLSearchParams ? init.body.toString() : typeof init?.body === 'string' ? init.body : ''
      if (gate !== undefined && body.includes('grant_type=refresh_token')) {
        arrived()
        await gate
      }
      return response
    }
    const client = await world.client({ fetch: slowFetch })
    await world.login(client, 'kiosk', 'alice')
    let release!: () => void
    gate = new Promise((resolve) => (release = resolve))
    const pending = client.accessToken('kiosk', world.contactsUrl).then(() => 'token', (err: unknown) => code(err))
    await arrivedAtProvider
    gate = undefined
    await world.login(client, 'kiosk', 'bob')
    release()
    assert.equal(await pending, 'login_required', 'the refresh of the replaced grant is not stored')
    assert.equal((await client.claims('kiosk'))?.['sub'], 'bob')
    const res = await client.fetch('kiosk', `${world.contactsUrl}/people`)
    assert.equal(((await res.json()) as { sub: string }).sub, 'bob', 'the contacts API sees the user who is logged in')
    assert.equal(world.op.reusedRefreshTokens(), 0)
  })

  test('(test double: delayed store reply) logout while a refresh write is in flight: the grant is gone everywhere', async () => {
    const store = new SlowReplyStore()
    const client = await world.client({ store })
    await world.login(client, 'racer')
    let release!: () => void
    let applied!: () => void
    const wasApplied = new Promise<void>((resolve) => (applied = resolve))
    store.hold = { applied, until: new Promise((resolve) => (release = resolve)) }
    const pending = client.accessToken('racer', world.contactsUrl).then(() => 'token', (err: unknown) => code(err))
    await wasApplied
    await client.logout('racer')
    release()
    await pending
    assert.equal(await client.hasGrant('racer'), false)
    await assert.rejects(client.fetch('racer', `${world.contactsUrl}/people`), (err) => code(err) === 'login_required')
  })

  test('a grant that expires in the store without a notification leaves the cache too', async () => {
    let offset = 0
    const client = await world.client({ now: () => Date.now() + offset, grantTtlSeconds: 60 })
    await world.login(client, 'expiring')
    assert.equal(await client.hasGrant('expiring'), true)
    offset = 120_000
    assert.equal(await client.hasGrant('expiring'), false)
    await assert.rejects(client.accessToken('expiring', world.contactsUrl), (err) => code(err) === 'login_required')
  })

  test('(test double: store write fails once) a rotated refresh token survives a store failure; the provider never sees a reused one', async () => {
    const store = new SlowReplyStore()
    const client = await world.client({ store })
    await world.login(client, 'flaky')
    world.op.resetCounters()
    store.failNextWrite = true
    const first = await client.accessToken('flaky', world.contactsUrl).then(() => 'token', (err: unknown) => code(err))
    assert.equal(first, 'token', 'the write was retried while the lock was held')
    const second = await client.accessToken('flaky', world.calendarUrl)
    assert.equal(second.resource, 'calendar')
    assert.equal(world.op.reusedRefreshTokens(), 0)
    assert.equal(await client.hasGrant('flaky'), true)
  })
})
