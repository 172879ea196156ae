import { VARIANTS } from '../sections/warm-overhead.js'
import { storeName, type Results } from './results.js'

/** The run as Markdown tables: printed, and pasted as is into docs/BENCHMARKS.md. */
export function markdown(results: Results): string {
  const out: string[] = []
  const m = results.machine
  out.push(`Run of ${results.startedAt.slice(0, 16).replace('T', ' ')} UTC${results.quick ? ' (quick mode: shorter, not for publishing)' : ''}, ${results.durationS.toFixed(0)} s in all.`)
  out.push(`Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.kernel}, Node ${m.node}, Redis ${m.redis}; load average ${m.loadAverage.start.toFixed(2)} at the start, ${m.loadAverage.end.toFixed(2)} at the end.`)
  out.push('')

  const warm = results.warm
  if (warm !== undefined) {
    out.push(`### 1. Warm overhead (medians of ${warm.repetitions} alternating repetitions)`)
    out.push('')
    out.push('| variant | req/s | median µs | p99 µs | median ×(a) | p99 ×(a) | req/s ×(a) | client CPU µs/req | CPU beyond (a) |')
    out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
    for (const [label, set] of [['1 in flight', warm.summary.sequential], [`${warm.concurrency} in flight`, warm.summary.concurrent]] as const) {
      for (const variant of VARIANTS) {
        const f = set[variant.id]
        out.push(`| ${variant.label}, ${label} | ${f.rps.toFixed(0)} | ${f.medianUs.toFixed(0)} | ${f.p99Us.toFixed(0)} | ${f.ratio.median.toFixed(3)} | ${f.ratio.p99.toFixed(2)} | ${f.ratio.rps.toFixed(2)} | ${f.cpuUs.toFixed(0)} | ${variant.id === 'a' ? '' : `${f.extraCpuUs >= 0 ? '+' : ''}${f.extraCpuUs.toFixed(1)}`} |`)
      }
    }
    out.push('')
    out.push('Median latency ratio to (a) in each repetition, 1 in flight: ' + ['b', 'c'].map((id) => `(${id}) ${warm.sequential.map((rep) => rep[id as 'b' | 'c'].ratio.median.toFixed(3)).join(', ')}`).join('; ') + `. Token requests while measuring: ${warm.tokenRequestsDuringMeasurement}; connections opened: ${warm.connectionsDuringMeasurement}; Redis commands: ${warm.redisCommandsDuringMeasurement}.`)
    out.push('')
  }

  const telemetry = results.telemetry
  if (telemetry !== undefined) {
    const t = telemetry.summary
    out.push(`### 5. Telemetry overhead (medians of ${telemetry.repetitions} repetitions, requests paired on/off in random order, 1 in flight)`)
    out.push('')
    out.push('| warm path | telemetry off | telemetry on (SDK, dropping exporters) | on / off |')
    out.push('|---|---:|---:|---:|')
    out.push(`| client.fetch, median µs | ${t.offMedianUs.toFixed(0)} | ${t.onMedianUs.toFixed(0)} | ${t.ratio.toFixed(3)} |`)
    out.push(`| client.accessToken (no HTTP), median µs | ${telemetry.accessToken.offMedianUs.toFixed(2)} | ${telemetry.accessToken.onMedianUs.toFixed(2)} | ${telemetry.accessToken.ratio.toFixed(3)} |`)
    out.push('')
    out.push(`On/off per repetition: ${telemetry.runs.map((r) => `${r.ratio.toFixed(3)} (${r.pairs} pairs)`).join(', ')}. Spans exported while measuring: ${telemetry.spansDuringMeasurement}; token requests: ${telemetry.tokenRequestsDuringMeasurement}.`)
    out.push('')
  }

  const load = results.providerLoad
  const xproc = results.crossProcess
  if (load !== undefined || xproc !== undefined) {
    out.push('### 2. and 4. Provider load')
    out.push('')
    out.push('| scenario | fetches | token requests | minimum | failures | reused refresh tokens | time |')
    out.push('|---|---:|---:|---:|---:|---:|---:|')
    for (const b of load?.bursts ?? []) {
      out.push(`| cold burst, one grant, two resources, ${storeName(b.store)} | ${b.fetches} | ${b.tokenRequests} | ${b.minimum} | ${failures(b.outcome)} | ${b.reusedRefreshTokens} | ${(b.elapsedMs / 1000).toFixed(2)} s |`)
    }
    for (const s of load?.sustained ?? []) {
      out.push(`| ${s.durationS} s of fetches (${s.inFlight} in flight), ${s.tokenLifetimeS} s tokens, ${storeName(s.store)} | ${s.fetches} | ${s.tokenRequests} | ${s.minimum} | ${failures(s.outcome)} | ${s.reusedRefreshTokens} | ${s.durationS} s |`)
    }
    if (xproc !== undefined) {
      out.push(`| cold burst across ${xproc.processes} processes sharing Redis (${xproc.fetches / xproc.processes} each) | ${xproc.fetches} | ${xproc.tokenRequests} | ${xproc.minimum} | ${failures(xproc.outcome)} | ${xproc.reusedRefreshTokens} | ${(xproc.elapsedMs / 1000).toFixed(2)} s |`)
    }
    const formula = load?.sustained[0]?.minimumFormula
    if (formula !== undefined) out.push('', `Minimum over the sustained run: renewal at 0.75 × lifetime = ${load!.sustained[0]!.renewAfterS} s, so ${formula}.`)
    out.push('')
  }

  const users = results.manyUsers
  if (users !== undefined) {
    const h = users.heap
    out.push('### 3. Many users')
    out.push('')
    out.push('| memory store, 10,000 grants × 2 cached tokens | bytes |')
    out.push('|---|---:|')
    out.push(`| heap per grant, everything included | ${h.bytesPerGrant.toFixed(0)} |`)
    out.push(`| heap per grant before any access token | ${h.bytesPerEmptyGrant.toFixed(0)} |`)
    out.push(`| heap per cached access token | ${h.bytesPerCachedToken.toFixed(0)} |`)
    out.push(`| of which the token itself (mean length) | ${h.tokenBytes.toFixed(0)} |`)
    out.push(`| overhead per cached token (target ≤ 2048) | ${h.overheadPerCachedToken.toFixed(0)} |`)
    out.push('')
    const r = users.redis
    out.push(`| grants in the Redis database | keys | (a) fetch median µs | client, grant cache on µs | client, grant cache off µs | cache on ×(a) | cache off ×(a) |`)
    out.push('|---:|---:|---:|---:|---:|---:|---:|')
    for (const p of r.points) {
      out.push(`| ${p.grants.toLocaleString('en')} | ${p.redisKeys.toLocaleString('en')} | ${p.medianUs.a.toFixed(0)} | ${p.medianUs.cached.toFixed(0)} | ${p.medianUs.uncached.toFixed(0)} | ${p.ratio.cached.toFixed(3)} | ${p.ratio.uncached.toFixed(3)} |`)
    }
    out.push('')
    out.push(`Medians of ${r.points[0]!.repetitions.length} alternating repetitions. Records: the real grant ${r.realRecordBytes} bytes in Redis, the imported ones ${r.fillerRecordBytes} bytes; importing took ${r.populateSeconds.toFixed(1)} s; redis-server used ${(r.redisUsedMemory / 2 ** 20).toFixed(0)} MiB.`)
    out.push('')
  }

  out.push('### Targets')
  out.push('')
  out.push('| target | wanted | measured | met |')
  out.push('|---|---|---|---|')
  for (const t of results.targets) out.push(`| ${t.name} | ${t.target} | ${t.measured} | ${t.met ? 'yes' : '**no**'} |`)
  return out.join('\n')
}

function failures(outcome: { failed: number; reasons: Record<string, number> }): string {
  const reasons = Object.entries(outcome.reasons).map(([reason, n]) => `${n} ${reason}`)
  return reasons.length === 0 ? String(outcome.failed) : `${outcome.failed} (${reasons.join(', ')})`
}
