import type { ResourceClient } from 'resource-tokens'

/** Reads the response to the end (so the connection is reused) and fails on anything but 200. */
export async function consume(response: Response, what: string): Promise<void> {
  const body = await response.arrayBuffer()
  if (response.status !== 200) throw new Error(`${what}: HTTP ${response.status} (${body.byteLength} bytes)`)
}

/** `client.fetch` of `url` for `key`, read to the end; rejects unless the answer is 200. */
export async function clientFetch(client: ResourceClient, key: string, url: string): Promise<void> {
  await consume(await client.fetch(key, url), url)
}

/** What a batch of concurrent calls did: how many succeeded, and why the others failed. */
export interface Outcome {
  ok: number
  failed: number
  /** Failure reasons (a ResourceTokensError code, or the message), with counts. */
  reasons: Record<string, number>
}

export function outcome(results: ReadonlyArray<PromiseSettledResult<unknown>>): Outcome {
  const summary: Outcome = { ok: 0, failed: 0, reasons: {} }
  for (const result of results) {
    if (result.status === 'fulfilled') {
      summary.ok++
      continue
    }
    summary.failed++
    const err = result.reason as { code?: unknown; message?: unknown }
    const reason = typeof err?.code === 'string' ? err.code : String(err?.message ?? err)
    summary.reasons[reason] = (summary.reasons[reason] ?? 0) + 1
  }
  return summary
}

/** `total` fetches at once for one grant, alternating between the two resources. */
export function burst(client: ResourceClient, key: string, urls: readonly [string, string], total: number, offset = 0): Promise<Outcome> {
  const calls = Array.from({ length: total }, (_, i) => clientFetch(client, key, `${urls[(i + offset) % 2]}/items/${i + offset}`))
  return Promise.allSettled(calls).then(outcome)
}
