// 2. Provider load: token-endpoint requests for a cold burst, and over a sustained run with short-lived tokens.
import { setTimeout as sleep } from 'node:timers/promises'
import type { ResourceClient } from 'resource-tokens'
import { burst, clientFetch, outcome, type Outcome } from '../lib/requests.js'
import type { StoreKind, World } from '../lib/world.js'

export interface BurstResult {
  store: StoreKind
  fetches: number
  tokenRequests: number
  minimum: number
  outcome: Outcome
  reusedRefreshTokens: number
  refreshFailedEvents: number
  elapsedMs: number
}

export interface SustainedResult {
  store: StoreKind
  durationS: number
  tokenLifetimeS: number
  /** When the library renews: `lifetime - min(skewSeconds (30), lifetime / 4)`. */
  renewAfterS: number
  inFlight: number
  fetches: number
  tokenRequests: number
  minimum: number
  /** How the minimum is computed, for the report. */
  minimumFormula: string
  outcome: Outcome
  reusedRefreshTokens: number
  refreshFailedEvents: number
}

/** The library's default `skewSeconds`. */
const DEFAULT_SKEW_S = 30

/** `total` concurrent fetches, alternating between two resources, for a grant that has no access token yet. */
export async function coldBurst(world: World, store: StoreKind, total: number): Promise<BurstResult> {
  const group = await world.group(`burst-${store}`)
  const client = await world.client({ store, group })
  const key = `burst-${store}-user`
  await world.login(client, key)
  const failed = countRefreshFailures(client)
  const since = await world.op.tokenRequestCount()
  const reusedBefore = await world.op.reusedRefreshTokens()
  const started = performance.now()
  const result = await burst(client, key, [group.contacts, group.calendar], total)
  const elapsedMs = performance.now() - started
  return {
    store,
    fetches: total,
    tokenRequests: (await world.tokenRequests(since)).length,
    minimum: 2,
    outcome: result,
    reusedRefreshTokens: (await world.op.reusedRefreshTokens()) - reusedBefore,
    refreshFailedEvents: failed(),
    elapsedMs,
  }
}

/**
 * Keeps `inFlight` fetches going for `durationS` (alternating between two resources) with tokens that live
 * `lifetimeS`, for a memory-backed and a Redis-backed client at the same time; counts token requests per client.
 */
export async function sustained(mainWorld: World, options: { durationS: number; lifetimeS: number; inFlight: number; pauseMs: number }): Promise<SustainedResult[]> {
  const renewAfterS = options.lifetimeS - Math.min(DEFAULT_SKEW_S, options.lifetimeS / 4)
  const minimum = 2 * Math.ceil(options.durationS / renewAfterS)
  const world = await mainWorld.withProvider({ accessTokenTTL: options.lifetimeS })
  const setups = await Promise.all(
    (['memory', 'redis'] as const).map(async (store) => {
      const group = await world.group(`sustained-${store}`)
      const client = await world.client({ store, group })
      const key = `sustained-${store}-user`
      await world.login(client, key)
      return { store, group, client, key, failed: countRefreshFailures(client) }
    }),
  )
  const since = await world.op.tokenRequestCount()
  const reusedBefore = await world.op.reusedRefreshTokens()
  const deadline = performance.now() + options.durationS * 1000
  const runs = setups.map(async ({ client, key, group }) => {
    let fetches = 0
    const loops = Array.from({ length: options.inFlight }, async (_, lane) => {
      const results: Array<PromiseSettledResult<void>> = []
      for (let i = lane; performance.now() < deadline; i += options.inFlight) {
        const url = `${i % 2 === 0 ? group.contacts : group.calendar}/items/${i}`
        results.push(await clientFetch(client, key, url).then((value) => ({ status: 'fulfilled' as const, value }), (reason: unknown) => ({ status: 'rejected' as const, reason })))
        fetches++
        // A steady load, not a CPU soak: each lane pauses a little between requests.
        await sleep(options.pauseMs)
      }
      return results
    })
    const settled = (await Promise.all(loops)).flat()
    return { fetches, outcome: outcome(settled) }
  })
  const done = await Promise.all(runs)
  const requests = await world.tokenRequests(since)
  const reused = (await world.op.reusedRefreshTokens()) - reusedBefore
  return setups.map(({ store, group, failed }, index) => ({
    store,
    durationS: options.durationS,
    tokenLifetimeS: options.lifetimeS,
    renewAfterS,
    inFlight: options.inFlight,
    fetches: done[index]!.fetches,
    tokenRequests: requests.filter((r) => r.resource?.some((indicator) => indicator === group.contacts || indicator === group.calendar) === true).length,
    minimum,
    minimumFormula: `2 resources × ceil(${options.durationS} s / ${renewAfterS} s) = ${minimum}`,
    outcome: done[index]!.outcome,
    // The provider counts reuse globally; both clients ran together, so each shows the total.
    reusedRefreshTokens: reused,
    refreshFailedEvents: failed(),
  }))
}

function countRefreshFailures(client: ResourceClient): () => number {
  let count = 0
  client.on('refresh_failed', () => count++)
  return () => count
}
