// `npm run bench`: starts redis-server, the test provider and a resource server on 127.0.0.1, measures
// the four things of docs/BENCHMARKS.md, prints Markdown tables and writes bench/results/latest.{json,md,svg}.
//
//   node --import tsx bench/run.ts [--quick] [--only=1,2,3,4,5]
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
import { coldBurst, sustained } from './sections/provider-load.js'
import { telemetryOverhead } from './sections/telemetry-overhead.js'
import { warmOverhead } from './sections/warm-overhead.js'

const quick = process.argv.includes('--quick')
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',')
const runs = (section: string): boolean => only === undefined || only.includes(section)

const SETTINGS = quick
  ? { repetitions: 3, sequentialTimeMs: 500, concurrentTimeMs: 400, burst: 1000, sustainedS: 8, lifetimeS: 4, grants: 2000, scale: [100, 10_000], scaleTimeMs: 500, scaleRepetitions: 2, telemetryRepetitions: 4 }
  : { repetitions: 3, sequentialTimeMs: 3000, concurrentTimeMs: 2000, burst: 1000, sustainedS: 30, lifetimeS: 20, grants: 10_000, scale: [100, 100_000], scaleTimeMs: 1500, scaleRepetitions: 4, telemetryRepetitions: 6 }

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
    step('1. warm overhead')
    partial.warm = await warmOverhead(world, { repetitions: SETTINGS.repetitions, sequentialTimeMs: SETTINGS.sequentialTimeMs, concurrency: 32, concurrentTimeMs: SETTINGS.concurrentTimeMs })
  }
  if (runs('2')) {
    step('2. provider load: cold bursts')
    const bursts = [await coldBurst(world, 'memory', SETTINGS.burst), await coldBurst(world, 'redis', SETTINGS.burst)]
    step(`2. provider load: ${SETTINGS.sustainedS} s with ${SETTINGS.lifetimeS} s tokens`)
    partial.providerLoad = { bursts, sustained: await sustained(world, { durationS: SETTINGS.sustainedS, lifetimeS: SETTINGS.lifetimeS, inFlight: 8, pauseMs: 2 }) }
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
    partial.telemetry = await telemetryOverhead(world, { repetitions: SETTINGS.telemetryRepetitions, timeMs: SETTINGS.sequentialTimeMs })
    console.log(`  warm fetch, telemetry on / off: ${partial.telemetry.summary.ratio.toFixed(3)} (median of paired ratios)`)
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
