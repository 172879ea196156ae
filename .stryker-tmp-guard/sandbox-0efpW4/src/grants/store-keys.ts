// @ts-nocheck
import { BoundedMap } from '../lib/bounded-map.js'
import { sha256 } from '../lib/hash.js'

/**
 * Store keys derived from the app's grant key. The app's key may be a session id, a credential in its
 * own right, so it is hashed: it never appears in the store, a log line or an event.
 */
export interface GrantKeys {
  /** The hash of the app's key that names the grant in the store (`grant:<digest>`). */
  readonly digest: string
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
 * Derived keys are memoised per client in a small bounded map: the hot path asks for the same few keys again
 * and again, and a SHA-256 with its strings per request measured about 1 µs (docs/BENCHMARKS.md).
 */
const MEMO_SIZE = 1000

export class StoreKeys {
  readonly #namespace: string
  readonly #memo = new BoundedMap<GrantKeys>(MEMO_SIZE)

  constructor(namespace: string) {
    this.#namespace = namespace
  }

  /** The store keys of the grant the app calls `key`. */
  of(key: string): GrantKeys {
    const known = this.#memo.get(key, 0)
    if (known !== undefined) return known
    const keys = StoreKeys.ofDigest(sha256(this.#namespace, key))
    this.#memo.set(key, keys, Infinity, 0)
    return keys
  }

  /** The store keys of a grant known by its digest only (found through the session index). */
  static ofDigest(digest: string): GrantKeys {
    return {
      digest,
      ref: digest.slice(0, 12),
      grant: `grant:${digest}`,
      lock: `lock:grant:${digest}`,
      transaction: (state) => `tx:${digest}:${sha256(state)}`,
    }
  }
}
