// Redis going away under a running app (issue 3, test 3). What the library promises, and what these tests hold
// it to:
// - A call that needs Redis while it is unreachable rejects with `store_unavailable` within about the store's
//   command timeout (2 s by default), never hangs, and changes nothing it did not report.
// - A call that does not need Redis (a fresh access token of a grant in the in-process cache) keeps working.
// - When the same server comes back (connections frozen, then thawed), everything works again and the grant is
//   intact: it decrypts, its refresh token still works, and no lock is left behind.
// - When Redis comes back empty (a restart without persistence, as the test server runs: `--save ''`), grants
//   are gone: every instance answers `login_required` once its subscriber has reconnected, never a stale or
//   foreign token, and a new login works.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { type ResourceClient, type ResourceClientOptions } from 'resource-tokens'
import { RedisStore } from 'resource-tokens/redis'
import { startRedis, type TestRedis } from '../support/redis.js'
import { startScenario, type Scenario } from '../support/scenario.js'
import { code } from '../support/errors.js'

const SECRET = 'redis-outage-test-secret-0123456789abcdef'
/** RedisStore's default `commandTimeoutMs`. */
const COMMAND_TIMEOUT_MS = 2000

let redis: TestRedis
let raw: Redis
let world: Scenario
const stores: RedisStore[] = []

before(async () => {
  redis = await startRedis()
  raw = new Redis(redis.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => 100 })
  raw.on('error', () => {})
  await raw.connect()
  // Tokens live 4 s and are renewed at 3 s (skewSeconds 1 below), so that renewals fall due during an outage.
  world = await startScenario({ provider: { accessTokenTTL: 4 } })
})

after(async () => {
  // A test that failed half-way may have left the server frozen.
  await redis?.resume().catch(() => {})
  await Promise.all(stores.map((s) => s.close()))
  raw?.disconnect()
  await world?.close()
  await redis?.stop()
})

/** An app instance of its own (own store connection, own in-process cache) on the test Redis. */
async function instance(keyPrefix: string, extra: Partial<ResourceClientOptions> = {}): Promise<ResourceClient> {
  const store = new RedisStore({ url: redis.url, keyPrefix })
  stores.push(store)
  return world.client({ store, encryption: { secrets: [SECRET] }, skewSeconds: 1, ...extra })
}

function prefix(): string {
  return `outage:${randomUUID().slice(0, 8)}:`
}

/** Runs `call` and reports how it settled and how long it took. */
async function timed(call: () => Promise<unknown>): Promise<{ result: string; ms: number }> {
  const started = Date.now()
  let result = 'ok'
  try {
    const value = await call()
    if (value instanceof Response) {
      await value.arrayBuffer()
      if (value.status !== 200) result = `http_${value.status}`
    }
  } catch (err) {
    result = code(err) ?? `error:${String(err)}`
  }
  return { result, ms: Date.now() - started }
}

interface Outcome {
  startedAt: number
  settledAt: number
  result: string
}

/** Keeps `lanes` fetches of the grant `key` in flight, alternating between the two resources, until stopped. */
function startRun(client: ResourceClient, key: string, lanes = 10): { stop(): Promise<Outcome[]> } {
  const outcomes: Outcome[] = []
  const urls = [`${world.contactsUrl}/people`, `${world.calendarUrl}events`]
  let running = true
  let turn = 0
  const lane = async (): Promise<void> => {
    while (running) {
      const startedAt = Date.now()
      const { result } = await timed(() => client.fetch(key, urls[turn++ % urls.length] as string))
      outcomes.push({ startedAt, settledAt: Date.now(), result })
      // Failures come back at once when Redis refuses connections: do not spin.
      if (result !== 'ok') await sleep(20)
    }
  }
  const done = Promise.all(Array.from({ length: lanes }, lane))
  return {
    stop: async () => {
      running = false
      await done
      return outcomes
    },
  }
}

function tally(outcomes: Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const o of outcomes) counts[o.result] = (counts[o.result] ?? 0) + 1
  return counts
}

describe('redis frozen (SIGSTOP) for a few seconds during a run, then thawed', () => {
  test('calls that need redis fail with store_unavailable within the command timeout, cached tokens keep working, everything works again after; the grant is intact', async (t) => {
    const keyPrefix = prefix()
    const app = await instance(keyPrefix)
    await world.login(app, 'frozen')
    await app.fetch('frozen', `${world.contactsUrl}/people`)
    await app.fetch('frozen', `${world.calendarUrl}events`)
    const warmAt = Date.now()
    world.op.resetCounters()

    const run = startRun(app, 'frozen')
    await sleep(300)
    await redis.pause()
    const pausedAt = Date.now()
    let probes: Array<{ result: string; ms: number }>
    let cold: Awaited<ReturnType<typeof instance>> | undefined
    try {
      // Another instance, with nothing cached, needs redis for everything.
      const coldInstance = await instance(keyPrefix)
      cold = coldInstance
      probes = await Promise.all([
        timed(() => coldInstance.fetch('frozen', `${world.contactsUrl}/people`)),
        timed(() => coldInstance.hasGrant('frozen')),
        timed(() => app.hasGrant('someone-else')),
        timed(() => app.startLogin('newcomer')),
      ])
      // Stay frozen until renewals have come due (3 s after warmAt) and their store calls have timed out.
      await sleep(Math.max(0, warmAt + 3000 + COMMAND_TIMEOUT_MS + 500 - Date.now()))
    } finally {
      await redis.resume()
    }
    const resumedAt = Date.now()
    await sleep(3000)
    const outcomes = await run.stop()

    const during = outcomes.filter((o) => o.startedAt >= pausedAt && o.startedAt < resumedAt)
    // Calls already waiting on redis settle at most a command timeout after the thaw; later ones must succeed.
    const afterwards = outcomes.filter((o) => o.startedAt >= resumedAt + COMMAND_TIMEOUT_MS)
    const slowest = Math.max(...outcomes.map((o) => o.settledAt - o.startedAt), ...probes.map((p) => p.ms))
    t.diagnostic(`frozen ${resumedAt - pausedAt} ms; probes ${JSON.stringify(probes)}; during: ${JSON.stringify(tally(during))}; after: ${JSON.stringify(tally(afterwards))}; slowest call ${slowest} ms`)

    for (const probe of probes) assert.equal(probe.result, 'store_unavailable')
    for (const probe of probes) assert.ok(probe.ms < COMMAND_TIMEOUT_MS + 1000, `a probe settled in ${probe.ms} ms`)
    assert.deepEqual(Object.keys(tally(outcomes)).filter((r) => r !== 'ok' && r !== 'store_unavailable'), [], 'no error but store_unavailable')
    // A fetch that renews waits for its grant's in-process lock queue (contacts, then calendar) and then for
    // its own store call, so at most two command timeouts.
    assert.ok(slowest < 2 * COMMAND_TIMEOUT_MS + 1000, `every call settled within a few seconds (slowest ${slowest} ms)`)
    assert.ok((tally(during)['ok'] ?? 0) > 0, 'cached, fresh tokens were served while redis was frozen')
    assert.ok((tally(during)['store_unavailable'] ?? 0) > 0, 'renewals that fell due while redis was frozen failed, typed')
    assert.ok(afterwards.length > 0)
    assert.deepEqual(tally(afterwards), { ok: afterwards.length }, 'all good again after the thaw')

    // Nothing is corrupted: a new instance reads (decrypts) the grant and uses its refresh token.
    const fresh = await instance(keyPrefix)
    assert.equal(await fresh.hasGrant('frozen'), true)
    const res = await fresh.fetch('frozen', `${world.calendarUrl}events`)
    assert.equal(res.status, 200)
    // Renewals ahead of expiry may still be on their way: close() waits for them, then every answer is known.
    await Promise.all([app.close(), cold?.close(), fresh.close()])
    assert.equal(world.op.reusedRefreshTokens(), 0)
    assert.deepEqual(world.op.tokenRequests.filter((r) => r.status !== 200).map((r) => r.status), [], 'every token request succeeded')
  })

  test('a lock attempt that timed out while redis was frozen leaves no lock behind for the other instances', async (t) => {
    // While redis is frozen the lock command is already on the wire: ioredis gives up after its timeout, but
    // the server runs it when it thaws. If nothing releases it, the grant stays locked for `lockTtlMs`
    // (15 s by default) although its would-be holder has long given up, and every other instance that needs
    // to renew that grant waits for it, and then fails with lock_timeout.
    const keyPrefix = prefix()
    const first = await instance(keyPrefix)
    const second = await instance(keyPrefix, { lockTimeoutMs: 3000 })
    await world.login(first, 'left-locked')
    await first.fetch('left-locked', `${world.contactsUrl}/people`)
    // The instance's own write comes back as a change notification and evicts its cache entry; read the grant
    // again so that the renewal below finds it in the cache and goes straight for the lock.
    await sleep(100)
    assert.equal(await first.hasGrant('left-locked'), true)

    // The resource refuses the next token once, which makes the client renew right away (no waiting for expiry).
    const refuseOnce = (): void => {
      let refused = false
      world.contacts.respond((_req, res) => {
        if (refused) return false
        refused = true
        res.statusCode = 401
        res.setHeader('www-authenticate', 'Bearer realm="contacts", error="invalid_token"')
        res.end()
        return true
      })
    }
    try {
      refuseOnce()
      await redis.pause()
      try {
        await assert.rejects(first.fetch('left-locked', `${world.contactsUrl}/people`), (err) => code(err) === 'store_unavailable')
      } finally {
        await redis.resume()
      }
      await sleep(200)
      const leftover = await raw.keys(`${keyPrefix}lock:*`)
      const leftoverTtl = leftover[0] === undefined ? -2 : await raw.pttl(leftover[0])

      refuseOnce()
      const renewal = await timed(() => second.fetch('left-locked', `${world.contactsUrl}/people`))
      t.diagnostic(`after the thaw: locks left ${JSON.stringify(leftover)} (pttl ${leftoverTtl} ms); the other instance's renewal: ${JSON.stringify(renewal)}`)
      assert.deepEqual(leftover, [], `no lock left behind (one expires in ${leftoverTtl} ms)`)
      assert.equal(renewal.result, 'ok')
      assert.ok(renewal.ms < 1500, `the other instance renewed at once (${renewal.ms} ms)`)
    } finally {
      world.contacts.respond()
    }
  })
})

describe('redis stopped, then restarted empty, during a run', () => {
  test('store_unavailable at once while it is down; afterwards the grant is gone: login_required on every instance, never a stale token; a new login works', async (t) => {
    const keyPrefix = prefix()
    const app = await instance(keyPrefix)
    const other = await instance(keyPrefix)
    await world.login(app, 'restarted')
    await app.fetch('restarted', `${world.contactsUrl}/people`)
    await app.fetch('restarted', `${world.calendarUrl}events`)
    world.op.resetCounters()

    const run = startRun(app, 'restarted')
    await sleep(300)
    await redis.stop()
    const stoppedAt = Date.now()
    let probes: Array<{ result: string; ms: number }>
    try {
      probes = await Promise.all([
        timed(() => other.fetch('restarted', `${world.contactsUrl}/people`)),
        timed(() => app.startLogin('newcomer')),
        timed(() => app.logout('restarted')),
      ])
      await sleep(1000)
    } finally {
      await redis.restart()
    }
    const restartedAt = Date.now()

    // The subscriber reconnects and tells the instance that anything may have changed: the grant is re-read.
    let gone = false
    while (!gone && Date.now() < restartedAt + 5000) {
      gone = (await timed(() => app.hasGrant('restarted').then((has) => assert.equal(has, false)))).result === 'ok'
      if (!gone) await sleep(50)
    }
    const invalidatedAt = Date.now()
    await sleep(500)
    const outcomes = await run.stop()
    const requestsBefore = world.contacts.requests.length + world.calendar.requests.length
    const fetchApp = await timed(() => app.fetch('restarted', `${world.contactsUrl}/people`))
    const fetchOther = await timed(() => other.fetch('restarted', `${world.calendarUrl}events`))
    const requestsAfter = world.contacts.requests.length + world.calendar.requests.length

    const down = outcomes.filter((o) => o.startedAt >= stoppedAt && o.startedAt < restartedAt)
    const afterwards = outcomes.filter((o) => o.startedAt > invalidatedAt)
    const slowest = Math.max(...outcomes.map((o) => o.settledAt - o.startedAt), ...probes.map((p) => p.ms))
    t.diagnostic(`down ${restartedAt - stoppedAt} ms; probes ${JSON.stringify(probes)}; while down: ${JSON.stringify(tally(down))}; cache invalidated ${invalidatedAt - restartedAt} ms after the restart; after: ${JSON.stringify(tally(afterwards))}; slowest call ${slowest} ms`)

    assert.ok(gone, 'the instance noticed that redis came back empty')
    // Refused connections fail at once, with no command timeout to wait for.
    for (const probe of probes) assert.deepEqual(probe.result, 'store_unavailable')
    for (const probe of probes) assert.ok(probe.ms < 1000, `a probe settled in ${probe.ms} ms`)
    assert.deepEqual(Object.keys(tally(outcomes)).filter((r) => !['ok', 'store_unavailable', 'login_required'].includes(r)), [])
    assert.ok(slowest < 2 * COMMAND_TIMEOUT_MS + 1000, `every call settled within a few seconds (slowest ${slowest} ms)`)
    assert.ok(afterwards.length > 0)
    assert.deepEqual(tally(afterwards), { login_required: afterwards.length })
    assert.deepEqual([fetchApp.result, fetchOther.result], ['login_required', 'login_required'])
    assert.equal(requestsAfter, requestsBefore, 'no token was sent for a grant that no longer exists')

    await world.login(app, 'restarted')
    assert.equal((await other.fetch('restarted', `${world.calendarUrl}events`)).status, 200)
    assert.equal(world.op.reusedRefreshTokens(), 0)
  })
})
