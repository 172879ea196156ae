// 1. Transports: the warm path (one user, two resources, tokens cached) of each way to send a request,
// the library's and the baselines', at 1 and at 64 requests in flight.
import { Agent as HttpAgent, request as httpRequest } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import type { ResourceClient } from 'resource-tokens'
import { Agent as UndiciAgent, request as undiciRequest, type Dispatcher } from 'undici'
import { HandRolledClient } from '../lib/hand-rolled.js'
import { figures, runLoad, runSlice, type LoadFigures, type Slice } from '../lib/load.js'
import { median } from '../lib/measure.js'
import { pairedCpu, type PairedCpu } from '../lib/paired-cpu.js'
import { clientFetch, consume } from '../lib/requests.js'
import type { World } from '../lib/world.js'

export type VariantId = 'fetch' | 'fetchControl' | 'http' | 'undici' | 'undiciControl' | 'fetchMemory' | 'fetchRedis' | 'requestMemory' | 'requestRedis' | 'handRolled'

export interface VariantInfo {
  id: VariantId
  label: string
  /** The baseline of the same transport: what the variant's ratios and extra CPU are taken against. */
  against: VariantId
}

export const VARIANTS: readonly VariantInfo[] = [
  { id: 'fetch', label: 'global fetch, fixed Authorization', against: 'fetch' },
  { id: 'http', label: 'node:http, keep-alive Agent, fixed Authorization', against: 'fetch' },
  { id: 'undici', label: 'undici.request, undici Agent, fixed Authorization', against: 'undici' },
  // The baselines measured again as variants of their own: how far apart two runs of the same code come out
  // in this run (the resolution of every ratio below).
  { id: 'fetchControl', label: 'control: global fetch again', against: 'fetch' },
  { id: 'undiciControl', label: 'control: undici.request again', against: 'undici' },
  { id: 'fetchMemory', label: 'client.fetch, MemoryStore', against: 'fetch' },
  { id: 'fetchRedis', label: 'client.fetch, RedisStore + encryption', against: 'fetch' },
  { id: 'requestMemory', label: 'client.request, MemoryStore, undici Agent', against: 'undici' },
  { id: 'requestRedis', label: 'client.request, RedisStore + encryption, undici Agent', against: 'undici' },
  { id: 'handRolled', label: 'openid-client refresh + Map cache, global fetch (hand-rolled)', against: 'fetch' },
]

/** The library's variants: the ones with targets. */
export const LIBRARY_VARIANTS: readonly VariantId[] = ['fetchMemory', 'fetchRedis', 'requestMemory', 'requestRedis']

/** One variant's figures in one repetition, with ratios taken within that repetition. */
export interface RatedFigures extends LoadFigures {
  /** To the baseline of its own transport (`against`). */
  vsTransport: { median: number; p99: number; rps: number }
  /** CPU per request minus that of its transport's baseline. */
  extraCpuUs: number
  /** Throughput relative to global fetch. */
  rpsVsFetch: number
}

export interface LevelResult {
  inFlight: number
  /** Per repetition, per variant that could run. */
  repetitions: Array<Partial<Record<VariantId, RatedFigures>>>
  /** Medians over the repetitions of every figure and ratio. */
  summary: Partial<Record<VariantId, RatedFigures>>
}

export interface TransportsResult {
  repetitions: number
  rounds: number
  sliceMs: number
  warmupMs: number
  variants: ReadonlyArray<VariantInfo & { available: boolean }>
  /** Why a variant did not run, if one did not. */
  unavailable: Partial<Record<VariantId, string>>
  levels: LevelResult[]
  /** The undici Agent's settings given to undici.request and to the library (`dispatcher`). */
  dispatcher: string
  tokenRequestsDuringMeasurement: number
  connectionsDuringMeasurement: number
  /** Commands Redis processed while measuring: 0 when the Redis-backed clients answered from their grant cache. */
  redisCommandsDuringMeasurement: number
  /** CPU beyond the baseline measured pair by pair at 1 in flight (see paired-cpu.ts), per variant. */
  paired: Partial<Record<VariantId, PairedCpu>>
  pairedOptions: { pairs: number; repetitions: number }
}

export interface TransportOptions {
  repetitions: number
  /** Slices per variant in each repetition, interleaved. */
  rounds: number
  /** One measured slice. */
  sliceMs: number
  /** Load before each slice's window (lanes ramping up). */
  warmupMs: number
  /** Once per variant and level before the first repetition. */
  jitWarmupMs: number
  levels: readonly number[]
  /** The paired CPU measurement: pairs per repetition, and repetitions, per variant. */
  paired: { pairs: number; repetitions: number }
}

/** `client.request` (issue 17), when this version of the library has it. */
type RequestMethod = (key: string, url: string) => Promise<Dispatcher.ResponseData>

function requestMethod(client: ResourceClient): RequestMethod | undefined {
  const method = (client as unknown as { request?: unknown }).request
  return typeof method === 'function' ? (method as RequestMethod).bind(client) : undefined
}

async function consumeUndici(response: Dispatcher.ResponseData, what: string): Promise<void> {
  const body = await response.body.arrayBuffer()
  if (response.statusCode !== 200) throw new Error(`${what}: HTTP ${response.statusCode} (${body.byteLength} bytes)`)
}

function httpGet(agent: HttpAgent, url: URL, authorization: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname: url.hostname, port: url.port, path: url.pathname, agent, headers: { authorization } }, (res) => {
      res.resume()
      res.once('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${url.href}: HTTP ${res.statusCode}`))))
      res.once('error', reject)
    })
    req.once('error', reject)
    req.end()
  })
}

/** Alternates between the two resources' URLs, call by call. */
function alternating<T>(pair: readonly [T, T]): () => T {
  let i = 0
  return () => pair[i++ & 1]!
}

export async function transports(world: World, options: TransportOptions): Promise<TransportsResult> {
  const group = await world.group('transports')
  const urls = [`${group.contacts}/people`, `${group.calendar}/events`] as const
  const resources = [group.definitions[0]!, group.definitions[1]!] as const
  const dispatcherSettings = 'new undici.Agent() (defaults: keep-alive, no connection limit, no pipelining)'
  const dispatcher = new UndiciAgent()
  const httpAgent = new HttpAgent({ keepAlive: true })

  const memory = await world.client({ store: 'memory', group })
  const redis = await world.client({ store: 'redis', group })
  const unavailable: Partial<Record<VariantId, string>> = {}
  let requestMemory: ResourceClient | undefined
  let requestRedis: ResourceClient | undefined
  if (requestMethod(memory) === undefined) {
    unavailable.requestMemory = unavailable.requestRedis = 'n/a (not in this version: no client.request)'
  } else {
    requestMemory = await world.client({ store: 'memory', group, dispatcher })
    requestRedis = await world.client({ store: 'redis', group, dispatcher })
  }
  const clients = { memory, redis, requestMemory, requestRedis }
  for (const [name, client] of Object.entries(clients)) if (client !== undefined) await world.login(client, `transports-${name}`)
  const handRolled = await HandRolledClient.login(world, group)

  const authorization = [`Bearer ${(await memory.accessToken('transports-memory', urls[0])).value}`, `Bearer ${(await memory.accessToken('transports-memory', urls[1])).value}`] as const
  const targets = [new URL(urls[0]), new URL(urls[1])] as const
  const plainFetch = (): (() => Promise<void>) => {
    const next = alternating([0, 1] as const)
    return async () => {
      const i = next()
      await consume(await fetch(urls[i], { headers: { authorization: authorization[i] } }), urls[i])
    }
  }
  const plainUndici = (): (() => Promise<void>) => {
    const next = alternating([0, 1] as const)
    return async () => {
      const i = next()
      await consumeUndici(await undiciRequest(urls[i], { dispatcher, headers: { authorization: authorization[i] } }), urls[i])
    }
  }
  const fns: Partial<Record<VariantId, () => Promise<void>>> = {
    fetch: plainFetch(),
    fetchControl: plainFetch(),
    http: (() => {
      const next = alternating([0, 1] as const)
      return () => {
        const i = next()
        return httpGet(httpAgent, targets[i], authorization[i])
      }
    })(),
    undici: plainUndici(),
    undiciControl: plainUndici(),
    fetchMemory: (() => {
      const next = alternating(urls)
      return () => clientFetch(memory, 'transports-memory', next())
    })(),
    fetchRedis: (() => {
      const next = alternating(urls)
      return () => clientFetch(redis, 'transports-redis', next())
    })(),
    handRolled: (() => {
      const next = alternating([0, 1] as const)
      return () => {
        const i = next()
        return handRolled.fetch(resources[i], urls[i])
      }
    })(),
  }
  for (const [id, client] of [['requestMemory', requestMemory], ['requestRedis', requestRedis]] as const) {
    const method = client === undefined ? undefined : requestMethod(client)
    if (method === undefined) continue
    const next = alternating(urls)
    const key = `transports-${id}`
    fns[id] = async () => {
      const url = next()
      await consumeUndici(await method(key, url), url)
    }
  }
  const runnable = VARIANTS.filter((v) => fns[v.id] !== undefined)

  // Every variant once per resource: tokens cached, connections open. A Redis-backed client hears its own
  // write announced a moment later and reads the grant once more: let that happen before measuring.
  for (const v of runnable) for (let i = 0; i < 4; i++) await fns[v.id]!()
  await sleep(200)
  for (const v of runnable) for (let i = 0; i < 4; i++) await fns[v.id]!()

  // JIT warm-up: each variant's code optimized at both levels before any window is measured (the short
  // warm-up of each run then only reopens connections the dispatchers closed while idle).
  for (const v of runnable) for (const inFlight of options.levels) await runLoad(fns[v.id]!, { inFlight, timeMs: options.jitWarmupMs, warmupMs: 0 })

  const since = await world.op.tokenRequestCount()
  const { connections } = await world.resourceServerCounters()
  const redisStats = new Redis(world.redis.url)
  const commandsBefore = await processedCommands(redisStats)
  const levels: LevelResult[] = options.levels.map((inFlight) => ({ inFlight, repetitions: [], summary: {} }))
  for (let rep = 0; rep < options.repetitions; rep++) {
    // Every other repetition in reverse order, so that a drift of the machine weighs on all variants alike.
    // A repetition is `rounds` rounds of short slices, the variants one after the other in each (every other
    // round in reverse order): a drift of the machine (another process's burst) weighs on all variants alike.
    for (const level of levels) {
      const slices = new Map<VariantId, Slice[]>(runnable.map((v) => [v.id, []]))
      for (let round = 0; round < options.rounds; round++) {
        const order = (rep * options.rounds + round) % 2 === 0 ? runnable : [...runnable].reverse()
        for (const v of order) slices.get(v.id)!.push(await runSlice(fns[v.id]!, { inFlight: level.inFlight, timeMs: options.sliceMs, warmupMs: options.warmupMs }))
      }
      const raw: Partial<Record<VariantId, LoadFigures>> = {}
      for (const [id, list] of slices) raw[id] = figures(list)
      level.repetitions.push(rate(raw))
      const r = level.repetitions.at(-1)!
      const show = (id: VariantId): string => (r[id] === undefined ? `${id} n/a` : `${id} ${r[id].rps.toFixed(0)}/s ${r[id].medianUs.toFixed(0)} µs cpu ${r[id].cpuUs.toFixed(1)}`)
      console.log(`  repetition ${rep + 1}, ${level.inFlight} in flight: ${runnable.map((v) => show(v.id)).join('; ')}`)
    }
  }
  const paired: Partial<Record<VariantId, PairedCpu>> = {}
  for (const v of runnable) {
    if (v.id === v.against || v.id === 'http') continue
    paired[v.id] = await pairedCpu(fns[v.id]!, fns[v.against]!, options.paired)
    console.log(`  paired CPU, ${v.id} − ${v.against}: median ${paired[v.id]!.medianUs.toFixed(1)} µs over ${paired[v.id]!.pairs} pairs (per repetition ${paired[v.id]!.perRepetition.join(', ')})`)
  }
  const redisCommandsDuringMeasurement = (await processedCommands(redisStats)) - commandsBefore
  redisStats.disconnect()
  for (const level of levels) level.summary = summarize(level.repetitions)
  await dispatcher.close()
  httpAgent.destroy()
  return {
    repetitions: options.repetitions,
    rounds: options.rounds,
    sliceMs: options.sliceMs,
    warmupMs: options.warmupMs,
    variants: VARIANTS.map((v) => ({ ...v, available: fns[v.id] !== undefined })),
    unavailable,
    levels,
    dispatcher: dispatcherSettings,
    tokenRequestsDuringMeasurement: (await world.op.tokenRequestCount()) - since,
    connectionsDuringMeasurement: (await world.resourceServerCounters()).connections - connections,
    redisCommandsDuringMeasurement,
    paired,
    pairedOptions: options.paired,
  }
}

function rate(raw: Partial<Record<VariantId, LoadFigures>>): Partial<Record<VariantId, RatedFigures>> {
  const rated: Partial<Record<VariantId, RatedFigures>> = {}
  const fetchBase = raw.fetch!
  for (const v of VARIANTS) {
    const f = raw[v.id]
    const base = raw[v.against]
    if (f === undefined || base === undefined) continue
    rated[v.id] = {
      ...f,
      vsTransport: { median: f.medianUs / base.medianUs, p99: f.p99Us / base.p99Us, rps: f.rps / base.rps },
      extraCpuUs: f.cpuUs - base.cpuUs,
      rpsVsFetch: f.rps / fetchBase.rps,
    }
  }
  return rated
}

function summarize(reps: ReadonlyArray<Partial<Record<VariantId, RatedFigures>>>): Partial<Record<VariantId, RatedFigures>> {
  const summary: Partial<Record<VariantId, RatedFigures>> = {}
  for (const v of VARIANTS) {
    const all = reps.map((r) => r[v.id]).filter((f): f is RatedFigures => f !== undefined)
    if (all.length === 0) continue
    const m = (pick: (f: RatedFigures) => number): number => median(all.map(pick))
    summary[v.id] = {
      inFlight: all[0]!.inFlight,
      completed: all.reduce((sum, f) => sum + f.completed, 0),
      samples: all.reduce((sum, f) => sum + f.samples, 0),
      windowMs: all.reduce((sum, f) => sum + f.windowMs, 0),
      rps: m((f) => f.rps),
      medianUs: m((f) => f.medianUs),
      p99Us: m((f) => f.p99Us),
      meanUs: m((f) => f.meanUs),
      cpuUs: m((f) => f.cpuUs),
      extraCpuUs: m((f) => f.extraCpuUs),
      rpsVsFetch: m((f) => f.rpsVsFetch),
      vsTransport: { median: m((f) => f.vsTransport.median), p99: m((f) => f.vsTransport.p99), rps: m((f) => f.vsTransport.rps) },
    }
  }
  return summary
}

/** Commands Redis has run so far, not counting INFO (which this uses). */
async function processedCommands(redis: Redis): Promise<number> {
  let total = 0
  for (const [, name, calls] of (await redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (name !== 'info') total += Number(calls)
  }
  return total
}

