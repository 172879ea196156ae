import type { GrantRecord } from './grant-record.js'
import type { GrantTermination } from './grant-termination.js'
import type { GrantKeys } from './store-keys.js'

/**
 * The app's own session lifetimes, on top of whatever the provider enforces on its refresh tokens:
 * `absoluteMs` since login (or import), `idleMs` since a token was last obtained with the grant. A grant past
 * either is revoked and removed when next used, and the caller gets `login_required`.
 *
 * Idle time is counted from the last token the grant obtained, not from every request (that would be a store
 * write per request): a user who keeps using a cached token counts as active from its renewal on, so
 * `idleMs` should exceed the longest access-token lifetime of the registered resources.
 */
export class SessionLifetime {
  readonly #absoluteMs: number | undefined
  readonly #idleMs: number | undefined
  readonly #termination: GrantTermination
  readonly #now: () => number

  constructor(options: { absoluteMs: number | undefined; idleMs: number | undefined; termination: GrantTermination; now: () => number }) {
    this.#absoluteMs = options.absoluteMs
    this.#idleMs = options.idleMs
    this.#termination = options.termination
    this.#now = options.now
  }

  /** True when the grant's session is over (either lifetime). */
  isOver(record: GrantRecord): boolean {
    return this.#now() >= this.endsAt(record)
  }

  /** When the grant's session ends (ms since the epoch; `Infinity` without session lifetimes), as this record says. */
  endsAt(record: GrantRecord): number {
    const absolute = this.#absoluteMs === undefined ? Infinity : record.createdAt + this.#absoluteMs
    const idle = this.#idleMs === undefined ? Infinity : (record.activeAt ?? record.createdAt) + this.#idleMs
    return Math.min(absolute, idle)
  }

  /**
   * Ends the grant when its session is over: revoked, removed on every instance. Resolves `true` when it was over.
   */
  async endIfOver(keys: GrantKeys, record: GrantRecord): Promise<boolean> {
    if (!this.isOver(record)) return false
    await this.#termination.endOne(keys, record.grantId, 'session_expired')
    return true
  }
}
