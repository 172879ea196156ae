// 1b. Library CPU per warm request, transport stubbed out: what the library's own code costs per request, with
// no socket, no server and no HTTP parsing in the figure. The resource's transport is replaced by a stub that
// answers 200 at once (a `fetch` returning one ready Response; an undici Dispatcher completing the request in a
// microtask), and each baseline calls the same stub with a fixed Authorization header. The difference is the
// library's CPU alone: far less noisy than a difference of two real HTTP round trips (which the transport
// section also reports). Requests to the provider (login, the first token) go over real HTTP.
import { Dispatcher, request } from 'undici'
import { createResourceClient, MemoryStore, type ResourceClient } from 'resource-tokens'
import { RedisStore } from 'resource-tokens/redis'
import { median } from '../lib/measure.js'
import type { Cleanup } from '../lib/cleanup.js'
import { ENCRYPTION_SECRET, KEY_PREFIX, type World } from '../lib/world.js'

export const LIBRARY_VARIANTS = [
  { id: 'fetchBase', label: 'stub fetch, fixed Authorization (baseline)' },
  { id: 'fetchMemory', label: 'client.fetch over the stub, MemoryStore' },
  { id: 'fetchRedis', label: 'client.fetch over the stub, RedisStore + encryption' },
  { id: 'requestBase', label: 'undici.request on a stub dispatcher, fixed Authorization (baseline)' },
  { id: 'requestMemory', label: 'client.request on the stub dispatcher, MemoryStore' },
  { id: 'requestRedis', label: 'client.request on the stub dispatcher, RedisStore + encryption' },
  { id: 'accessToken', label: 'client.accessToken (no request), MemoryStore' },
] as const

export type LibraryVariantId = (typeof LIBRARY_VARIANTS)[number]['id']

export interface LibraryCpuResult {
  repetitions: number
  requestsPerRepetition: number
  /** CPU µs per call, per variant: the median over repetitions, and each repetition's value. */
  cpuUs: Record<LibraryVariantId, { median: number; perRepetition: number[] }>
  /** The library's own CPU per warm request: each client variant minus its baseline, per repetition, then the median. */
  libraryUs: { fetchMemory: number; fetchRedis: number; requestMemory: number; requestRedis: number }
}

/** An undici Dispatcher that answers every request with an empty 200, in a microtask. */
class StubDispatcher extends Dispatcher {
  override dispatch(_options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const legacy = handler as Dispatcher.DispatchHandler & {
      onConnect?: (abort: () => void) => void
      onHeaders?: (status: number, headers: Buffer[], resume: () => void, statusText: string) => boolean
      onComplete?: (trailers: Buffer[]) => void
    }
    queueMicrotask(() => {
      legacy.onConnect?.(() => undefined)
      legacy.onHeaders?.(200, [], () => undefined, 'OK')
      legacy.onComplete?.([])
    })
    return true
  }
}

export async function libraryCpu(world: World, cleanup: Cleanup, options: { repetitions: number; requests: number }): Promise<LibraryCpuResult> {
  const group = await world.group('library-cpu')
  const origin = new URL(group.contacts).origin
  const ready = new Response(null, { status: 200 })
  const stubFetch: typeof fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
    return url.startsWith(origin) ? ready : fetch(input, init)
  }
  const dispatcher = new StubDispatcher()
  const base = { ...world.clientOptions(group), fetch: stubFetch, dispatcher }
  const memory = await createResourceClient({ ...base, store: new MemoryStore() })
  cleanup.defer('library-cpu memory client', () => memory.close())
  const redisStore = new RedisStore({ url: world.redis.url, keyPrefix: `${KEY_PREFIX}cpu:` })
  cleanup.defer('library-cpu redis store', () => redisStore.close())
  const redis = await createResourceClient({ ...base, store: redisStore, encryption: { secrets: [ENCRYPTION_SECRET] } })
  cleanup.defer('library-cpu redis client', () => redis.close())
  const key = 'cpu-user'
  await world.login(memory, key)
  await world.login(redis, key)
  const url = `${group.contacts}/people`
  await warm(memory, key, url)
  await warm(redis, key, url)
  // A Redis-backed client hears its own write announced a moment later and drops the grant from its cache.
  await new Promise((resolve) => setTimeout(resolve, 200))
  await warm(redis, key, url)
  const authorization = `Bearer ${(await memory.accessToken(key, url)).value}`

  const calls: Record<LibraryVariantId, () => Promise<unknown>> = {
    fetchBase: () => stubFetch(url, { headers: { authorization } }),
    fetchMemory: () => memory.fetch(key, url),
    fetchRedis: () => redis.fetch(key, url),
    requestBase: async () => (await request(url, { headers: { authorization }, dispatcher })).body.dump(),
    requestMemory: async () => (await memory.request(key, url)).body.dump(),
    requestRedis: async () => (await redis.request(key, url)).body.dump(),
    accessToken: () => memory.accessToken(key, url),
  }
  const ids = LIBRARY_VARIANTS.map((v) => v.id)
  for (const id of ids) for (let i = 0; i < 2000; i++) await calls[id]()
  const perRepetition = Object.fromEntries(ids.map((id) => [id, [] as number[]])) as Record<LibraryVariantId, number[]>
  for (let rep = 0; rep < options.repetitions; rep++) {
    // Alternating order within each repetition, so drift in the machine's speed hits every variant alike.
    for (const id of rep % 2 === 0 ? ids : [...ids].reverse()) {
      const fn = calls[id]
      const start = process.cpuUsage()
      for (let i = 0; i < options.requests; i++) await fn()
      const used = process.cpuUsage(start)
      perRepetition[id].push((used.user + used.system) / options.requests)
    }
  }
  const diff = (id: LibraryVariantId, baseline: LibraryVariantId): number => median(perRepetition[id].map((v, i) => v - perRepetition[baseline][i]!))
  const cpuUs = Object.fromEntries(ids.map((id) => [id, { median: median(perRepetition[id]), perRepetition: perRepetition[id] }])) as LibraryCpuResult['cpuUs']
  console.log(`  library CPU per warm request: fetch ${diff('fetchMemory', 'fetchBase').toFixed(2)} µs, request ${diff('requestMemory', 'requestBase').toFixed(2)} µs (MemoryStore)`)
  return {
    repetitions: options.repetitions,
    requestsPerRepetition: options.requests,
    cpuUs,
    libraryUs: {
      fetchMemory: diff('fetchMemory', 'fetchBase'),
      fetchRedis: diff('fetchRedis', 'fetchBase'),
      requestMemory: diff('requestMemory', 'requestBase'),
      requestRedis: diff('requestRedis', 'requestBase'),
    },
  }
}

async function warm(client: ResourceClient, key: string, url: string): Promise<void> {
  await client.fetch(key, url)
  await (await client.request(key, url)).body.dump()
}
