// @ts-nocheck
// Issue 12, item 9: the distributed deployments users run, for real. A Redis Cluster (3 masters + 3 replicas on
// loopback, `redis-cli --cluster create`) with `CLUSTER FAILOVER` on replicas during load, and a Sentinel setup
// (master + 2 replicas + 3 sentinels, Debian redis-sentinel) with `SENTINEL FAILOVER` during load. Three app instances
// in this process, each with its own ioredis client (Cluster / Sentinel) passed to RedisStore, share four grants.
// What must hold, whatever the failover does: no request reaches a resource server without a token, the provider
// never sees a refresh token twice, every failure is a typed ResourceTokensError, and afterwards each grant either
// works or is reported as login_required. Change notifications work again after the failover.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { Cluster, Redis } from 'ioredis'
import { type ResourceClient } from 'resource-tokens'
import { RedisStore } from 'resource-tokens/redis'
import { code } from '../support/errors.js'
import { cli, startRedisCluster, startRedisSentinel, type TestRedisCluster, type TestRedisSentinel } from '../support/redis-topology.js'
import { startScenario, type Scenario } from '../support/scenario.js'

const SECRET = 'redis-failover-test-secret-0123456789abcdef'
const USERS = ['ada', 'bob', 'cyd', 'dee']
const INSTANCES = 3
const LOAD_MS = 12_000

let world: Scenario

before(async () => {
  // Tokens live 4 s and are renewed at 3 s: renewals (lock, refresh, compare-and-set) keep coming during a failover.
  world = await startScenario({ provider: { accessTokenTTL: 4 }, resourceClockToleranceSeconds: 5 })
})
after(() => world?.close())

interface RunResult {
  outcomes: Record<string, number>
  untyped: string[]
  requestsWithoutToken: number
  requests: number
}

/** Keeps fetches in flight from every instance, for every user and both resources, while `during` runs. */
async function load(instances: ResourceClient[], during: () => Promise<void>): Promise<RunResult> {
  const outcomes: Record<string, number> = {}
  const untyped: string[] = []
  const urls = [`${world.contactsUrl}/people`, `${world.calendarUrl}events`]
  let running = true
  let turn = 0
  const lane = async (client: ResourceClient): Promise<void> => {
    while (running) {
      const i = turn++
      const user = USERS[i % USERS.length] as string
      let result: string
      try {
        const res = await client.fetch(user, urls[Math.floor(i / USERS.length) % urls.length] as string)
        await res.arrayBuffer()
        result = res.status === 200 ? 'ok' : `http_${res.status}`
      } catch (err) {
        const c = code(err)
        if (c === undefined) untyped.push(String(err))
        result = c ?? 'untyped'
      }
      outcomes[result] = (outcomes[result] ?? 0) + 1
      if (result !== 'ok') await sleep(20)
    }
  }
  const before = { contacts: world.contacts.requests.length, calendar: world.calendar.requests.length }
  const lanes = instances.flatMap((client) => Array.from({ length: 4 }, () => lane(client)))
  try {
    await during()
  } finally {
    running = false
    await Promise.all(lanes)
  }
  const requests = [...world.contacts.requests.slice(before.contacts), ...world.calendar.requests.slice(before.calendar)]
  const requestsWithoutToken = requests.filter((r) => !/^(Bearer|DPoP) [^ ]+$/.test(String(r.headers['authorization'] ?? ''))).length
  return { outcomes, untyped, requestsWithoutToken, requests: requests.length }
}

/**
 * After the run: each grant works or is reported as login_required, consistently with hasGrant. While the store
 * still refuses writes (store_unavailable) it is asked again, for up to `settleMs`.
 */
async function grantsAfter(client: ResourceClient, settleMs = 0): Promise<Record<string, string>> {
  const states: Record<string, string> = {}
  const deadline = Date.now() + settleMs
  for (const user of USERS) {
    let state: string
    for (;;) {
      try {
        const res = await client.fetch(user, `${world.calendarUrl}events`)
        await res.arrayBuffer()
        state = res.status === 200 ? 'works' : `http_${res.status}`
      } catch (err) {
        state = code(err) ?? `untyped:${String(err)}`
      }
      if (state !== 'store_unavailable' || Date.now() > deadline) break
      await sleep(250)
    }
    if (state === 'login_required') assert.equal(await client.hasGrant(user), false, `${user}: login_required means the grant is gone`)
    states[user] = state
  }
  return states
}

/** Resolves how long a write through `from` took to reach a listener of `to` (the notification path after failover). */
async function notificationDelay(from: RedisStore, to: RedisStore): Promise<number> {
  const key = `probe:${randomUUID()}`
  const started = Date.now()
  const heard = new Promise<void>((resolve) => {
    const stop = to.subscribe((k) => {
      if (k === key) {
        stop()
        resolve()
      }
    })
  })
  // Retried: the subscriber connection may still be coming back.
  let done = false
  void heard.then(() => (done = true))
  while (!done && Date.now() - started < 10_000) {
    await from.set(key, 'x', { ttlSeconds: 10 }).catch(() => undefined)
    await Promise.race([heard, sleep(250)])
  }
  assert.ok(done, 'a change notification crossed between instances after the failover')
  return Date.now() - started
}

function assertInvariants(name: string, run: RunResult): void {
  assert.deepEqual(run.untyped, [], `${name}: every failure is a typed ResourceTokensError`)
  assert.equal(run.requestsWithoutToken, 0, `${name}: no request was sent without a token`)
  assert.equal(world.op.reusedRefreshTokens(), 0, `${name}: the provider never saw a refresh token twice`)
  assert.ok(run.outcomes['ok'] !== undefined && run.outcomes['ok'] > 0, `${name}: fetches went through`)
  assert.ok(world.op.tokenRequests.length > 0, `${name}: tokens were renewed during the run`)
}

describe('Redis Cluster: 3 masters + 3 replicas, CLUSTER FAILOVER of every master during load', () => {
  let cluster: TestRedisCluster
  const clients: Cluster[] = []
  const stores: RedisStore[] = []
  before(async () => {
    cluster = await startRedisCluster({ masters: 3, replicas: 1 })
  })
  after(async () => {
    await Promise.all(stores.map((s) => s.close()))
    for (const c of clients) c.disconnect()
    await cluster?.stop()
  })

  function clusterStore(keyPrefix: string): RedisStore {
    // The client options docs/STORES.md recommends for a Cluster.
    const client = new Cluster([...cluster.startupNodes], { enableOfflineQueue: false, redisOptions: { maxRetriesPerRequest: 1, commandTimeout: 2000 } })
    client.on('error', () => {})
    clients.push(client)
    const store = new RedisStore({ client, keyPrefix })
    stores.push(store)
    return store
  }

  test('no request without a token, no refresh token twice, only typed failures; grants survive or say login_required', async (t) => {
    const keyPrefix = `cl:${randomUUID().slice(0, 8)}:`
    const instanceStores = Array.from({ length: INSTANCES }, () => clusterStore(keyPrefix))
    const instances = await Promise.all(instanceStores.map((store) => world.client({ store, encryption: { secrets: [SECRET] } })))
    for (const [i, user] of USERS.entries()) await world.login(instances[i % INSTANCES] as ResourceClient, user)
    world.op.resetCounters()

    // The grants, transactions and locks are spread over the masters: single-key scripts, no slot is shared.
    const keysPerMaster = await Promise.all((await cluster.roles()).filter((r) => r.role === 'master').map(async (r) => Number(await cli(r.port, 'dbsize'))))
    const failovers: Array<{ newMasterPort: number; ms: number }> = []
    const startedAt = Date.now()
    const run = await load(instances, async () => {
      await sleep(2500)
      for (const master of (await cluster.roles()).filter((r) => r.role === 'master')) {
        failovers.push(await cluster.failover(master.port))
        await sleep(1500)
      }
      await sleep(Math.max(0, startedAt + LOAD_MS - Date.now()))
    })
    const states = await grantsAfter(instances[1] as ResourceClient)
    const delayMs = await notificationDelay(instanceStores[0] as RedisStore, instanceStores[2] as RedisStore)
    const figures = { keysPerMaster, failovers, ...run, untyped: run.untyped.slice(0, 3), refreshes: world.op.tokenRequests.length, reused: world.op.reusedRefreshTokens(), grants: states, notificationAfterFailoverMs: delayMs }
    t.diagnostic(`cluster failover: ${JSON.stringify(figures)}`)
    console.log('redis cluster failover', figures)

    assert.ok(keysPerMaster.filter((n) => n > 0).length >= 2, 'records live on more than one master')
    assert.equal(failovers.length, 3)
    assertInvariants('cluster', run)
    for (const [user, state] of Object.entries(states)) assert.ok(state === 'works' || state === 'login_required', `${user}: ${state}`)
  })
})

describe('Redis Sentinel: master + 2 replicas + 3 sentinels, SENTINEL FAILOVER during load', () => {
  let sentinel: TestRedisSentinel
  const clients: Redis[] = []
  const stores: RedisStore[] = []
  before(async () => {
    sentinel = await startRedisSentinel()
  })
  after(async () => {
    await Promise.all(stores.map((s) => s.close()))
    for (const c of clients) c.disconnect()
    await sentinel?.stop()
  })

  function sentinelStore(keyPrefix: string): RedisStore {
    // The client options docs/STORES.md recommends with Sentinel.
    const client = new Redis({
      sentinels: [...sentinel.sentinels],
      name: sentinel.name,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 2000,
      failoverDetector: true,
    })
    client.on('error', () => {})
    clients.push(client)
    // waitReplicas = every replica: without it, writes that reach the old master between the promotion and its
    // demotion are lost (a rotated refresh token among them) and two masters hand out the same lock; with fewer than
    // all, a replica not yet moved to the new master still acknowledges them. Measured both ways, every grant was
    // revoked by the provider's reuse detection (docs/STORES.md).
    const store = new RedisStore({ client, keyPrefix, waitReplicas: 2 })
    stores.push(store)
    return store
  }

  test('(waitReplicas 2, every replica) no request without a token, no refresh token twice, only typed failures; grants survive or say login_required', async (t) => {
    const keyPrefix = `se:${randomUUID().slice(0, 8)}:`
    const instanceStores = Array.from({ length: INSTANCES }, () => sentinelStore(keyPrefix))
    const instances = await Promise.all(instanceStores.map((store) => world.client({ store, encryption: { secrets: [SECRET] } })))
    for (const [i, user] of USERS.entries()) await world.login(instances[i % INSTANCES] as ResourceClient, user)
    world.op.resetCounters()

    let failover: { from: number; to: number; ms: number } | undefined
    const startedAt = Date.now()
    const run = await load(instances, async () => {
      await sleep(3000)
      failover = await sentinel.failover()
      await sleep(Math.max(0, startedAt + LOAD_MS - Date.now()))
    })
    const settling = Date.now()
    const states = await grantsAfter(instances[1] as ResourceClient, 20_000)
    const writesBackAfterMs = Date.now() - settling
    const delayMs = await notificationDelay(instanceStores[0] as RedisStore, instanceStores[2] as RedisStore)
    const figures = { failover, ...run, untyped: run.untyped.slice(0, 3), refreshes: world.op.tokenRequests.length, reused: world.op.reusedRefreshTokens(), grants: states, writesBackAfterMs, notificationAfterFailoverMs: delayMs }
    t.diagnostic(`sentinel failover: ${JSON.stringify(figures)}`)
    console.log('redis sentinel failover', figures)

    assert.ok(failover !== undefined && failover.to !== failover.from)
    assertInvariants('sentinel', run)
    for (const [user, state] of Object.entries(states)) assert.ok(state === 'works' || state === 'login_required', `${user}: ${state}`)
  })
})
