// @ts-nocheck
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import { BoundedMap } from '../lib/bounded-map.js'

/** How many rotated refresh tokens may wait in memory for a store that failed to take them. */
const DEFAULT_MAX_RESCUED = 1000

/**
 * Rotated refresh tokens the store failed to take, by the refresh token they replace. When a provider rotates
 * refresh tokens, the one in the store is already spent once the refresh succeeded: if the store cannot take
 * its successor, the successor is held here and presented at the next refresh, until a write succeeds.
 *
 * Bounded without ever dropping one: a token is removed only once the store took it (or its grant is gone).
 * Room for a successor is reserved before a refresh is sent; when every place is taken or reserved, the
 * refresh is refused with `store_unavailable` before the provider is asked, so no rotation can happen that
 * there would be no room to rescue.
 */
export class RescuedRefreshTokens {
  readonly #tokens: BoundedMap<string>
  #reserved = 0

  constructor(maxEntries = DEFAULT_MAX_RESCUED) {
    this.#tokens = new BoundedMap<string>(maxEntries, { whenFull: 'refuse' })
  }

  /** The rotated successor of `stored`, if one waits here. */
  successorOf(stored: string): string | undefined {
    return this.#tokens.get(stored, 0)
  }

  /**
   * Holds room for the successor of `stored` while a refresh is under way; call the returned function when
   * the refresh is over (stored, rescued or failed).
   *
   * @throws `store_unavailable` when as many rotated tokens already wait for the store as fit.
   */
  reserve(stored: string): () => void {
    // A successor of `stored` already here is replaced in place: it needs no new room.
    const needsRoom = this.successorOf(stored) === undefined
    if (needsRoom && this.#tokens.size + this.#reserved >= this.#tokens.maxEntries) {
      throw new ResourceTokensError('store_unavailable', 'the token store has not taken the rotated refresh tokens of too many grants: no refresh until it recovers')
    }
    if (needsRoom) this.#reserved++
    let released = !needsRoom
    return () => {
      if (released) return
      released = true
      this.#reserved--
    }
  }

  /** Keeps `rotated` until the store takes it (room was reserved with {@link reserve}). */
  keep(stored: string, rotated: string): void {
    if (!this.#tokens.set(stored, rotated, Infinity, 0)) {
      // Unreachable while callers reserve first; said loudly rather than losing the token quietly.
      throw new ResourceTokensError('store_unavailable', 'no room to keep a rotated refresh token the store did not take')
    }
  }

  /** The store took the successor of `stored` (or its grant is gone): forget it, returning it. */
  release(stored: string): string | undefined {
    const successor = this.successorOf(stored)
    this.#tokens.delete(stored)
    return successor
  }
}
