// 1. Warm overhead: what client.fetch adds to a plain fetch once the tokens are cached.
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { concurrent, median, sequential, type Figures, type Variant } from '../lib/measure.js'
import { clientFetch, consume } from '../lib/requests.js'
import type { World } from '../lib/world.js'

export const VARIANTS = [
  { id: 'a', label: 'a: fetch, fixed Authorization (baseline)' },
  { id: 'b', label: 'b: client.fetch, MemoryStore' },
  { id: 'c', label: 'c: client.fetch, RedisStore + encryption' },
] as const

export type VariantId = (typeof VARIANTS)[number]['id']

/** Figures of one variant in one repetition, with their ratios to (a) of the same repetition. */
export interface RatedFigures extends Figures {
  ratio: { median: number; p99: number; rps: number }
  /** CPU per request minus that of (a): what the library costs the client process per request. */
  extraCpuUs: number
}

export interface WarmOverheadResult {
  repetitions: number
  sequentialTimeMs: number
  concurrency: number
  concurrentTimeMs: number
  /** Per repetition, per variant: concurrency 1. */
  sequential: Array<Record<VariantId, RatedFigures>>
  /** Per repetition, per variant: `concurrency` requests in flight. */
  concurrent: Array<Record<VariantId, RatedFigures>>
  /** Median over the repetitions of each figure and ratio. */
  summary: { sequential: Record<VariantId, RatedFigures>; concurrent: Record<VariantId, RatedFigures> }
  /** Token-endpoint requests made while measuring: 0 when every request used a cached token. */
  tokenRequestsDuringMeasurement: number
  /** Connections the resource server accepted while measuring (kept alive: at most one per request in flight). */
  connectionsDuringMeasurement: number
  /** Commands Redis processed while measuring: 0 means (c) answered every request from its grant cache. */
  redisCommandsDuringMeasurement: number
}

export async function warmOverhead(world: World, options: { repetitions: number; sequentialTimeMs: number; concurrency: number; concurrentTimeMs: number }): Promise<WarmOverheadResult> {
  const group = await world.group('warm')
  const memory = await world.client({ store: 'memory', group })
  const redis = await world.client({ store: 'redis', group })
  const key = 'warm-user'
  await world.login(memory, key)
  await world.login(redis, key)
  const url = `${group.contacts}/people`
  // Cache the tokens, and take the baseline's header from a real token of the same size.
  await clientFetch(memory, key, url)
  await clientFetch(redis, key, url)
  // A Redis-backed client hears its own write announced a moment later and drops the grant from its cache
  // (one more read from Redis): let that happen before measuring.
  await sleep(200)
  await clientFetch(redis, key, url)
  const authorization = `Bearer ${(await memory.accessToken(key, url)).value}`

  const variants: Record<VariantId, Variant> = {
    a: { name: 'a', fn: async () => consume(await fetch(url, { headers: { authorization } }), url) },
    b: { name: 'b', fn: () => clientFetch(memory, key, url) },
    c: { name: 'c', fn: () => clientFetch(redis, key, url) },
  }
  const since = await world.op.tokenRequestCount()
  const { connections } = await world.resourceServerCounters()
  const redisStats = new Redis(world.redis.url)
  const commandsBefore = await processedCommands(redisStats)
  const seq: Array<Record<VariantId, RatedFigures>> = []
  const conc: Array<Record<VariantId, RatedFigures>> = []
  for (let rep = 0; rep < options.repetitions; rep++) {
    const figures = await sequential([variants.a, variants.b, variants.c], options.sequentialTimeMs)
    seq.push(rate({ a: figures['a']!, b: figures['b']!, c: figures['c']! }))
    const loaded = {
      a: await concurrent(variants.a, options.concurrency, options.concurrentTimeMs),
      b: await concurrent(variants.b, options.concurrency, options.concurrentTimeMs),
      c: await concurrent(variants.c, options.concurrency, options.concurrentTimeMs),
    }
    conc.push(rate(loaded))
    const row = seq[seq.length - 1]!
    console.log(`  repetition ${rep + 1}: median a ${row.a.medianUs.toFixed(0)} µs, b/a ${row.b.ratio.median.toFixed(3)}, c/a ${row.c.ratio.median.toFixed(3)}`)
  }
  const redisCommandsDuringMeasurement = (await processedCommands(redisStats)) - commandsBefore
  redisStats.disconnect()
  return {
    repetitions: options.repetitions,
    sequentialTimeMs: options.sequentialTimeMs,
    concurrency: options.concurrency,
    concurrentTimeMs: options.concurrentTimeMs,
    sequential: seq,
    concurrent: conc,
    summary: { sequential: summarize(seq), concurrent: summarize(conc) },
    tokenRequestsDuringMeasurement: (await world.op.tokenRequestCount()) - since,
    connectionsDuringMeasurement: (await world.resourceServerCounters()).connections - connections,
    redisCommandsDuringMeasurement,
  }
}

/** Commands Redis has run so far, not counting INFO (which this uses). */
async function processedCommands(redis: Redis): Promise<number> {
  let total = 0
  for (const [, name, calls] of (await redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (name !== 'info') total += Number(calls)
  }
  return total
}

function rate(figures: Record<VariantId, Figures>): Record<VariantId, RatedFigures> {
  const base = figures.a
  const rated = (f: Figures): RatedFigures => ({ ...f, ratio: { median: f.medianUs / base.medianUs, p99: f.p99Us / base.p99Us, rps: f.rps / base.rps }, extraCpuUs: f.cpuUs - base.cpuUs })
  return { a: rated(figures.a), b: rated(figures.b), c: rated(figures.c) }
}

function summarize(reps: ReadonlyArray<Record<VariantId, RatedFigures>>): Record<VariantId, RatedFigures> {
  const of = (id: VariantId): RatedFigures => {
    const m = (pick: (f: RatedFigures) => number): number => median(reps.map((r) => pick(r[id])))
    return {
      samples: reps.reduce((sum, r) => sum + r[id].samples, 0),
      rps: m((f) => f.rps),
      medianUs: m((f) => f.medianUs),
      p99Us: m((f) => f.p99Us),
      meanUs: m((f) => f.meanUs),
      cpuUs: m((f) => f.cpuUs),
      extraCpuUs: m((f) => f.extraCpuUs),
      ratio: { median: m((f) => f.ratio.median), p99: m((f) => f.ratio.p99), rps: m((f) => f.ratio.rps) },
    }
  }
  return { a: of('a'), b: of('b'), c: of('c') }
}
