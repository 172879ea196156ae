import { sha256 } from '../lib/hash.js'

/**
 * Store keys derived from the app's grant key. The app's key may be a session id, a credential in its
 * own right, so it is hashed: it never appears in the store, a log line or an event.
 */
export interface GrantKeys {
  /** Short, stable, non-secret name for logs and events. */
  readonly ref: string
  readonly grant: string
  readonly lock: string
  /** Key of one pending login transaction of this grant key, by its state. */
  transaction(state: string): string
}

/**
 * The one owner of store key derivation for a client. `namespace` separates clients that share a store
 * (issuer and client id): a grant of one provider is never found, used or revoked by a client of another.
 * Not memoised: one SHA-256 of a short string costs less than a map that would hold raw session keys.
 */
export class StoreKeys {
  readonly #namespace: string

  constructor(namespace: string) {
    this.#namespace = namespace
  }

  /** The store keys of the grant the app calls `key`. */
  of(key: string): GrantKeys {
    const digest = sha256(this.#namespace, key)
    return {
      ref: digest.slice(0, 12),
      grant: `grant:${digest}`,
      lock: `lock:grant:${digest}`,
      transaction: (state) => `tx:${digest}:${sha256(state)}`,
    }
  }
}
