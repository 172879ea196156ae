import type { CrossProcessResult } from '../sections/cross-process.js'
import type { LibraryCpuResult } from '../sections/library-cpu.js'
import type { HeapFigures, ScaleResult } from '../sections/many-users.js'
import type { BurstResult, HandRolledLoadResult, SustainedResult } from '../sections/provider-load.js'
import type { RenewalResult } from '../sections/renewal.js'
import type { TelemetryOverheadResult } from '../sections/telemetry-overhead.js'
import { VARIANTS, type TransportsResult, type VariantId } from '../sections/transports.js'
import type { Machine } from './machine.js'

/** Everything one run measured: written to `bench/results/latest.json`. */
export interface Results {
  startedAt: string
  durationS: number
  quick: boolean
  machine: Machine
  transports?: TransportsResult
  libraryCpu?: LibraryCpuResult
  providerLoad?: { bursts: BurstResult[]; sustained: SustainedResult[]; handRolled?: HandRolledLoadResult[] }
  crossProcess?: CrossProcessResult
  manyUsers?: { heap: HeapFigures; redis: ScaleResult }
  telemetry?: TelemetryOverheadResult
  renewal?: RenewalResult
  targets: Target[]
}

export interface Target {
  name: string
  target: string
  measured: string
  met: boolean
}

/** Flat means within this fraction of the 100-grant figure. */
export const FLAT_TOLERANCE = 0.05

export function evaluateTargets(results: Omit<Results, 'targets'>): Target[] {
  const targets: Target[] = []
  transportTargets(results.transports, targets)
  const cpu = results.libraryCpu
  if (cpu !== undefined) {
    for (const id of ['fetchMemory', 'fetchRedis', 'requestMemory', 'requestRedis'] as const) {
      const baseline = id.startsWith('fetch') ? 'fetchBase' : 'requestBase'
      const perRepetition = cpu.cpuUs[id].perRepetition.map((v, i) => v - cpu.cpuUs[baseline].perRepetition[i]!)
      targets.push({
        name: `${VARIANTS.find((v) => v.id === id)!.label.replace(/, undici Agent$/, '')}: CPU per request beyond its transport, transport stubbed (1b)`,
        target: `≤ ${TRANSPORT_TARGETS.extraCpuUs} µs`,
        measured: `${cpu.libraryUs[id].toFixed(1)} µs (repetitions ${perRepetition.map((v) => v.toFixed(1)).join(', ')})`,
        met: cpu.libraryUs[id] <= TRANSPORT_TARGETS.extraCpuUs,
      })
    }
  }
  const exact = (name: string, r: { tokenRequests: number; minimum: number; outcome: { failed: number }; reusedRefreshTokens: number }): void => {
    targets.push({
      name,
      target: `≤ ${r.minimum} token requests (renewal rule), 0 failures`,
      measured: `${r.tokenRequests} token requests, ${r.outcome.failed} failures, ${r.reusedRefreshTokens} reused refresh tokens`,
      met: r.tokenRequests <= r.minimum && r.outcome.failed === 0 && r.reusedRefreshTokens === 0,
    })
  }
  for (const burst of results.providerLoad?.bursts ?? []) exact(`cold burst of ${burst.fetches}, ${storeName(burst.store)}`, burst)
  for (const run of results.providerLoad?.sustained ?? []) exact(`${run.durationS} s with ${run.tokenLifetimeS} s tokens, ${storeName(run.store)}`, run)
  if (results.crossProcess !== undefined) exact(`cross-process burst, ${results.crossProcess.processes} processes`, results.crossProcess)
  for (const run of results.renewal?.load ?? []) {
    targets.push({
      name: `renewal under load, ${storeName(run.store)}: p99 of requests during renewals / warm p99`,
      target: '≤ 1.10',
      measured: `${run.p99Ratio.toFixed(2)} (${run.inRenewal.p99Us.toFixed(0)} / ${run.warm.p99Us.toFixed(0)} µs, ${run.inRenewal.requests} requests during ${run.renewals} renewals; control windows ${run.control.p99Ratio.toFixed(2)})`,
      met: run.p99Ratio <= 1.1,
    })
    exact(`renewal under load, ${storeName(run.store)}: ${run.durationS} s with ${run.tokenLifetimeS} s tokens`, run)
  }
  for (const client of results.renewal?.outage?.clients ?? []) {
    const o = results.renewal!.outage!
    targets.push({
      name: `token endpoint down ${o.outageS} s from renewal, ${o.tokenLifetimeS} s tokens, ${storeName(client.store)}`,
      target: '0 failed requests, renewed after the outage',
      measured: `${client.outcome.failed} failed of ${client.fetches}; ${client.refreshFailedEvents} refresh_failed events; renewed ${client.renewedAfterS === undefined ? 'never' : `at ${client.renewedAfterS.toFixed(1)} s`}`,
      met: client.outcome.failed === 0 && client.renewedAfterS !== undefined,
    })
  }
  const telemetry = results.telemetry
  if (telemetry !== undefined) {
    targets.push({ name: 'warm fetch, telemetry on / off (median latency)', target: '≤ 1.01', measured: telemetry.summary.ratio.toFixed(3), met: telemetry.summary.ratio <= 1.01 })
  }
  const heap = results.manyUsers?.heap
  if (heap !== undefined) {
    targets.push({ name: 'heap per cached token beyond its bytes', target: '≤ 2048 B', measured: `${Math.round(heap.overheadPerCachedToken)} B`, met: heap.overheadPerCachedToken <= 2048 })
  }
  const scale = results.manyUsers?.redis
  if (scale !== undefined) {
    const first = scale.points[0]!.grants
    const last = scale.points[scale.points.length - 1]!.grants
    for (const variant of ['cached', 'uncached'] as const) {
      const change = scale.change[variant]
      targets.push({
        name: `fetch latency ${first} → ${last} grants in Redis (${variant === 'cached' ? 'grant cache on' : 'grant cache off'})`,
        // One-sided: "flat" is about latency not growing with the number of grants; a run where the larger
        // keyspace happened to be faster is noise, not a miss.
        target: `flat (at most +${FLAT_TOLERANCE * 100} %)`,
        measured: `${change >= 1 ? '+' : ''}${((change - 1) * 100).toFixed(1)} %`,
        met: change - 1 <= FLAT_TOLERANCE,
      })
    }
  }
  return targets
}

export function storeName(store: 'memory' | 'redis'): string {
  return store === 'memory' ? 'MemoryStore' : 'RedisStore'
}

/** The bounds of issue 17 for the library's warm path. */
export const TRANSPORT_TARGETS = { extraCpuUs: 5, median: 1.02, p99: 1.1, fastPathRps: 2 } as const

function transportTargets(t: TransportsResult | undefined, targets: Target[]): void {
  if (t === undefined) return
  const label = (id: VariantId): string => VARIANTS.find((v) => v.id === id)!.label
  const baseline = (id: VariantId): string => VARIANTS.find((v) => v.id === VARIANTS.find((w) => w.id === id)!.against)!.id
  const per = (id: VariantId, pick: (f: NonNullable<TransportsResult['levels'][number]['summary'][VariantId]>) => number, digits: number): { values: string; all: number[] } | undefined => {
    const all = t.levels.map((level) => level.summary[id]).filter((f) => f !== undefined).map(pick)
    if (all.length === 0) return undefined
    return { values: t.levels.map((level, i) => `${level.inFlight} in flight: ${all[i]!.toFixed(digits)}`).join(', '), all }
  }
  // The same figure for the baseline measured against itself: the resolution of each ratio in this run.
  const controlOf = (id: VariantId): VariantId => (baseline(id) === 'fetch' ? 'fetchControl' : 'undiciControl')
  const withControl = (id: VariantId, pick: (f: NonNullable<TransportsResult['levels'][number]['summary'][VariantId]>) => number, digits: number, values: string): string => {
    const control = per(controlOf(id), pick, digits)
    return control === undefined ? values : `${values} (control, the baseline against itself: ${control.values})`
  }
  for (const id of ['fetchMemory', 'fetchRedis', 'requestMemory', 'requestRedis'] as const) {
    const missing = t.unavailable[id]
    if (missing !== undefined) {
      targets.push({ name: `${label(id)}: warm path`, target: `CPU ≤ ${TRANSPORT_TARGETS.extraCpuUs} µs, median ≤ ${TRANSPORT_TARGETS.median}, p99 ≤ ${TRANSPORT_TARGETS.p99.toFixed(2)}`, measured: missing, met: false })
      continue
    }
    const pair = t.paired[id]
    const pairControl = t.paired[controlOf(id)]
    if (pair !== undefined) {
      targets.push({
        name: `${label(id)}: client CPU per request beyond ${baseline(id)}, pair by pair at 1 in flight`,
        target: `≤ ${TRANSPORT_TARGETS.extraCpuUs} µs`,
        measured: `median ${pair.medianUs.toFixed(1)} µs, trimmed mean ${pair.trimmedMeanUs.toFixed(1)} µs over ${pair.pairs} pairs${pairControl === undefined ? '' : ` (control, the baseline against itself: median ${pairControl.medianUs.toFixed(1)}, trimmed mean ${pairControl.trimmedMeanUs.toFixed(1)})`}`,
        met: pair.medianUs <= TRANSPORT_TARGETS.extraCpuUs && pair.trimmedMeanUs <= TRANSPORT_TARGETS.extraCpuUs,
      })
    }
    const cpu = per(id, (f) => f.extraCpuUs, 1)!
    targets.push({ name: `${label(id)}: client CPU per request beyond ${baseline(id)}, window totals`, target: `≤ ${TRANSPORT_TARGETS.extraCpuUs} µs`, measured: withControl(id, (f) => f.extraCpuUs, 1, cpu.values), met: cpu.all.every((v) => v <= TRANSPORT_TARGETS.extraCpuUs) })
    const med = per(id, (f) => f.vsTransport.median, 3)!
    targets.push({ name: `${label(id)}: median latency / ${baseline(id)}`, target: `≤ ${TRANSPORT_TARGETS.median}`, measured: withControl(id, (f) => f.vsTransport.median, 3, med.values), met: med.all.every((v) => v <= TRANSPORT_TARGETS.median) })
    const p99 = per(id, (f) => f.vsTransport.p99, 2)!
    targets.push({ name: `${label(id)}: p99 latency / ${baseline(id)}`, target: `≤ ${TRANSPORT_TARGETS.p99.toFixed(2)}`, measured: withControl(id, (f) => f.vsTransport.p99, 2, p99.values), met: p99.all.every((v) => v <= TRANSPORT_TARGETS.p99) })
  }
  const busiest = t.levels.at(-1)!
  for (const id of ['requestMemory', 'requestRedis'] as const) {
    const f = busiest.summary[id]
    targets.push({
      name: `${label(id)}: throughput at ${busiest.inFlight} in flight / global fetch`,
      target: `≥ ${TRANSPORT_TARGETS.fastPathRps.toFixed(1)}`,
      measured: f === undefined ? (t.unavailable[id] ?? 'n/a') : `${f.rpsVsFetch.toFixed(2)} (${f.rps.toFixed(0)} req/s)`,
      met: f !== undefined && f.rpsVsFetch >= TRANSPORT_TARGETS.fastPathRps,
    })
  }
}
