// @ts-nocheck
// Issue 12, item 1 (login side): anonymous login starts must not run a single-instance app out of memory.
// Pending login transactions are written `transient` and grouped by grant key, so the default MemoryStore caps them
// in total (10,000, oldest first) and per key (10, that key's oldest first); a finished login (a grant) is never
// dropped for either cap. Real provider, default client and store options except one: PAR is off for the flood
// (`pushedAuthorizationRequests: 'never'`), because with PAR every start is a round trip to the provider, which
// then holds each pushed request itself: 300,000 of them would measure the test provider, not this library. What
// the library keeps per start is the same with or without PAR.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { MemoryStore, type ResourceClient } from 'resource-tokens'
import { code } from '../support/errors.js'
import { startScenario, type Scenario } from '../support/scenario.js'

const FLOOD = 300_000
const LANES = 32
/** The MemoryStore's documented default cap of pending logins. */
const DEFAULT_MAX_TRANSIENT = 10_000

describe('login flood on the default MemoryStore (item 1)', () => {
  let world: Scenario

  before(async () => {
    world = await startScenario()
  })
  after(() => world.close())

  test('300,000 anonymous login starts: heap growth after GC under 40 MiB (printed); a user who starts during the flood finishes', async (t) => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const store = new MemoryStore()
    const client: ResourceClient = await world.client({ store, pushedAuthorizationRequests: 'never' })
    // Warm up every code path once so that the measurement sees records, not compiled code.
    for (let i = 0; i < 2000; i++) await client.startLogin(`warm-${i}`)
    gc()
    const before = process.memoryUsage().heapUsed
    const started = performance.now()

    let userUrl: URL | undefined
    let earlyUrl: URL | undefined
    // Starts arrive concurrently, as a flood does: LANES in flight at a time, numbered in arrival order.
    let next = 0
    let paused: Promise<void> | undefined
    const lane = async (): Promise<void> => {
      for (;;) {
        if (paused !== undefined) await paused
        const i = next++
        if (i >= FLOOD) return
        // Every anonymous GET /auth/login of the Express adapter is a new session id: a new key each time.
        await client.startLogin(`anonymous-${i}`)
        if (i === 1000) earlyUrl = (await client.startLogin('early-user', { returnTo: '/early' })).url
        if (i === 150_000) userUrl = (await client.startLogin('user-session', { returnTo: '/inbox' })).url
        if (i === 150_000 + DEFAULT_MAX_TRANSIENT / 2) {
          // Half a cap's worth of anonymous starts later, the user comes back from the provider (the flood holds
          // still meanwhile, so that the count of starts in between is exactly that, whatever the machine's speed).
          let resume!: () => void
          paused = new Promise((resolve) => (resume = resolve))
          try {
            const callback = await world.op.login(userUrl as URL)
            const finished = await client.finishLogin('user-session', callback)
            assert.equal(finished.returnTo, '/inbox')
          } finally {
            paused = undefined
            resume()
          }
        }
      }
    }
    await Promise.all(Array.from({ length: LANES }, lane))
    const seconds = (performance.now() - started) / 1000
    gc()
    const grownMiB = (process.memoryUsage().heapUsed - before) / 1024 / 1024
    const figures = { starts: FLOOD, grownMiB: Number(grownMiB.toFixed(1)), records: store.size, seconds: Number(seconds.toFixed(1)), microsPerStart: Math.round((seconds * 1e6) / FLOOD) }
    t.diagnostic(`login flood: ${JSON.stringify(figures)}`)
    console.log('login flood', figures)
    assert.ok(grownMiB < 40, `heap grew ${grownMiB.toFixed(1)} MiB`)
    assert.ok(store.size <= DEFAULT_MAX_TRANSIENT + 10, `${store.size} records kept`)

    // The finished login is a grant: never dropped by the cap; its tokens work.
    assert.equal(await client.hasGrant('user-session'), true)
    // One retry on token_endpoint_unavailable: after a minute of flood the pooled connection to the test provider may
    // have passed the provider's keep-alive timeout (ECONNRESET on reuse), which says nothing about the grant.
    const people = `${world.contactsUrl}/people`
    const res = await client.fetch('user-session', people).catch((err: unknown) => {
      if (code(err) === 'token_endpoint_unavailable') return client.fetch('user-session', people)
      throw err
    })
    assert.equal(res.status, 200)
    await res.text()

    // A login started more than a cap's worth of starts ago was dropped: it fails cleanly, nothing is stored.
    const callback = await world.op.login(earlyUrl as URL)
    await assert.rejects(client.finishLogin('early-user', callback), (err) => code(err) === 'invalid_callback')
    assert.equal(await client.hasGrant('early-user'), false)
  })

  test('one key flooding its own logins drops only its own oldest: another key\'s pending login and the flooder\'s newest still finish', async () => {
    const store = new MemoryStore()
    const client = await world.client({ store, pushedAuthorizationRequests: 'never' })
    const other = await client.startLogin('other-session')
    const first = await client.startLogin('flooder')
    let last: URL | undefined
    for (let i = 0; i < 5000; i++) last = (await client.startLogin('flooder')).url
    assert.ok(store.size <= 11, `${store.size} records: one key keeps at most 10 pending logins`)
    await client.finishLogin('other-session', await world.op.login(other.url))
    assert.equal(await client.hasGrant('other-session'), true)
    await assert.rejects(client.finishLogin('flooder', await world.op.login(first.url)), (err) => code(err) === 'invalid_callback')
    await client.finishLogin('flooder', await world.op.login(last as URL))
    assert.equal(await client.hasGrant('flooder'), true)
  })
})

describe('grants expire with the refresh token (item 1)', () => {
  test('refresh_expires_in sets the grant record\'s expiry; without it the documented default (grantTtlSeconds, 30 days) applies', async () => {
    let offset = 0
    const clock = (): number => Date.now() + offset
    const keycloakLike = await startScenario({ provider: { quirks: { refreshExpiresIn: 120 } } })
    const plain = await startScenario()
    try {
      const storeA = new MemoryStore({ now: clock })
      const storeB = new MemoryStore({ now: clock })
      const a = await keycloakLike.client({ store: storeA, now: clock })
      const b = await plain.client({ store: storeB, now: clock })
      await keycloakLike.login(a, 'user')
      await plain.login(b, 'user')
      // A refresh (rotation) announces the lifetime again: still bounded by it.
      const res = await a.fetch('user', `${keycloakLike.contactsUrl}/people`)
      assert.equal(res.status, 200)
      await res.text()
      offset += 119_000
      assert.equal(await a.hasGrant('user'), true, 'alive within refresh_expires_in')
      offset += 2_000
      assert.equal(await a.hasGrant('user'), false, 'gone from the store with its refresh token')
      assert.equal(storeA.sweep() >= 0 && storeA.size, 0, 'and its memory with it')
      assert.equal(await b.hasGrant('user'), true, 'no refresh_expires_in: the 30-day default applies')
      offset += 30 * 24 * 3600 * 1000
      assert.equal(await b.hasGrant('user'), false, 'unused for 30 days: gone')
    } finally {
      await keycloakLike.close()
      await plain.close()
    }
  })
})
