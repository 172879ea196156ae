// 3. Many users: heap per grant in the memory store, and fetch latency with 100 against 100,000 grants in Redis.
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { startWorker } from '../lib/child.js'
import type { Cleanup } from '../lib/cleanup.js'
import { median, sequential, type Figures } from '../lib/measure.js'
import { clientFetch, consume } from '../lib/requests.js'
import type { World } from '../lib/world.js'
import type { HeapJob, HeapResult } from '../workers/heap.js'

/** oidc-provider's opaque refresh tokens: 32 random bytes, base64url. */
const REFRESH_TOKEN_LENGTH = 43

export interface HeapFigures extends HeapResult {
  /** Heap per grant with its two cached tokens, everything included. */
  bytesPerGrant: number
  /** Heap per grant before it had any access token (refresh token, record, store and cache entries). */
  bytesPerEmptyGrant: number
  /** What caching one more access token costs, its own bytes included. */
  bytesPerCachedToken: number
  /** `bytesPerCachedToken - tokenBytes`: the target is at most 2048. */
  overheadPerCachedToken: number
}

export async function heapPerGrant(world: World, cleanup: Cleanup, grants: number): Promise<HeapFigures> {
  const group = await world.group('heap')
  // Token sizes as the provider issues them: log one user in for real.
  const sample = await world.client({ store: 'memory', group })
  await world.login(sample, 'heap-sample')
  const lengths: Record<string, number> = {}
  for (const definition of group.definitions) lengths[definition.scope] = (await sample.accessToken('heap-sample', definition.url)).value.length

  const worker = startWorker('heap', cleanup, { exposeGc: true })
  const job: HeapJob = { options: world.clientOptions(group), grants, accessTokenLengths: lengths, refreshTokenLength: REFRESH_TOKEN_LENGTH, urls: [group.contacts, group.calendar] }
  worker.send(job)
  const result = await worker.next<HeapResult>('result')
  await worker.exited()
  const bytesPerCachedToken = (result.heapAfterTokens - result.heapAfterImport) / result.tokenRequests
  return {
    ...pick(result),
    bytesPerGrant: (result.heapAfterTokens - result.heapBaseline) / result.grants,
    bytesPerEmptyGrant: (result.heapAfterImport - result.heapBaseline) / result.grants,
    bytesPerCachedToken,
    overheadPerCachedToken: bytesPerCachedToken - result.tokenBytes,
  }
}

/** The worker's message also carries its `type`: keep the result's fields only. */
function pick(result: HeapResult): HeapResult {
  const { grants, tokenRequests, heapBaseline, heapAfterImport, heapAfterTokens, tokenBytes } = result
  return { grants, tokenRequests, heapBaseline, heapAfterImport, heapAfterTokens, tokenBytes }
}

export interface ScalePoint {
  grants: number
  redisDb: number
  redisKeys: number
  /** Per repetition: baseline fetch, client with its grant cache, client that reads Redis on every fetch. */
  repetitions: Array<{ a: Figures; cached: Figures; uncached: Figures }>
  /** Medians over the repetitions, in µs. */
  medianUs: { a: number; cached: number; uncached: number }
  /** Median over the repetitions of each median latency over (a)'s of the same repetition. */
  ratio: { cached: number; uncached: number }
}

export interface ScaleResult {
  realRecordBytes: number
  fillerRecordBytes: number
  populateSeconds: number
  redisUsedMemory: number
  points: ScalePoint[]
  /** Largest over smallest, as ratios to (a) of the same repetition (median of the repetitions): 1 means flat. */
  change: { cached: number; uncached: number }
}

const SCALE_PREFIX = 'bench:scale:'

/**
 * Fetch latency for a real, logged-in grant in a Redis database holding `counts[i]` grants, one database
 * per count on the same redis-server, so that the sizes can be measured alternately in each repetition.
 * The other grants are imported through another client with the same prefix and secret: real encrypted
 * grant records, padded to the size of the real one (two cached tokens).
 */
export async function redisScale(world: World, options: { counts: readonly number[]; timeMs: number; repetitions: number }): Promise<ScaleResult> {
  const group = await world.group('scale')
  const key = 'scale-user'
  const url = `${group.contacts}/people`
  const setups = []
  for (const [index, count] of options.counts.entries()) {
    const redisDb = index + 1
    const cached = await world.client({ store: 'redis', group, keyPrefix: SCALE_PREFIX, redisDb })
    const uncached = await world.client({ store: 'redis', group, keyPrefix: SCALE_PREFIX, redisDb, cacheSize: 0 })
    const filler = await world.client({ store: 'redis', group, keyPrefix: SCALE_PREFIX, redisDb, cacheSize: 0 })
    await world.login(cached, key)
    await clientFetch(cached, key, url)
    await clientFetch(cached, key, `${group.calendar}/events`)
    await clientFetch(uncached, key, url)
    setups.push({ count, redisDb, cached, uncached, filler })
  }
  const authorization = `Bearer ${(await setups[0]!.cached.accessToken(key, url)).value}`

  const redis = new Redis(`${world.redis.url}/${setups[0]!.redisDb}`, { lazyConnect: true })
  await redis.connect()
  try {
    const realRecordBytes = await longestValue(redis, `${SCALE_PREFIX}*`)
    // A record is the JSON grant, AES-GCM encrypted and base64url encoded (4/3), plus a short header.
    const fillerTokenLength = Math.max(REFRESH_TOKEN_LENGTH, Math.round(((realRecordBytes - 60) * 3) / 4) - 110)
    const started = performance.now()
    // Each database already holds the logged-in grant.
    for (const setup of setups) await populate(setup.filler, setup.count - 1, fillerTokenLength)
    const populateSeconds = (performance.now() - started) / 1000

    const baseline = { name: 'a', fn: async () => consume(await fetch(url, { headers: { authorization } }), url) }
    const runs: Array<Record<string, Figures>> = []
    for (let rep = 0; rep < options.repetitions; rep++) {
      // Every other repetition measures the sizes in reverse order (an even number of repetitions balances
      // them), so that drift over a repetition favours neither.
      const order = rep % 2 === 0 ? setups : [...setups].reverse()
      const variants = [baseline, ...order.flatMap((setup) => [
        { name: `cached@${setup.count}`, fn: () => clientFetch(setup.cached, key, url) },
        { name: `uncached@${setup.count}`, fn: () => clientFetch(setup.uncached, key, url) },
      ])]
      runs.push(await sequential(variants, options.timeMs))
      const last = runs[runs.length - 1]!
      console.log(`  repetition ${rep + 1}: ` + setups.map((s) => `${s.count.toLocaleString('en')} grants: cache on ${last[`cached@${s.count}`]!.medianUs.toFixed(0)} µs, off ${last[`uncached@${s.count}`]!.medianUs.toFixed(0)} µs`).join('; ') + ` (a: ${last['a']!.medianUs.toFixed(0)} µs)`)
    }
    const points: ScalePoint[] = []
    for (const setup of setups) {
      await redis.select(setup.redisDb)
      const repetitions = runs.map((run) => ({ a: run['a']!, cached: run[`cached@${setup.count}`]!, uncached: run[`uncached@${setup.count}`]! }))
      points.push({
        grants: setup.count,
        redisDb: setup.redisDb,
        redisKeys: await redis.dbsize(),
        repetitions,
        medianUs: { a: median(repetitions.map((r) => r.a.medianUs)), cached: median(repetitions.map((r) => r.cached.medianUs)), uncached: median(repetitions.map((r) => r.uncached.medianUs)) },
        ratio: { cached: median(repetitions.map((r) => r.cached.medianUs / r.a.medianUs)), uncached: median(repetitions.map((r) => r.uncached.medianUs / r.a.medianUs)) },
      })
    }
    const first = points[0]!
    const last = points[points.length - 1]!
    const change = (variant: 'cached' | 'uncached'): number => median(runs.map((_, i) => last.repetitions[i]![variant].medianUs / first.repetitions[i]![variant].medianUs))
    return {
      realRecordBytes,
      fillerRecordBytes: await sampleValueLength(redis, SCALE_PREFIX),
      populateSeconds,
      redisUsedMemory: Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? NaN),
      points,
      change: { cached: change('cached'), uncached: change('uncached') },
    }
  } finally {
    redis.disconnect()
  }
}

/** Imports `count` grants with random refresh tokens of `tokenLength`, 256 at a time. */
async function populate(client: Awaited<ReturnType<World['client']>>, count: number, tokenLength: number): Promise<void> {
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++
      await client.importGrant(`filler-${i}`, { refreshToken: randomBytes(Math.ceil((tokenLength * 3) / 4)).toString('base64url') })
    }
  }
  await Promise.all(Array.from({ length: 256 }, lane))
}

async function longestValue(redis: Redis, pattern: string): Promise<number> {
  let longest = 0
  for await (const keys of redis.scanStream({ match: pattern, count: 100 }) as AsyncIterable<string[]>) {
    for (const k of keys) if ((await redis.type(k)) === 'string') longest = Math.max(longest, await redis.strlen(k))
  }
  return longest
}

/** Median stored length of 50 random records under `prefix` in the selected database. */
async function sampleValueLength(redis: Redis, prefix: string): Promise<number> {
  const lengths: number[] = []
  for (let i = 0; i < 200 && lengths.length < 50; i++) {
    const k = await redis.randomkey()
    if (k !== null && k.startsWith(prefix) && (await redis.type(k)) === 'string') lengths.push(await redis.strlen(k))
  }
  return lengths.length === 0 ? 0 : median(lengths)
}
