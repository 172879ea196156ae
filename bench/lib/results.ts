import type { CrossProcessResult } from '../sections/cross-process.js'
import type { HeapFigures, ScaleResult } from '../sections/many-users.js'
import type { BurstResult, SustainedResult } from '../sections/provider-load.js'
import type { TelemetryOverheadResult } from '../sections/telemetry-overhead.js'
import type { WarmOverheadResult } from '../sections/warm-overhead.js'
import type { Machine } from './machine.js'

/** Everything one run measured: written to `bench/results/latest.json`. */
export interface Results {
  startedAt: string
  durationS: number
  quick: boolean
  machine: Machine
  warm?: WarmOverheadResult
  providerLoad?: { bursts: BurstResult[]; sustained: SustainedResult[] }
  crossProcess?: CrossProcessResult
  manyUsers?: { heap: HeapFigures; redis: ScaleResult }
  telemetry?: TelemetryOverheadResult
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
  const warm = results.warm?.summary.sequential
  if (warm !== undefined) {
    targets.push({ name: '(b)/(a) median latency', target: '≤ 1.05', measured: warm.b.ratio.median.toFixed(3), met: warm.b.ratio.median <= 1.05 })
    targets.push({ name: '(c)/(a) median latency', target: '≤ 1.10', measured: warm.c.ratio.median.toFixed(3), met: warm.c.ratio.median <= 1.1 })
  }
  const exact = (name: string, r: { tokenRequests: number; minimum: number; outcome: { failed: number }; reusedRefreshTokens: number }): void => {
    targets.push({
      name,
      target: `${r.minimum} token requests, 0 failures`,
      measured: `${r.tokenRequests} token requests, ${r.outcome.failed} failures, ${r.reusedRefreshTokens} reused refresh tokens`,
      met: r.tokenRequests === r.minimum && r.outcome.failed === 0 && r.reusedRefreshTokens === 0,
    })
  }
  for (const burst of results.providerLoad?.bursts ?? []) exact(`cold burst of ${burst.fetches}, ${storeName(burst.store)}`, burst)
  for (const run of results.providerLoad?.sustained ?? []) exact(`${run.durationS} s with ${run.tokenLifetimeS} s tokens, ${storeName(run.store)}`, run)
  if (results.crossProcess !== undefined) exact(`cross-process burst, ${results.crossProcess.processes} processes`, results.crossProcess)
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
