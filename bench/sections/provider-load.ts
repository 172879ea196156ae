// 2. Provider load: token-endpoint requests for a cold burst, and over a sustained run with short-lived tokens,
// for the library and for the hand-rolled baseline (openid-client + a Map, no single-flight).
import { setTimeout as sleep } from 'node:timers/promises'
import type { ResourceClient } from 'resource-tokens'
import { HandRolledClient } from '../lib/hand-rolled.js'
import { minimumTokenRequests, renewalSchedule } from '../lib/renewal-rule.js'
import { burst, clientFetch, outcome, type Outcome } from '../lib/requests.js'
import type { ResourceGroup, StoreKind, World } from '../lib/world.js'

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
  /** When the library renews (renewal-rule.ts): `lifetime - min(skewSeconds (30), lifetime / 2)`. */
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

/** The hand-rolled baseline in the same scenario. */
export interface HandRolledLoadResult {
  scenario: 'burst' | 'sustained'
  fetches: number
  tokenRequests: number
  /** Token requests the provider refused or failed (not 200). */
  failedTokenRequests: number
  minimum: number
  outcome: Outcome
  /** Rotated-away refresh tokens presented again: each makes oidc-provider revoke the grant. */
  reusedRefreshTokens: number
  /** Whether the grant was dead afterwards (one more refresh with the newest refresh token: `invalid_grant`). */
  grantRevoked: boolean
  /** Seconds from the start to the first failed request; undefined when none failed. */
  firstFailureS?: number
  elapsedMs: number
  durationS?: number
  tokenLifetimeS?: number
  inFlight?: number
}

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
 * `lifetimeS` (`world`'s provider issues them), for a memory-backed and a Redis-backed client at the same time;
 * counts token requests per client.
 */
export async function sustained(world: World, options: { durationS: number; lifetimeS: number; inFlight: number; pauseMs: number }): Promise<SustainedResult[]> {
  const { renewAfterS } = renewalSchedule(options.lifetimeS)
  const { minimum, formula } = minimumTokenRequests(options.durationS, options.lifetimeS, 2)
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
    minimumFormula: formula,
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

/** The hand-rolled baseline's cold burst: `total` requests at once for a fresh grant, alternating resources. */
export async function handRolledBurst(world: World, total: number): Promise<HandRolledLoadResult> {
  const group = await world.group('burst-hand-rolled')
  const client = await HandRolledClient.login(world, group)
  const since = await world.op.tokenRequestCount()
  const reusedBefore = await world.op.reusedRefreshTokens()
  const started = performance.now()
  let firstFailure: number | undefined
  const calls = Array.from({ length: total }, (_, i) =>
    client.fetch(group.definitions[i % 2]!, `${i % 2 === 0 ? group.contacts : group.calendar}/items/${i}`).catch((err: unknown) => {
      firstFailure ??= performance.now()
      throw err
    }),
  )
  const result = outcome(await Promise.allSettled(calls))
  const elapsedMs = performance.now() - started
  return finishHandRolled(world, client, group, { scenario: 'burst', fetches: total, minimum: 2, outcome: result, since, reusedBefore, started, firstFailure, elapsedMs })
}

/**
 * The hand-rolled baseline over a sustained run: `inFlight` lanes for `durationS` with tokens of `lifetimeS`
 * (`world`'s provider issues them), as `sustained` runs the library.
 */
export async function handRolledSustained(world: World, options: { durationS: number; lifetimeS: number; inFlight: number; pauseMs: number }): Promise<HandRolledLoadResult> {
  const group = await world.group('sustained-hand-rolled')
  const client = await HandRolledClient.login(world, group)
  const since = await world.op.tokenRequestCount()
  const reusedBefore = await world.op.reusedRefreshTokens()
  const started = performance.now()
  // Its first tokens one at a time (counted with the run's): started cold with 8 in flight it loses its grant
  // at once, as in the burst; warmed up, the run shows what happens at the first renewal under load.
  for (const [i, definition] of group.definitions.entries()) await client.fetch(definition, `${i === 0 ? group.contacts : group.calendar}/first`)
  const deadline = started + options.durationS * 1000
  let fetches = 0
  let firstFailure: number | undefined
  const lanes = Array.from({ length: options.inFlight }, async (_, lane) => {
    const results: Array<PromiseSettledResult<void>> = []
    for (let i = lane; performance.now() < deadline; i += options.inFlight) {
      const url = `${i % 2 === 0 ? group.contacts : group.calendar}/items/${i}`
      results.push(
        await client.fetch(group.definitions[i % 2]!, url).then(
          (value) => ({ status: 'fulfilled' as const, value }),
          (reason: unknown) => {
            firstFailure ??= performance.now()
            return { status: 'rejected' as const, reason }
          },
        ),
      )
      fetches++
      await sleep(options.pauseMs)
    }
    return results
  })
  const result = outcome((await Promise.all(lanes)).flat())
  const { minimum } = minimumTokenRequests(options.durationS, options.lifetimeS, 2)
  return {
    ...(await finishHandRolled(world, client, group, { scenario: 'sustained', fetches, minimum, outcome: result, since, reusedBefore, started, firstFailure, elapsedMs: performance.now() - started })),
    durationS: options.durationS,
    tokenLifetimeS: options.lifetimeS,
    inFlight: options.inFlight,
  }
}

async function finishHandRolled(
  world: World,
  client: HandRolledClient,
  group: ResourceGroup,
  run: { scenario: 'burst' | 'sustained'; fetches: number; minimum: number; outcome: Outcome; since: number; reusedBefore: number; started: number; firstFailure: number | undefined; elapsedMs: number },
): Promise<HandRolledLoadResult> {
  const requests = await world.tokenRequests(run.since, group)
  const reusedRefreshTokens = (await world.op.reusedRefreshTokens()) - run.reusedBefore
  // The probe is one more token request: counted above already, so it does not change the figures.
  const grantRevoked = !(await client.grantAlive(group.definitions[0]!))
  return {
    scenario: run.scenario,
    fetches: run.fetches,
    tokenRequests: requests.length,
    failedTokenRequests: requests.filter((r) => r.status !== 200).length,
    minimum: run.minimum,
    outcome: run.outcome,
    reusedRefreshTokens,
    grantRevoked,
    ...(run.firstFailure === undefined ? {} : { firstFailureS: (run.firstFailure - run.started) / 1000 }),
    elapsedMs: run.elapsedMs,
  }
}
