import { VARIANTS, type TransportsResult, type VariantId } from '../sections/transports.js'
import { LIBRARY_VARIANTS, type LibraryCpuResult } from '../sections/library-cpu.js'
import type { RenewalResult } from '../sections/renewal.js'
import type { HandRolledLoadResult } from '../sections/provider-load.js'
import { storeName, type Results } from './results.js'

/** The run as Markdown tables: printed, and pasted as is into docs/BENCHMARKS.md. */
export function markdown(results: Results): string {
  const out: string[] = []
  const m = results.machine
  out.push(`Run of ${results.startedAt.slice(0, 16).replace('T', ' ')} UTC${results.quick ? ' (quick mode: shorter, not for publishing)' : ''}, ${results.durationS.toFixed(0)} s in all.`)
  out.push(`Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.kernel}, Node ${m.node}, Redis ${m.redis}; load average ${m.loadAverage.start.toFixed(2)} at the start, ${m.loadAverage.end.toFixed(2)} at the end.`)
  out.push('')

  if (results.transports !== undefined) out.push(...transportsSection(results.transports))
  if (results.libraryCpu !== undefined) out.push(...libraryCpuSection(results.libraryCpu))
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
    if (formula !== undefined) out.push('', `Minimum over the sustained run: renewal at lifetime − min(30 s, lifetime / 2) = ${load!.sustained[0]!.renewAfterS} s, so ${formula}.`)
    out.push('')
    if (load?.handRolled !== undefined) out.push(...handRolledSection(load.handRolled, load.bursts, load.sustained))
  }
  if (results.renewal !== undefined) out.push(...renewalSection(results.renewal))

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

function transportsSection(t: TransportsResult): string[] {
  const out: string[] = []
  out.push(`### 1. Transports: the warm path (one user, two resources, tokens cached; medians of ${t.repetitions} repetitions, each ${t.rounds} interleaved slices of ${t.sliceMs} ms per variant and level)`)
  out.push('')
  out.push('| variant | in flight | req/s | median µs | p99 µs | client CPU µs/req | vs its transport: median | p99 | req/s | CPU beyond it µs | req/s vs global fetch |')
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const level of t.levels) {
    for (const v of VARIANTS) {
      const f = level.summary[v.id]
      if (f === undefined) {
        out.push(`| ${v.label} | ${level.inFlight} | ${t.unavailable[v.id] ?? 'n/a'} | | | | | | | | |`)
        continue
      }
      const own = v.against === v.id
      const vs = own ? ['', '', '', ''] : [`${f.vsTransport.median.toFixed(3)}`, `${f.vsTransport.p99.toFixed(2)}`, `${f.vsTransport.rps.toFixed(2)}`, signed(f.extraCpuUs)]
      out.push(`| ${v.label}${own ? '' : ` (vs ${v.against})`} | ${level.inFlight} | ${f.rps.toFixed(0)} | ${f.medianUs.toFixed(0)} | ${f.p99Us.toFixed(0)} | ${f.cpuUs.toFixed(1)} | ${vs.join(' | ')} | ${f.rpsVsFetch.toFixed(2)} |`)
    }
  }
  out.push('')
  out.push('Client CPU per request beyond its transport\'s baseline, per repetition (µs):')
  out.push('')
  for (const id of ['fetchMemory', 'fetchRedis', 'requestMemory', 'requestRedis', 'handRolled', 'http', 'fetchControl', 'undiciControl'] as VariantId[]) {
    if (t.levels[0]!.summary[id] === undefined) continue
    const label = VARIANTS.find((v) => v.id === id)!
    out.push(`- ${label.label} (vs ${label.against}): ${t.levels.map((level) => `${level.inFlight} in flight ${level.repetitions.map((r) => signed(r[id]?.extraCpuUs ?? Number.NaN)).join(', ')}`).join('; ')}`)
  }
  out.push('')
  const paired = VARIANTS.filter((v) => t.paired[v.id] !== undefined)
  if (paired.length > 0) {
    out.push(`Client CPU per request beyond its transport's baseline, pair by pair (1 in flight; the variant and its baseline alternate in random order, the process's CPU read around each request; ${t.pairedOptions.repetitions} repetitions of ${t.pairedOptions.pairs} pairs):`)
    out.push('')
    out.push('| variant | vs | pairs | median of the differences µs | trimmed mean µs | median per repetition µs |')
    out.push('|---|---|---:|---:|---:|---|')
    for (const v of paired) {
      const p = t.paired[v.id]!
      out.push(`| ${v.label} | ${v.against} | ${p.pairs} | ${signed(p.medianUs)} | ${signed(p.trimmedMeanUs)} | ${p.perRepetition.map(signed).join(', ')} |`)
    }
    out.push('')
  }
  out.push(`Dispatcher for undici.request and client.request: ${t.dispatcher}. Token requests while measuring: ${t.tokenRequestsDuringMeasurement}; connections opened: ${t.connectionsDuringMeasurement}; Redis commands: ${t.redisCommandsDuringMeasurement}.`)
  out.push('')
  return out
}

function handRolledSection(runs: HandRolledLoadResult[], bursts: Array<{ store: 'memory' | 'redis'; tokenRequests: number; minimum: number; outcome: { failed: number; reasons: Record<string, number> }; reusedRefreshTokens: number; fetches: number }>, sustainedRuns: Array<{ store: 'memory' | 'redis'; tokenRequests: number; minimum: number; outcome: { failed: number; reasons: Record<string, number> }; reusedRefreshTokens: number; fetches: number }>): string[] {
  const out: string[] = []
  out.push('#### The hand-rolled baseline (openid-client refreshTokenGrant + a Map), side by side with the library')
  out.push('')
  out.push('| scenario | client | requests | token requests (failed) | minimum | failed requests | reused refresh tokens | grant revoked |')
  out.push('|---|---|---:|---:|---:|---:|---:|---|')
  for (const run of runs) {
    const scenario = run.scenario === 'burst' ? `cold burst of ${run.fetches}` : `${run.durationS} s, ${run.inFlight} in flight, ${run.tokenLifetimeS} s tokens`
    const library = run.scenario === 'burst' ? bursts : sustainedRuns
    for (const l of library) out.push(`| ${scenario} | library, ${storeName(l.store)} | ${l.fetches} | ${l.tokenRequests} | ${l.minimum} | ${failures(l.outcome)} | ${l.reusedRefreshTokens} | ${l.reusedRefreshTokens > 0 ? 'yes' : 'no'} |`)
    const first = run.firstFailureS === undefined ? '' : `, first failure at ${run.firstFailureS.toFixed(2)} s`
    out.push(`| ${scenario} | hand-rolled | ${run.fetches} | ${run.tokenRequests} (${run.failedTokenRequests}) | ${run.minimum} | ${failures(run.outcome)}${first} | ${run.reusedRefreshTokens} | ${run.grantRevoked ? '**yes**' : 'no'} |`)
  }
  out.push('')
  out.push('In the sustained run the hand-rolled client fetched its first two tokens one at a time before the load (cold, with 8 in flight, it loses its grant at once, as in the burst). Grant revoked: oidc-provider revokes the whole grant when a rotated-away refresh token comes back; for the hand-rolled client it is checked with one more refresh afterwards (`invalid_grant`), for the library it would show as reused refresh tokens.')
  out.push('')
  return out
}

function renewalSection(r: RenewalResult): string[] {
  const out: string[] = []
  if (r.load.length > 0) {
    const first = r.load[0]!
    out.push(`### 6. Renewal A: ${first.durationS} s of load (${first.inFlight} in flight, ${first.pauseMs} ms pause), ${first.tokenLifetimeS} s tokens, renewal due ${first.renewAfterS} s after each token`)
    out.push('')
    out.push('| store | requests | during renewals: requests | median µs | p99 µs | max µs | warm: requests | median µs | p99 µs | p99 ratio | control: requests | p99 µs | p99 ratio | renewals (median / max ms) | token requests | minimum | failures |')
    out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
    for (const run of r.load) {
      out.push(`| ${storeName(run.store)} | ${run.fetches} | ${run.inRenewal.requests} | ${run.inRenewal.medianUs.toFixed(0)} | ${run.inRenewal.p99Us.toFixed(0)} | ${run.inRenewal.maxUs.toFixed(0)} | ${run.warm.requests} | ${run.warm.medianUs.toFixed(0)} | ${run.warm.p99Us.toFixed(0)} | ${run.p99Ratio.toFixed(2)} | ${run.control.requests} | ${run.control.p99Us.toFixed(0)} | ${run.control.p99Ratio.toFixed(2)} | ${run.renewals} (${run.renewalMs.median.toFixed(1)} / ${run.renewalMs.max.toFixed(1)}) | ${run.tokenRequests} | ${run.minimum} | ${failures(run.outcome)} |`)
    }
    out.push('')
    out.push(`"During renewals": requests in flight at some moment between the provider receiving a renewal's token request and the client's \`token\` event for it; "warm": the others (requests overlapping the first tokens' requests are in neither). "Control": the same windows shifted by half a renewal period, where nothing renews: its p99 ratio shows how much of a difference the machine alone makes with this few requests. Minimum: ${first.minimumFormula}.`)
    out.push('')
  }
  const o = r.outage
  if (o !== undefined) {
    out.push(`### 6. Renewal B: ${o.tokenLifetimeS} s tokens, the token endpoint answering ${o.fault} from ${o.outageFromS.toFixed(2)} s to ${o.outageUntilS.toFixed(2)} s after the first token (renewal due at ${o.renewAfterS} s, tokens served until ${o.servedUntilS} s)`)
    out.push('')
    out.push('| store | requests | failed requests | refresh_failed events | token requests (503) | renewed at | requests during the outage | their p99 µs | max µs |')
    out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
    for (const c of o.clients) {
      const codes = Object.entries(c.refreshFailedCodes).map(([code, n]) => `${n} ${code}`).join(', ')
      out.push(`| ${storeName(c.store)} | ${c.fetches} | ${failures(c.outcome)} | ${c.refreshFailedEvents}${codes === '' ? '' : ` (${codes})`} | ${c.tokenRequests} (${c.failedTokenRequests}) | ${c.renewedAfterS === undefined ? 'never' : `${c.renewedAfterS.toFixed(1)} s`} | ${c.duringOutage.requests} | ${c.duringOutage.p99Us.toFixed(0)} | ${c.duringOutage.maxUs.toFixed(0)} |`)
    }
    out.push('')
    out.push(`${o.inFlight} in flight per client (${o.pauseMs} ms pause), both clients at once, from the first tokens until every token was renewed after the outage. Token requests include the first two.`)
    out.push('')
  }
  return out
}

function signed(value: number): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(1)}`
}

function libraryCpuSection(r: LibraryCpuResult): string[] {
  const out: string[] = []
  out.push(`### 1b. The library's CPU per warm request, transport stubbed (medians of ${r.repetitions} repetitions of ${r.requestsPerRepetition.toLocaleString('en')} calls per variant, one at a time)`)
  out.push('')
  out.push('| variant | CPU µs per call | beyond its baseline µs | per repetition µs |')
  out.push('|---|---:|---:|---|')
  for (const v of LIBRARY_VARIANTS) {
    const c = r.cpuUs[v.id]
    const baseline = v.id === 'fetchMemory' || v.id === 'fetchRedis' ? 'fetchBase' : v.id === 'requestMemory' || v.id === 'requestRedis' ? 'requestBase' : undefined
    const beyond = baseline === undefined ? '' : signed(r.libraryUs[v.id as keyof LibraryCpuResult['libraryUs']])
    const reps = baseline === undefined ? c.perRepetition.map((x) => x.toFixed(1)) : c.perRepetition.map((x, i) => signed(x - r.cpuUs[baseline].perRepetition[i]!))
    out.push(`| ${v.label} | ${c.median.toFixed(1)} | ${beyond} | ${reps.join(', ')} |`)
  }
  out.push('')
  out.push("A magnifier for section 1's CPU beyond the transport: no sockets, so far less noise on a shared machine; the same bound applies (targets).")
  out.push('')
  return out
}
