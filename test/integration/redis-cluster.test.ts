// Many instances, one grant (issue 3): real child processes, each with its own ResourceClient, in-process
// cache and Redis connections, share a grant through one redis-server. Proves cross-process single-flight
// under load, recovery from a lock holder killed mid-refresh, and logout seen by every instance.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { Redis } from 'ioredis'
import { type ResourceClient, type ResourceClientOptions } from 'resource-tokens'
import { RedisStore } from 'resource-tokens/redis'
import { startRedis, type TestRedis } from '../support/redis.js'
import { startScenario, type Scenario } from '../support/scenario.js'
import { startWorker, type LoadReport, type Worker, type WorkerClientOptions, type WorkerConfig, type WorkerResult } from '../support/worker-process.js'
import { code } from '../support/errors.js'

const SECRET = 'redis-cluster-test-secret-0123456789abcdef'

let redis: TestRedis
let raw: Redis
const workers: Worker[] = []
const stores: RedisStore[] = []

before(async () => {
  redis = await startRedis()
  raw = new Redis(redis.url, { lazyConnect: true })
  await raw.connect()
})

after(async () => {
  // Children first: a test that failed half-way may have left some running.
  await Promise.all(workers.map((w) => w.kill('SIGKILL')))
  await Promise.all(stores.map((s) => s.close()))
  raw?.disconnect()
  await redis?.stop()
})

/** A prefix of its own for each test, so that tests never see each other's keys or notifications. */
function prefix(): string {
  return `cluster:${randomUUID().slice(0, 8)}:`
}

/** A RedisStore on the test server, closed after the file. */
function redisStore(keyPrefix: string): RedisStore {
  const store = new RedisStore({ url: redis.url, keyPrefix })
  stores.push(store)
  return store
}

/** The options of an app instance in this process: the scenario's client on Redis, encrypted. */
function instanceOptions(keyPrefix: string, extra: Partial<ResourceClientOptions> = {}): Partial<ResourceClientOptions> {
  return { store: redisStore(keyPrefix), encryption: { secrets: [SECRET] }, ...extra }
}

/** The configuration of an app instance in a child process: same provider, resources, Redis and secret. */
function workerConfig(world: Scenario, keyPrefix: string, client: Partial<WorkerClientOptions> = {}, reportChanges = false): WorkerConfig {
  const o = world.options()
  return {
    client: {
      issuer: o.issuer,
      clientId: o.clientId,
      ...(o.clientSecret === undefined ? {} : { clientSecret: o.clientSecret }),
      redirectUri: o.redirectUri,
      resources: o.resources,
      ...client,
    },
    redis: { url: redis.url, keyPrefix },
    secrets: [SECRET],
    reportChanges,
  }
}

async function spawnWorkers(count: number, config: WorkerConfig): Promise<Worker[]> {
  const started = await Promise.allSettled(Array.from({ length: count }, () => startWorker(config)))
  for (const s of started) if (s.status === 'fulfilled') workers.push(s.value)
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected')
  if (failed !== undefined) throw failed.reason
  return started.map((s) => (s as PromiseFulfilledResult<Worker>).value)
}

/** A worker's reply in short: the HTTP status of a fetch, the value of a query, or the error code. */
function outcome(reply: WorkerResult): unknown {
  if (reply.type !== 'result') return reply
  if (!reply.ok) return reply.code
  return reply.status ?? reply.value
}

function refreshesFor(world: Scenario, indicator: string) {
  return world.op.tokenRequests.filter((r) => r.grantType === 'refresh_token' && r.resource?.includes(indicator))
}

describe('four processes share one grant under load', () => {
  // Access tokens live LIFETIME_S seconds. The client renews from expiresAt - min(skew, lifetime / 2) on
  // (src/tokens/cached-token.ts; in the background while the old token is still used, src/tokens/renewal.ts), so
  // with skew = 2 s every token is renewed at lifetime - 2 s, measured from the start of the request that obtained it.
  //
  // Why 8 s and not 3 or 4: the provider computes exp = floor(now in s) + lifetime, so a token really
  // expires up to 1 s before the client's expiresAt. With the renewal point min(skew, lifetime / 4) before
  // expiresAt (the rule before refresh-ahead), the margin between renewal and real expiry was (0, 1 s] at 4 s. A fetch that took the old token just before renewal reaches the resource server (no clock
  // tolerance) after the real expiry as soon as its latency exceeds that margin, and with 400 fetches in
  // flight on a shared machine the latency tail reaches seconds. The client then retries once with the token
  // cached by then (refusedInTransit counts these; no extra refresh when renewal has happened meanwhile), but
  // a retry that is late as well fails. At 8 s the margin is (1 s, 2 s] and a retried token has 6 s to spare.
  const LIFETIME_S = 8
  const SKEW_S = 2
  const DURATION_MS = 15_000
  const PROCESSES = 4
  const IN_FLIGHT = 100
  // lifetime - skew: 6 s.
  const renewEveryMs = LIFETIME_S * 1000 - Math.min(SKEW_S * 1000, (LIFETIME_S * 1000) / 2)
  // Nothing is cached when the run starts, so each resource needs a token at t = 0 and then one per renewal
  // window: tokens obtained at about t = 0, 6, 12 s. A renewal at t needs t < DURATION_MS (no fetch starts
  // later), and each comes at least L - skew after the previous one, so over D seconds a resource needs
  // ceil(D / (L - skew)) = ceil(15 / 6) = 3 refreshes, the initial one included. D / (L - skew) = 2.5 is far
  // from a whole number on purpose: the last renewal comes about 3 s before the end and the next would come
  // 3 s after it, so lock waits and event-loop lag (tens of ms) cannot move a renewal across either boundary,
  // and the test demands exactly the minimum, not minimum + 1.
  const expectedPerResource = Math.ceil(DURATION_MS / renewEveryMs)

  let world: Scenario
  before(async () => {
    // The resource servers get the 5 s leeway real ones have (the library's guard default): what this test
    // measures is the client's refresh discipline, not how long a loaded 2-core machine takes to answer.
    world = await startScenario({ provider: { accessTokenTTL: LIFETIME_S }, resourceClockToleranceSeconds: 5 })
  })
  after(() => world?.close())

  test(`${PROCESSES} processes x ${IN_FLIGHT} fetches in flight at two resources for ${DURATION_MS / 1000} s: no failure, no reused refresh token, one refresh per resource per window`, async (t) => {
    const keyPrefix = prefix()
    const parent = await world.client(instanceOptions(keyPrefix))
    await world.login(parent, 'shared-user')
    world.op.resetCounters()

    const children = await spawnWorkers(PROCESSES, workerConfig(world, keyPrefix, { skewSeconds: SKEW_S }))
    // The resource servers record every request; forget them as we go so a long run stays small.
    const trim = setInterval(() => {
      world.contacts.requests.length = 0
      world.calendar.requests.length = 0
    }, 500)
    // A 401 from a resource server means a token expired between the client taking it and the server checking
    // it (fetch latency above the margin explained at LIFETIME_S); the client then retries with a new token,
    // which can cost a refresh. Counted so that a failure below says why.
    let refusedInTransit = 0
    for (const server of [world.contacts, world.calendar]) {
      server.respond((_req, res) => {
        res.once('finish', () => {
          if (res.statusCode === 401) refusedInTransit++
        })
        return false
      })
    }
    let reports: LoadReport[]
    try {
      // A common start, so that the window count holds for the run as a whole, not per process.
      const startAt = Date.now() + 300
      const replies = await Promise.all(
        children.map((w) =>
          w.request({ op: 'load', key: 'shared-user', urls: [`${world.contactsUrl}/people`, `${world.calendarUrl}events`], startAt, durationMs: DURATION_MS, concurrency: IN_FLIGHT }),
        ),
      )
      reports = replies.map((r) => {
        assert.equal(r.type, 'load', `a worker failed: ${JSON.stringify(r)}`)
        return (r as { report: LoadReport }).report
      })
    } finally {
      clearInterval(trim)
      for (const server of [world.contacts, world.calendar]) server.respond()
    }

    const fetches = reports.reduce((n, r) => n + r.fetches, 0)
    const failed: Record<string, number> = {}
    for (const r of reports) for (const [c, n] of Object.entries(r.failed)) failed[c] = (failed[c] ?? 0) + n
    const span = (Math.max(...reports.map((r) => r.lastSettledAt)) - Math.min(...reports.map((r) => r.firstStartedAt))) / 1000
    const contactsRefreshes = refreshesFor(world, world.contactsUrl).length
    const calendarRefreshes = refreshesFor(world, world.calendarUrl).length
    const figures = {
      processes: PROCESSES,
      inFlightPerProcess: IN_FLIGHT,
      durationSeconds: DURATION_MS / 1000,
      measuredSeconds: Number(span.toFixed(2)),
      fetches,
      fetchesPerSecond: Math.round(fetches / span),
      perProcess: reports.map((r) => r.fetches),
      maxLatencyMs: Math.max(...reports.map((r) => r.maxLatencyMs)),
      failed,
      refusedInTransit,
      tokenRequests: world.op.tokenRequests.length,
      refreshes: { contacts: contactsRefreshes, calendar: calendarRefreshes },
      minimumPerResource: `ceil(${DURATION_MS / 1000} s / (${LIFETIME_S} s - ${SKEW_S} s)) = ${expectedPerResource}`,
      reusedRefreshTokens: world.op.reusedRefreshTokens(),
    }
    t.diagnostic(`figures: ${JSON.stringify(figures)}`)
    console.log('redis-cluster load figures', figures)

    assert.deepEqual(failed, {}, 'no fetch failed')
    assert.equal(reports.reduce((n, r) => n + r.ok, 0), fetches)
    assert.equal(world.op.reusedRefreshTokens(), 0, 'the provider never saw a refresh token twice')
    assert.equal(contactsRefreshes, expectedPerResource, 'contacts: one refresh per renewal window, across all processes')
    assert.equal(calendarRefreshes, expectedPerResource, 'calendar: one refresh per renewal window, across all processes')
    assert.equal(world.op.tokenRequests.length, 2 * expectedPerResource, 'no other token request')
    assert.ok(world.op.tokenRequests.every((r) => r.status === 200), 'every token request succeeded')
    // Every process did real work: the count is not the minimum because three of them idled.
    for (const r of reports) assert.ok(r.fetches > 100, `each process fetched (${r.fetches})`)

    await Promise.all(children.map((w) => w.stop()))
  })
})

describe('a process killed with SIGKILL while it holds the grant lock mid-refresh', () => {
  const LOCK_TTL_MS = 1500
  let world: Scenario
  before(async () => {
    world = await startScenario()
  })
  after(async () => {
    world?.op.setTokenEndpointHook()
    await world?.close()
  })

  /**
   * Logs `key` in from this process, starts a worker whose refresh the provider sees, runs `onRefresh`
   * from the provider's token endpoint when it does (the worker holds the lock then), and resolves once the
   * worker is dead and its lock is still there.
   */
  async function killMidRefresh(key: string, onRefresh: (victim: Worker) => Promise<void>): Promise<{ parent: ResourceClient; keyPrefix: string; lockTtlLeftMs: number }> {
    const keyPrefix = prefix()
    const parent = await world.client(instanceOptions(keyPrefix, { lockTtlMs: LOCK_TTL_MS }))
    await world.login(parent, key)
    world.op.resetCounters()
    const [victim] = await spawnWorkers(1, workerConfig(world, keyPrefix, { lockTtlMs: LOCK_TTL_MS }))
    assert.ok(victim)
    let armed = true
    world.op.setTokenEndpointHook(async ({ grantType }) => {
      if (grantType !== 'refresh_token' || !armed) return
      armed = false
      await onRefresh(victim)
    })
    try {
      victim.send({ op: 'accessToken', key, url: world.contactsUrl })
      const { signal } = await victim.exited
      assert.equal(signal, 'SIGKILL')
    } finally {
      world.op.setTokenEndpointHook()
    }
    // The dead worker's lock is still there: the others have to wait for it to expire.
    const locks = await raw.keys(`${keyPrefix}lock:*`)
    assert.equal(locks.length, 1, 'the killed worker held the grant lock')
    const lockTtlLeftMs = await raw.pttl(locks[0] as string)
    assert.ok(lockTtlLeftMs > 0 && lockTtlLeftMs <= LOCK_TTL_MS, `the lock expires (pttl ${lockTtlLeftMs})`)
    return { parent, keyPrefix, lockTtlLeftMs }
  }

  test('killed before the provider processed its refresh: the others wait for the lock to expire, then refresh; the grant survives', async (t) => {
    const { parent, keyPrefix, lockTtlLeftMs } = await killMidRefresh('crash-early', async (victim) => {
      // The request has arrived but the provider has not looked at it: kill the sender and drop the request,
      // as if the process had died a moment before its request left.
      await victim.kill('SIGKILL')
      throw new Error('test: request dropped, its sender is dead')
    })
    const started = Date.now()
    const res = await parent.fetch('crash-early', `${world.contactsUrl}/people`)
    const waitedMs = Date.now() - started
    t.diagnostic(`lock left ${lockTtlLeftMs} ms after the kill; the next refresh waited ${waitedMs} ms`)
    assert.equal(res.status, 200)
    assert.ok(waitedMs >= lockTtlLeftMs - 100, `waited for the dead holder's lock (${waitedMs} ms)`)
    assert.ok(waitedMs < LOCK_TTL_MS + 1000, `but not much longer (${waitedMs} ms)`)

    const refreshes = world.op.tokenRequests.filter((r) => r.grantType === 'refresh_token')
    assert.equal(refreshes.length, 2, 'the dropped refresh and the one after the lock expired')
    assert.equal(world.op.reusedRefreshTokens(), 0)
    // The grant carries on, in another process too: a new worker refreshes the other resource with the rotated token.
    const [next] = await spawnWorkers(1, workerConfig(world, keyPrefix))
    assert.ok(next)
    assert.equal(outcome(await next.request({ op: 'fetch', key: 'crash-early', url: `${world.calendarUrl}events` })), 200)
    assert.equal(world.op.reusedRefreshTokens(), 0)
    assert.deepEqual(await raw.keys(`${keyPrefix}lock:*`), [], 'no lock left behind')
    await next.stop()
  })

  test('killed after the provider rotated the refresh token: the stored one is now a reused one and the provider revokes the grant (login_required)', async (t) => {
    const { parent, keyPrefix } = await killMidRefresh('crash-late', async (victim) => {
      // The provider goes on to process the request (and rotate the refresh token) for a sender that is
      // gone: the new refresh token is lost with it.
      await victim.kill('SIGKILL')
    })
    await assert.rejects(parent.fetch('crash-late', `${world.contactsUrl}/people`), (err) => code(err) === 'login_required')
    // The provider's replay detection did its job: the old token came back once, and the whole grant is revoked.
    assert.equal(world.op.reusedRefreshTokens(), 1)
    assert.equal(await parent.hasGrant('crash-late'), false, 'the dead grant is removed from the store')
    const other = await world.client(instanceOptions(keyPrefix))
    await assert.rejects(other.fetch('crash-late', `${world.calendarUrl}events`), (err) => code(err) === 'login_required')
    t.diagnostic('documented in docs/STORES.md ("A process dies mid-refresh")')
  })
})

describe('logout on one instance', () => {
  let world: Scenario
  before(async () => {
    world = await startScenario()
  })
  after(() => world?.close())

  test('a process that had cached the grant and its tokens gets login_required on its next fetch', async (t) => {
    const keyPrefix = prefix()
    const parent = await world.client(instanceOptions(keyPrefix))
    await world.login(parent, 'leaving')
    await world.login(parent, 'staying', 'bob')
    const [child] = await spawnWorkers(1, workerConfig(world, keyPrefix, {}, true))
    assert.ok(child)

    // The child caches the grant and both tokens in its own process.
    for (const url of [`${world.contactsUrl}/people`, `${world.calendarUrl}events`]) {
      assert.equal(outcome(await child.request({ op: 'fetch', key: 'leaving', url })), 200)
    }
    world.op.resetCounters()
    const seen = world.contacts.requests.length
    assert.equal(outcome(await child.request({ op: 'fetch', key: 'leaving', url: `${world.contactsUrl}/people` })), 200)
    assert.equal(world.op.tokenRequests.length, 0, 'served from the child\'s cache')

    // Make sure the child's subscription is live before the logout, or it could miss the notification.
    const channel = `${keyPrefix}changes`
    const probe = `probe:${randomUUID()}`
    const live = child.next((m) => m.type === 'changed' && m.key === probe, 5000)
    const publishing = setInterval(() => void raw.publish(channel, probe), 20)
    try {
      await live
    } finally {
      clearInterval(publishing)
    }

    const changed = child.next((m) => m.type === 'changed' && m.key.startsWith('grant:'), 5000)
    const loggedOutAt = Date.now()
    const result = await parent.logout('leaving')
    assert.equal(result.revocation.refreshToken, 'revoked')
    // Delivery through pub/sub is asynchronous: wait for the notification to reach the child (its listener
    // runs after the client's own, which was registered first), then fetch.
    await changed
    t.diagnostic(`the logout notification reached the other process ${Date.now() - loggedOutAt} ms after logout() was called`)

    const requestsBefore = world.contacts.requests.length
    for (const url of [`${world.contactsUrl}/people`, `${world.calendarUrl}events`]) {
      assert.equal(outcome(await child.request({ op: 'fetch', key: 'leaving', url })), 'login_required')
    }
    assert.equal(world.contacts.requests.length, requestsBefore, 'the cached token was not sent after logout')
    assert.ok(requestsBefore > seen)
    // Other users on that instance are not affected.
    assert.equal(outcome(await child.request({ op: 'fetch', key: 'staying', url: `${world.contactsUrl}/people` })), 200)
    assert.equal(outcome(await child.request({ op: 'hasGrant', key: 'leaving' })), false)
    await child.stop()
  })
})
