// 6. Renewal: what requests see while tokens are renewed.
//   A. A sustained load with short-lived tokens: latency of the requests in flight while a renewal runs
//      against the others, and token requests against the renewal rule's minimum.
//   B. The token endpoint failing (503 temporarily_unavailable) for a while from the moment renewal is due:
//      requests must keep succeeding on the still-valid token until the endpoint is back.
import { setTimeout as sleep } from 'node:timers/promises'
import type { ResourceClient } from 'resource-tokens'
import { percentile } from '../lib/load.js'
import { minimumTokenRequests, renewalSchedule } from '../lib/renewal-rule.js'
import { clientFetch, outcome, type Outcome } from '../lib/requests.js'
import type { ResourceGroup, StoreKind, World } from '../lib/world.js'

export interface LatencySet {
  requests: number
  medianUs: number
  p99Us: number
  maxUs: number
}

export interface RenewalLoadResult {
  store: StoreKind
  durationS: number
  tokenLifetimeS: number
  renewAfterS: number
  inFlight: number
  pauseMs: number
  fetches: number
  outcome: Outcome
  tokenRequests: number
  minimum: number
  minimumFormula: string
  /** Renewals seen (token requests after each resource's first). */
  renewals: number
  /** How long renewals took, from the provider receiving the request to the client's `token` event. */
  renewalMs: { median: number; max: number }
  /** Requests in flight at some moment of a renewal (their start-to-end overlaps one). */
  inRenewal: LatencySet
  /** Requests that overlap no renewal and no control window (and not the first tokens' requests either). */
  warm: LatencySet
  /** `inRenewal.p99Us / warm.p99Us`: the target is at most 1.10. */
  p99Ratio: number
  /**
   * A control for the noise of the machine: the same windows shifted by half a renewal period, where nothing
   * renews. Its requests against the warm ones (both excluding the real windows) should be about 1.00; a
   * ratio well above it says the machine, not the renewal, made the difference.
   */
  control: LatencySet & { p99Ratio: number }
  reusedRefreshTokens: number
  refreshFailedEvents: number
}

export interface OutageClientResult {
  store: StoreKind
  fetches: number
  outcome: Outcome
  refreshFailedEvents: number
  refreshFailedCodes: Record<string, number>
  tokenRequests: number
  /** Token requests answered with the injected 503. */
  failedTokenRequests: number
  /** Seconds from the first token until every resource had a new token after the outage; undefined if one did not. */
  renewedAfterS: number | undefined
  /** Latency of the requests that started during the outage. */
  duringOutage: LatencySet
}

export interface OutageResult {
  tokenLifetimeS: number
  renewAfterS: number
  /** Until when a token is served while its renewal keeps failing, seconds after it was requested. */
  servedUntilS: number
  outageS: number
  /** The outage, in seconds after the first token was requested. */
  outageFromS: number
  outageUntilS: number
  inFlight: number
  pauseMs: number
  fault: string
  clients: OutageClientResult[]
}

export interface RenewalResult {
  load: RenewalLoadResult[]
  outage?: OutageResult
}

interface Recorded {
  starts: number[]
  ends: number[]
  failedStarts: number[]
}

/** Runs `inFlight` lanes of fetches (alternating resources, `pauseMs` between) until `stop()` says so. */
async function load(client: ResourceClient, key: string, group: ResourceGroup, inFlight: number, pauseMs: number, stop: () => boolean): Promise<{ recorded: Recorded; outcome: Outcome; fetches: number }> {
  const recorded: Recorded = { starts: [], ends: [], failedStarts: [] }
  let fetches = 0
  const lanes = Array.from({ length: inFlight }, async (_, lane) => {
    const results: Array<PromiseSettledResult<void>> = []
    for (let i = lane; !stop(); i += inFlight) {
      const url = `${i % 2 === 0 ? group.contacts : group.calendar}/items/${i}`
      const start = performance.now()
      try {
        await clientFetch(client, key, url)
        recorded.starts.push(start)
        recorded.ends.push(performance.now())
        results.push({ status: 'fulfilled', value: undefined })
      } catch (reason) {
        recorded.failedStarts.push(start)
        results.push({ status: 'rejected', reason })
      }
      fetches++
      if (pauseMs > 0) await sleep(pauseMs)
    }
    return results
  })
  return { recorded, outcome: outcome((await Promise.all(lanes)).flat()), fetches }
}

function latencySet(values: number[]): LatencySet {
  const sorted = Float64Array.from(values).sort()
  return { requests: sorted.length, medianUs: percentile(sorted, 0.5), p99Us: percentile(sorted, 0.99), maxUs: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]! }
}

/** The provider's clock (epoch ms) on this process's `performance.now()` scale. */
const toPerf = (epochMs: number): number => epochMs - performance.timeOrigin

function tokenEvents(client: ResourceClient): Array<{ resource: string; at: number }> {
  const events: Array<{ resource: string; at: number }> = []
  client.on('token', (e) => events.push({ resource: e.resource, at: performance.now() }))
  return events
}

function refreshFailures(client: ResourceClient): Record<string, number> {
  const codes: Record<string, number> = {}
  client.on('refresh_failed', (e) => (codes[e.code] = (codes[e.code] ?? 0) + 1))
  return codes
}

/** Scenario A for one store: `durationS` of load from a cold start, with `world`'s short-lived tokens. */
export async function renewalUnderLoad(world: World, store: StoreKind, options: { durationS: number; lifetimeS: number; inFlight: number; pauseMs: number }): Promise<RenewalLoadResult> {
  const group = await world.group(`renewal-${store}`)
  const client = await world.client({ store, group })
  const key = `renewal-${store}-user`
  await world.login(client, key)
  const events = tokenEvents(client)
  const failures = refreshFailures(client)
  const since = await world.op.tokenRequestCount()
  const reusedBefore = await world.op.reusedRefreshTokens()
  const deadline = performance.now() + options.durationS * 1000
  const run = await load(client, key, group, options.inFlight, options.pauseMs, () => performance.now() >= deadline)
  const records = await world.tokenRequests(since, group)
  const nameOf = new Map(group.definitions.map((d) => [d.indicator!, d.name!]))

  // One window per token request: from its arrival at the provider (1 ms either side for the clocks' ms
  // resolution) to the client's next `token` event for that resource.
  const windows: Array<{ from: number; to: number; first: boolean }> = []
  const seen = new Set<string>()
  for (const record of [...records].sort((a, b) => a.at - b.at)) {
    const name = nameOf.get(record.resource?.[0] ?? '')
    if (name === undefined) continue
    const from = toPerf(record.at) - 1
    const event = events.find((e) => e.resource === name && e.at >= from)
    windows.push({ from, to: (event?.at ?? deadline) + 1, first: !seen.has(name) })
    seen.add(name)
  }
  const renewals = windows.filter((w) => !w.first)
  const shift = (renewalSchedule(options.lifetimeS).renewAfterS * 1000) / 2
  const controls = renewals.map((w) => ({ from: w.from + shift, to: w.to + shift }))
  const inRenewal: number[] = []
  const inControl: number[] = []
  const warm: number[] = []
  const { starts, ends } = run.recorded
  for (let i = 0; i < starts.length; i++) {
    const start = starts[i]!
    const end = ends[i]!
    const overlaps = windows.filter((w) => start <= w.to && end >= w.from)
    const latency = (end - start) * 1000
    if (overlaps.length > 0) {
      if (overlaps.every((w) => !w.first)) inRenewal.push(latency)
    } else if (controls.some((w) => start <= w.to && end >= w.from)) inControl.push(latency)
    else warm.push(latency)
  }
  const durations = renewals.map((w) => w.to - w.from - 2).sort((a, b) => a - b)
  const { minimum, formula } = minimumTokenRequests(options.durationS, options.lifetimeS, 2)
  const inSet = latencySet(inRenewal)
  const warmSet = latencySet(warm)
  return {
    store,
    durationS: options.durationS,
    tokenLifetimeS: options.lifetimeS,
    renewAfterS: renewalSchedule(options.lifetimeS).renewAfterS,
    inFlight: options.inFlight,
    pauseMs: options.pauseMs,
    fetches: run.fetches,
    outcome: run.outcome,
    tokenRequests: records.length,
    minimum,
    minimumFormula: formula,
    renewals: renewals.length,
    renewalMs: { median: percentile(durations, 0.5), max: durations.at(-1) ?? Number.NaN },
    inRenewal: inSet,
    warm: warmSet,
    p99Ratio: inSet.p99Us / warmSet.p99Us,
    control: { ...latencySet(inControl), p99Ratio: latencySet(inControl).p99Us / warmSet.p99Us },
    reusedRefreshTokens: (await world.op.reusedRefreshTokens()) - reusedBefore,
    refreshFailedEvents: Object.values(failures).reduce((sum, n) => sum + n, 0),
  }
}

/**
 * Scenario B: a MemoryStore and a RedisStore client side by side, tokens of `lifetimeS`, and the token
 * endpoint answering 503 `temporarily_unavailable` for `outageS` from the moment the first renewal is due.
 * The load runs from the first tokens until every token has been renewed after the outage (or until a
 * while after the tokens expired, if one is not).
 */
export async function renewalOutage(world: World, options: { lifetimeS: number; outageS: number; inFlight: number; pauseMs: number }): Promise<OutageResult> {
  const schedule = renewalSchedule(options.lifetimeS)
  const setups = await Promise.all(
    (['memory', 'redis'] as const).map(async (store) => {
      const group = await world.group(`outage-${store}`)
      const client = await world.client({ store, group })
      const key = `outage-${store}-user`
      await world.login(client, key)
      return { store, group, client, key, events: tokenEvents(client), failures: refreshFailures(client) }
    }),
  )
  const since = await world.op.tokenRequestCount()
  // The first tokens, all at once.
  await Promise.all(setups.flatMap(({ client, key, group }) => [clientFetch(client, key, `${group.contacts}/first`), clientFetch(client, key, `${group.calendar}/first`)]))
  const first = await world.tokenRequests(since)
  const issuedAt = Math.min(...first.map((r) => r.at))
  // A quarter of a second early, so that the first renewal attempt certainly meets the outage.
  const outageFrom = issuedAt + schedule.renewAfterS * 1000 - 250
  const outageUntil = issuedAt + schedule.renewAfterS * 1000 + options.outageS * 1000
  const fault = { status: 503, body: '{"error":"temporarily_unavailable"}' }
  await world.op.failTokenRequestsBetween(outageFrom, outageUntil, fault)

  const renewedAt = (events: Array<{ resource: string; at: number }>, group: ResourceGroup): number | undefined => {
    const times = group.definitions.map((d) => events.find((e) => e.resource === d.name && e.at >= toPerf(outageUntil))?.at)
    return times.some((t) => t === undefined) ? undefined : Math.max(...(times as number[]))
  }
  // Stop when every token was renewed after the outage, or 10 s after the tokens expired.
  const giveUp = toPerf(issuedAt) + (options.lifetimeS + 10) * 1000
  const done = (): boolean => performance.now() >= giveUp || (performance.now() >= toPerf(outageUntil) && setups.every((s) => renewedAt(s.events, s.group) !== undefined))
  const runs = await Promise.all(setups.map(({ client, key, group }) => load(client, key, group, options.inFlight, options.pauseMs, done)))
  const records = await world.tokenRequests(since)
  return {
    tokenLifetimeS: options.lifetimeS,
    renewAfterS: schedule.renewAfterS,
    servedUntilS: schedule.servedUntilS,
    outageS: options.outageS,
    outageFromS: (outageFrom - issuedAt) / 1000,
    outageUntilS: (outageUntil - issuedAt) / 1000,
    inFlight: options.inFlight,
    pauseMs: options.pauseMs,
    fault: `HTTP ${fault.status} ${fault.body}`,
    clients: setups.map(({ store, group, events, failures }, i) => {
      const ours = records.filter((r) => r.resource?.some((indicator) => indicator === group.contacts || indicator === group.calendar) === true)
      const renewed = renewedAt(events, group)
      const { starts, ends } = runs[i]!.recorded
      const during: number[] = []
      for (let j = 0; j < starts.length; j++) if (starts[j]! >= toPerf(outageFrom) && starts[j]! < toPerf(outageUntil)) during.push((ends[j]! - starts[j]!) * 1000)
      return {
        store,
        fetches: runs[i]!.fetches,
        outcome: runs[i]!.outcome,
        refreshFailedEvents: Object.values(failures).reduce((sum, n) => sum + n, 0),
        refreshFailedCodes: failures,
        tokenRequests: ours.length,
        failedTokenRequests: ours.filter((r) => r.status !== 200).length,
        renewedAfterS: renewed === undefined ? undefined : (renewed - toPerf(issuedAt)) / 1000,
        duringOutage: latencySet(during),
      }
    }),
  }
}
