import type { CachedToken } from '../grants/grant-record.js'
import { BoundedMap } from '../lib/bounded-map.js'

/**
 * A token is never sent in its last seconds: the resource checks `exp` when the request arrives, on its own
 * clock. At most this much, and at most a third of the token's renewal window (a short-lived token keeps most
 * of its window usable).
 */
const SAFETY_MARGIN_MS = 5000

/** Background renewals that failed are tried again after 1 s, 2 s, 4 s, then every 5 s. */
const FIRST_RETRY_MS = 1000
const MAX_RETRY_MS = 5000
/** How long a failure is remembered (for the back-off to grow) after its retry time. */
const FAILURE_MEMORY_MS = 60_000

/**
 * What a cached token is good for now:
 * - `fresh` before `refreshAt`: use it.
 * - `renew` from `refreshAt` until it is about to expire: use it, and renew it in the background (refresh-ahead).
 * - `expired` in its last seconds (see {@link SAFETY_MARGIN_MS}) and after: a request must wait for a new one.
 */
export type TokenState = 'fresh' | 'renew' | 'expired'

export function tokenState(token: CachedToken, now: number): TokenState {
  if (now < token.refreshAt) return 'fresh'
  return now < servableUntil(token) ? 'renew' : 'expired'
}

/** Until when a token is handed out while its renewal is pending or failing. */
export function servableUntil(token: CachedToken): number {
  return token.expiresAt - Math.min(SAFETY_MARGIN_MS, Math.max(0, token.expiresAt - token.refreshAt) / 3)
}

/**
 * Single-flight renewals per key: callers that need a token now share one pending renewal (`join`); a renewal
 * ahead of need (`ahead`) starts one that nobody waits for, unless one is pending already or the last one
 * failed moments ago (exponential back-off, so a failing token endpoint sees at most one attempt per key
 * every few seconds, not one per request). A renewal that anyone joins is the same promise for all.
 */
export class Renewals<T> {
  readonly #pending = new Map<string, Promise<T>>()
  readonly #failures: BoundedMap<{ count: number; retryAt: number }>
  readonly #now: () => number

  constructor(options: { maxKeys: number; now: () => number }) {
    this.#failures = new BoundedMap(options.maxKeys)
    this.#now = options.now
  }

  /** The pending renewal under `key`, or a new one from `start`. */
  join(key: string, start: () => Promise<T>): Promise<T> {
    let flight = this.#pending.get(key)
    if (flight === undefined) {
      flight = start().finally(() => this.#pending.delete(key))
      this.#pending.set(key, flight)
      flight.then(
        () => this.#failures.delete(key),
        () => undefined,
      )
    }
    return flight
  }

  /**
   * Starts a renewal under `key` in the background when none is pending and no back-off holds; `failed` hears
   * of its failure (nobody else does: the caller already has a token to use).
   */
  ahead(key: string, start: () => Promise<T>, failed: (err: unknown) => void): void {
    if (this.#pending.has(key)) return
    const now = this.#now()
    const failure = this.#failures.get(key, now)
    if (failure !== undefined && now < failure.retryAt) return
    this.join(key, start).catch((err: unknown) => {
      const count = (failure?.count ?? 0) + 1
      const at = this.#now()
      const retryAt = at + Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (count - 1))
      this.#failures.set(key, { count, retryAt }, retryAt + FAILURE_MEMORY_MS, at)
      failed(err)
    })
  }

  /** Renewals in flight (for tests). */
  get pending(): number {
    return this.#pending.size
  }

  /** Resolves once every renewal in flight now has finished, whatever its outcome (for `close`). */
  async settled(): Promise<void> {
    await Promise.allSettled(this.#pending.values())
  }
}
