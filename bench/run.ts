// `npm run bench`: starts redis-server, the test provider and a resource server on 127.0.0.1, measures
// the sections of docs/BENCHMARKS.md, prints Markdown tables and writes bench/results/latest.{json,md,svg}.
//
//   node --import tsx bench/run.ts [--quick] [--only=1,2,3,4,5,6]
//
// The library is imported through its public entry points, i.e. from dist/: build it first.
import { execFileSync } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { chart } from './lib/chart.js'
import { Cleanup } from './lib/cleanup.js'
import { describeMachine } from './lib/machine.js'
import { markdown } from './lib/report.js'
import { evaluateTargets, type Results } from './lib/results.js'
import { startWorld } from './lib/world.js'
import { crossProcess } from './sections/cross-process.js'
import { heapPerGrant, redisScale } from './sections/many-users.js'
import { libraryCpu } from './sections/library-cpu.js'
import { coldBurst, handRolledBurst, handRolledSustained, sustained } from './sections/provider-load.js'
import { renewalOutage, renewalUnderLoad } from './sections/renewal.js'
import { telemetryOverhead } from './sections/telemetry-overhead.js'
import { transports } from './sections/transports.js'

const quick = process.argv.includes('--quick')
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',')
const runs = (section: string): boolean => only === undefined || only.includes(section)

const SETTINGS = quick
  ? {
      transports: { repetitions: 3, rounds: 1, sliceMs: 200, warmupMs: 30, jitWarmupMs: 200, levels: [1, 64], paired: { pairs: 300, repetitions: 2 } },
      libraryCpu: { repetitions: 3, requests: 2000 },
      burst: 1000, sustainedS: 8, lifetimeS: 4, grants: 2000, scale: [100, 10_000], scaleTimeMs: 500, scaleRepetitions: 2, telemetryRepetitions: 4, telemetryTimeMs: 500,
      renewal: { durationS: 6, lifetimeS: 5, inFlight: 8, pauseMs: 2 },
      outage: { lifetimeS: 12, outageS: 4, inFlight: 8, pauseMs: 5 },
    }
  : {
      transports: { repetitions: 6, rounds: 5, sliceMs: 200, warmupMs: 30, jitWarmupMs: 1000, levels: [1, 64], paired: { pairs: 2000, repetitions: 3 } },
      libraryCpu: { repetitions: 7, requests: 10_000 },
      burst: 1000, sustainedS: 30, lifetimeS: 20, grants: 10_000, scale: [100, 100_000], scaleTimeMs: 1500, scaleRepetitions: 4, telemetryRepetitions: 6, telemetryTimeMs: 3000,
      renewal: { durationS: 60, lifetimeS: 5, inFlight: 8, pauseMs: 2 },
      outage: { lifetimeS: 60, outageS: 20, inFlight: 8, pauseMs: 5 },
    }

const RESULTS_DIR = new URL('./results/', import.meta.url)

async function main(cleanup: Cleanup): Promise<void> {
  const startedAt = new Date()
  const started = performance.now()
  const loadAtStart = loadavg()[0]!
  const step = (name: string): void => console.log(`\n▶ ${name} (${((performance.now() - started) / 1000).toFixed(0)} s)`)

  step('starting redis-server, the test provider and the resource server')
  const world = await startWorld(cleanup)
  const partial: Omit<Results, 'targets' | 'machine' | 'durationS'> = { startedAt: startedAt.toISOString(), quick }

  if (runs('1')) {
    const t = SETTINGS.transports
    step(`1. transports: warm path at ${t.levels.join(' and ')} in flight, ${t.repetitions} repetitions`)
    partial.transports = await transports(world, t)
    step('1b. the library\'s CPU per warm request, transport stubbed')
    partial.libraryCpu = await libraryCpu(world, cleanup, SETTINGS.libraryCpu)
  }
  if (runs('2')) {
    step('2. provider load: cold bursts')
    const bursts = [await coldBurst(world, 'memory', SETTINGS.burst), await coldBurst(world, 'redis', SETTINGS.burst)]
    const handRolledCold = await handRolledBurst(world, SETTINGS.burst)
    step(`2. provider load: ${SETTINGS.sustainedS} s with ${SETTINGS.lifetimeS} s tokens, the library, then the hand-rolled baseline`)
    const shortTokens = await world.withProvider({ accessTokenTTL: SETTINGS.lifetimeS })
    const sustainedOptions = { durationS: SETTINGS.sustainedS, lifetimeS: SETTINGS.lifetimeS, inFlight: 8, pauseMs: 2 }
    const library = await sustained(shortTokens, sustainedOptions)
    const handRolledRun = await handRolledSustained(shortTokens, sustainedOptions)
    partial.providerLoad = { bursts, sustained: library, handRolled: [handRolledCold, handRolledRun] }
  }
  if (runs('3')) {
    step(`3. many users: heap of ${SETTINGS.grants.toLocaleString('en')} grants (child process with --expose-gc)`)
    const heap = await heapPerGrant(world, cleanup, SETTINGS.grants)
    step(`3. many users: fetch latency with ${SETTINGS.scale.map((n) => n.toLocaleString('en')).join(' and ')} grants in Redis`)
    partial.manyUsers = { heap, redis: await redisScale(world, { counts: SETTINGS.scale, timeMs: SETTINGS.scaleTimeMs, repetitions: SETTINGS.scaleRepetitions }) }
  }
  if (runs('4')) {
    step('4. cross-process burst')
    partial.crossProcess = await crossProcess(world, cleanup, { processes: 4, total: SETTINGS.burst })
  }

  if (runs('5')) {
    step('5. telemetry overhead: warm fetch with OpenTelemetry on and off')
    partial.telemetry = await telemetryOverhead(world, { repetitions: SETTINGS.telemetryRepetitions, timeMs: SETTINGS.telemetryTimeMs })
    console.log(`  warm fetch, telemetry on / off: ${partial.telemetry.summary.ratio.toFixed(3)} (median of paired ratios)`)
  }

  if (runs('6')) {
    const r = SETTINGS.renewal
    step(`6. renewal A: ${r.durationS} s of load with ${r.lifetimeS} s tokens, MemoryStore then RedisStore`)
    const shortTokens = await world.withProvider({ accessTokenTTL: r.lifetimeS })
    const loadRuns = [await renewalUnderLoad(shortTokens, 'memory', r), await renewalUnderLoad(shortTokens, 'redis', r)]
    for (const run of loadRuns) console.log(`  ${run.store}: p99 in renewal ${run.inRenewal.p99Us.toFixed(0)} µs (${run.inRenewal.requests} requests), warm ${run.warm.p99Us.toFixed(0)} µs, ratio ${run.p99Ratio.toFixed(2)} (control ${run.control.p99Ratio.toFixed(2)}); ${run.tokenRequests} token requests (minimum ${run.minimum})`)
    const o = SETTINGS.outage
    step(`6. renewal B: ${o.lifetimeS} s tokens, the token endpoint failing for ${o.outageS} s from the first renewal`)
    const outage = await renewalOutage(await world.withProvider({ accessTokenTTL: o.lifetimeS }), o)
    for (const c of outage.clients) console.log(`  ${c.store}: ${c.outcome.failed} failed of ${c.fetches}; ${c.refreshFailedEvents} refresh_failed; ${c.tokenRequests} token requests (${c.failedTokenRequests} failed); renewed after ${c.renewedAfterS?.toFixed(1) ?? 'never'} s`)
    partial.renewal = { load: loadRuns, outage }
  }

  const measured = { ...partial, durationS: (performance.now() - started) / 1000, machine: describeMachine(redisVersion(), loadAtStart) }
  const results: Results = { ...measured, targets: evaluateTargets(measured) }
  const table = markdown(results)
  console.log(`\n${table}\n`)
  await mkdir(RESULTS_DIR, { recursive: true })
  await writeFile(new URL('latest.json', RESULTS_DIR), `${JSON.stringify(results, null, 2)}\n`)
  await writeFile(new URL('latest.md', RESULTS_DIR), `${table}\n`)
  await writeFile(new URL('latest.svg', RESULTS_DIR), chart(results))
  console.log('written: bench/results/latest.json, latest.md, latest.svg')
}

function redisVersion(): string {
  try {
    return /v=(\S+)/.exec(execFileSync('redis-server', ['--version'], { encoding: 'utf8' }))?.[1] ?? 'unknown'
  } catch {
    return 'unknown'
  }
}

const cleanup = new Cleanup()
let interrupted = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true
    console.error(`\n${signal}: stopping everything the benchmark started`)
    void cleanup.run().finally(() => process.exit(130))
  })
}
try {
  await main(cleanup)
} catch (err) {
  // After an interrupt, requests fail because the servers are going away: not worth a stack trace.
  if (!interrupted) console.error('benchmark failed:', err)
  process.exitCode = 1
} finally {
  await cleanup.run()
}
