// @ts-nocheck
import { AsyncLocalStorage } from 'node:async_hooks'
import { judgeRevocation, type RevocationAnswer, type RevocationVerdict } from './revocation-outcome.js'

/** Bodies longer than this are not read further: only their start decides the outcome. */
const MAX_BODY_BYTES = 64 * 1024

type Fetch = (url: string, init: RequestInit) => Promise<Response>

/**
 * openid-client's `tokenRevocation` resolves on any HTTP 200 and hides the response, but RFC 7009's answer is
 * only success when the body is empty or JSON (see {@link judgeRevocation}). This wraps the client's fetch so
 * that a revocation run inside {@link RevocationCapture.judge} keeps a copy of its answer (status, content type,
 * the start of the body) for that call alone: concurrent revocations each see their own, through
 * AsyncLocalStorage. Nothing else is read or kept.
 */
export class RevocationCapture {
  readonly #current = new AsyncLocalStorage<{ answer?: Promise<RevocationAnswer> }>()

  /** `fetchImpl` with answers captured for calls made inside {@link judge}. */
  wrap(fetchImpl: Fetch): Fetch {
    return async (url, init) => {
      const response = await fetchImpl(url, init)
      const slot = this.#current.getStore()
      if (slot !== undefined) {
        const copy = response.clone()
        slot.answer = readStart(copy).then((body) => ({ status: copy.status, contentType: copy.headers.get('content-type'), body }))
      }
      return response
    }
  }

  /**
   * Runs one revocation and judges the provider's answer. A call that got no answer (network failure, timeout)
   * is `failed`; a call that threw after an answer is judged by that answer (a 400 `unsupported_token_type` is
   * `unsupported`).
   */
  async judge(revoke: () => Promise<void>): Promise<RevocationVerdict & { error?: unknown }> {
    const slot: { answer?: Promise<RevocationAnswer> } = {}
    let error: unknown
    try {
      await this.#current.run(slot, revoke)
    } catch (err) {
      error = err
    }
    const answer = await slot.answer
    if (answer === undefined) return { outcome: 'failed', reason: 'no answer', error }
    const verdict = judgeRevocation(answer)
    return error === undefined ? verdict : { ...verdict, error }
  }
}

/** The first {@link MAX_BODY_BYTES} of a body as text (the rest is not read); '' when it cannot be read. */
async function readStart(response: Response): Promise<string> {
  if (response.body === null) return ''
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    while (size < MAX_BODY_BYTES) {
      const { done, value } = await reader.read()
      if (done) break
      chunks.push(value)
      size += value.byteLength
    }
  } catch {
    return ''
  } finally {
    reader.cancel().catch(() => undefined)
  }
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES))
}
