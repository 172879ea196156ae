// 1b. The library's own CPU per warm request, without I/O: client.fetch over an in-process `fetch` that
// answers resource requests at once (the client's `fetch` option), client.request over undici's MockAgent,
// each against the same transport called directly with a fixed header. A magnifier for section 1's
// "CPU beyond its transport", which on a shared 2-core machine is noisy; not a target by itself.
import { setTimeout as sleep } from 'node:timers/promises'
import type { ResourceClient } from 'resource-tokens'
import { MockAgent, request as undiciRequest, type Dispatcher } from 'undici'
import { median } from '../lib/measure.js'
import { clientFetch, consume } from '../lib/requests.js'
import type { World } from '../lib/world.js'

export type IsolatedId = 'fetchMemory' | 'fetchRedis' | 'requestMemory' | 'requestRedis'

export interface IsolatedRow {
  id: IsolatedId
  /** The transport both sides use. */
  transport: string
  /** Why it did not run, when it did not. */
  unavailable?: string
  /** Medians over the repetitions, CPU µs per call. */
  baselineUs: number
  libraryUs: number
  extraUs: number
  /** `libraryUs - baselineUs` in each repetition. */
  perRepetition: number[]
}

export interface LibraryCpuResult {
  repetitions: number
  rounds: number
  callsPerSlice: number
  rows: IsolatedRow[]
  tokenRequestsDuringMeasurement: number
}

const BODY = '{"ok":true}'

type RequestMethod = (key: string, url: string) => Promise<Dispatcher.ResponseData>

function requestMethod(client: ResourceClient): RequestMethod | undefined {
  const method = (client as unknown as { request?: unknown }).request
  return typeof method === 'function' ? (method as RequestMethod).bind(client) : undefined
}

async function consumeUndici(response: Dispatcher.ResponseData, what: string): Promise<void> {
  const body = await response.body.arrayBuffer()
  if (response.statusCode !== 200) throw new Error(`${what}: HTTP ${response.statusCode} (${body.byteLength} bytes)`)
}

/** Process CPU per call of `fn` over `calls` calls, one at a time. */
async function cpuPerCall(fn: () => Promise<void>, calls: number): Promise<number> {
  const start = process.cpuUsage()
  for (let i = 0; i < calls; i++) await fn()
  const used = process.cpuUsage(start)
  return (used.user + used.system) / calls
}

export async function libraryCpu(world: World, options: { repetitions: number; rounds: number; callsPerSlice: number }): Promise<LibraryCpuResult> {
  const group = await world.group('isolated')
  const urls = [`${group.contacts}/people`, `${group.calendar}/events`] as const
  const origin = new URL(group.contacts).origin
  let stubbed = 0
  // Resource requests are answered here; the provider's (discovery, login, tokens) go out as usual.
  const stubFetch: typeof fetch = (input, init) => {
    const href = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
    if (!href.startsWith(`${origin}/isolated/`)) return fetch(input, init)
    stubbed++
    return Promise.resolve(new Response(BODY, { status: 200, headers: { 'content-type': 'application/json' } }))
  }
  const mock = new MockAgent()
  mock.disableNetConnect()
  mock.get(origin).intercept({ path: () => true, method: 'GET' }).reply(200, BODY, { headers: { 'content-type': 'application/json' } }).persist()

  const clients = {
    fetchMemory: await world.client({ store: 'memory', group, fetch: stubFetch }),
    fetchRedis: await world.client({ store: 'redis', group, fetch: stubFetch }),
  } as Partial<Record<IsolatedId, ResourceClient>>
  const unavailable: Partial<Record<IsolatedId, string>> = {}
  if (requestMethod(clients.fetchMemory!) === undefined) {
    unavailable.requestMemory = unavailable.requestRedis = 'n/a (not in this version: no client.request)'
  } else {
    clients.requestMemory = await world.client({ store: 'memory', group, dispatcher: mock })
    clients.requestRedis = await world.client({ store: 'redis', group, dispatcher: mock })
  }
  for (const [id, client] of Object.entries(clients)) await world.login(client, `isolated-${id}`)
  const authorization = [`Bearer ${(await clients.fetchMemory!.accessToken('isolated-fetchMemory', urls[0])).value}`, `Bearer ${(await clients.fetchMemory!.accessToken('isolated-fetchMemory', urls[1])).value}`] as const

  let i = 0
  const next = (): 0 | 1 => (i++ & 1) as 0 | 1
  const baselines = {
    fetch: async () => {
      const k = next()
      await consume(await stubFetch(urls[k], { headers: { authorization: authorization[k] } }), urls[k])
    },
    undici: async () => {
      const k = next()
      await consumeUndici(await undiciRequest(urls[k], { dispatcher: mock, headers: { authorization: authorization[k] } }), urls[k])
    },
  }
  const library: Partial<Record<IsolatedId, () => Promise<void>>> = {}
  for (const id of ['fetchMemory', 'fetchRedis'] as const) library[id] = () => clientFetch(clients[id]!, `isolated-${id}`, urls[next()])
  for (const id of ['requestMemory', 'requestRedis'] as const) {
    const client = clients[id]
    const method = client === undefined ? undefined : requestMethod(client)
    if (method === undefined) continue
    library[id] = async () => {
      const url = urls[next()]
      await consumeUndici(await method(`isolated-${id}`, url), url)
    }
  }
  // Warm: tokens cached, code optimized; a Redis-backed client reads its grant once more after its own write.
  for (const fn of [...Object.values(baselines), ...Object.values(library)]) for (let n = 0; n < 2000; n++) await fn()
  await sleep(200)
  for (const fn of Object.values(library)) for (let n = 0; n < 200; n++) await fn()
  const stubbedBefore = stubbed
  await library.fetchMemory!()
  if (stubbed === stubbedBefore) {
    // This version sends client.fetch's resource requests some other way than the `fetch` option.
    unavailable.fetchMemory = unavailable.fetchRedis = 'n/a (client.fetch did not use the fetch option for resource requests)'
    delete library.fetchMemory
    delete library.fetchRedis
  }

  const since = await world.op.tokenRequestCount()
  const rows: IsolatedRow[] = []
  const ids: IsolatedId[] = ['fetchMemory', 'fetchRedis', 'requestMemory', 'requestRedis']
  const perRep = new Map<IsolatedId, Array<{ base: number; lib: number }>>(ids.map((id) => [id, []]))
  for (let rep = 0; rep < options.repetitions; rep++) {
    for (const id of ids) {
      const fn = library[id]
      if (fn === undefined) continue
      const base = id.startsWith('fetch') ? baselines.fetch : baselines.undici
      let baseSum = 0
      let libSum = 0
      for (let round = 0; round < options.rounds; round++) {
        // Alternate which side goes first, round by round.
        if ((rep + round) % 2 === 0) {
          baseSum += await cpuPerCall(base, options.callsPerSlice)
          libSum += await cpuPerCall(fn, options.callsPerSlice)
        } else {
          libSum += await cpuPerCall(fn, options.callsPerSlice)
          baseSum += await cpuPerCall(base, options.callsPerSlice)
        }
      }
      perRep.get(id)!.push({ base: baseSum / options.rounds, lib: libSum / options.rounds })
    }
  }
  for (const id of ids) {
    const runs = perRep.get(id)!
    const transport = id.startsWith('fetch') ? 'in-process fetch stub (the client\'s fetch option)' : 'undici MockAgent (the client\'s dispatcher option)'
    if (runs.length === 0) {
      rows.push({ id, transport, unavailable: unavailable[id] ?? 'n/a', baselineUs: Number.NaN, libraryUs: Number.NaN, extraUs: Number.NaN, perRepetition: [] })
      continue
    }
    const extra = runs.map((r) => r.lib - r.base)
    rows.push({ id, transport, baselineUs: median(runs.map((r) => r.base)), libraryUs: median(runs.map((r) => r.lib)), extraUs: median(extra), perRepetition: extra })
  }
  await mock.close()
  return { repetitions: options.repetitions, rounds: options.rounds, callsPerSlice: options.callsPerSlice, rows, tokenRequestsDuringMeasurement: (await world.op.tokenRequestCount()) - since }
}
