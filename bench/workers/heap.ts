// Heap cost of many grants in the memory store, measured in a process of its own started with --expose-gc.
//
// 10,000 grants are imported, then given two access tokens each through the library's real refresh path.
// The token endpoint is answered in-process (an injected `fetch`) with tokens of the sizes the test provider
// issues: logging 10,000 users in at the provider would take minutes and measure nothing more.
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { createResourceClient, MemoryStore, type ResourceClientOptions } from 'resource-tokens'
import { receive, runWorker, send } from '../lib/worker-channel.js'

export interface HeapJob {
  options: ResourceClientOptions
  grants: number
  /** Access token length by the scope asked for (as the provider issued them). */
  accessTokenLengths: Record<string, number>
  refreshTokenLength: number
  urls: [string, string]
}

export interface HeapResult {
  grants: number
  /** Token requests answered, one per cached token. */
  tokenRequests: number
  heapBaseline: number
  heapAfterImport: number
  heapAfterTokens: number
  /** Mean length of the cached access tokens: their own bytes (ASCII). */
  tokenBytes: number
}

declare const gc: (() => void) | undefined

runWorker(async () => {
  const job = await receive<HeapJob>()
  if (typeof gc !== 'function') throw new Error('start this worker with --expose-gc')
  const collect = gc
  const metadata = (await (await fetch(new URL('/.well-known/openid-configuration', job.options.issuer))).json()) as { token_endpoint: string }
  let tokenRequests = 0
  let tokenChars = 0
  const answerTokenRequests: typeof fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input)
    if (url !== metadata.token_endpoint) return fetch(input, init)
    tokenRequests++
    const body = new URLSearchParams(init?.body as URLSearchParams | string)
    const scope = body.get('scope') ?? ''
    const length = job.accessTokenLengths[scope]
    if (length === undefined) return Response.json({ error: 'invalid_scope' }, { status: 400 })
    tokenChars += length
    return Response.json({ access_token: randomToken(length), token_type: 'Bearer', expires_in: 3600, scope, refresh_token: randomToken(job.refreshTokenLength) })
  }
  const client = await createResourceClient({ ...job.options, store: new MemoryStore(), fetch: answerTokenRequests })
  const keys = Array.from({ length: job.grants }, (_, i) => `heap-user-${i}`)
  // Warm the code paths on a grant of its own, then forget it.
  await client.importGrant('warm-up', { refreshToken: randomToken(job.refreshTokenLength) })
  for (const url of job.urls) await client.accessToken('warm-up', url)
  await client.logout('warm-up').catch(() => undefined)
  tokenRequests = 0
  tokenChars = 0

  // Garbage with a finalizer (openid-client's AbortSignal.timeout per token request keeps its timer in a
  // FinalizationRegistry) is only freed once the finalizer has run on a later turn: collect, yield, repeat.
  const heapUsed = async (): Promise<number> => {
    for (let i = 0; i < 4; i++) {
      collect()
      await sleep(20)
    }
    return process.memoryUsage().heapUsed
  }
  const heapBaseline = await heapUsed()
  for (const batch of chunks(keys, 500)) {
    await Promise.all(batch.map((key) => client.importGrant(key, { refreshToken: randomToken(job.refreshTokenLength) })))
  }
  const heapAfterImport = await heapUsed()
  for (const batch of chunks(keys, 250)) {
    await Promise.all(batch.flatMap((key) => job.urls.map((url) => client.accessToken(key, url))))
  }
  const heapAfterTokens = await heapUsed()
  // Every token must now be cached: asking again makes no token request.
  const before = tokenRequests
  for (const key of keys.slice(0, 100)) for (const url of job.urls) await client.accessToken(key, url)
  if (tokenRequests !== before) throw new Error('tokens were not cached')

  const result: HeapResult = {
    grants: job.grants,
    tokenRequests,
    heapBaseline,
    heapAfterImport,
    heapAfterTokens,
    tokenBytes: tokenChars / tokenRequests,
  }
  await send('result', { ...result })
  await client.close()
})

/** A fresh random token of `length` base64url characters: a flat string of its own, as a parsed response has. */
function randomToken(length: number): string {
  const text = randomBytes(Math.ceil((length * 3) / 4) + 1).toString('base64url')
  // `slice` would keep the longer string alive behind a sliced string; copy the characters instead.
  return Buffer.from(text.slice(0, length), 'latin1').toString('latin1')
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size)
}
