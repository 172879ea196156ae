// @ts-nocheck
import type { StoreWriteOptions, TokenStore } from '../stores/token-store.js'
import { BoundedMap } from '../lib/bounded-map.js'
import type { RecordCipher } from './record-cipher.js'

/** Options for {@link EncryptedStore}. */
export interface EncryptedStoreOptions {
  /**
   * How many store keys to remember the last seen ciphertext for (see {@link EncryptedStore.compareAndSet}).
   * Defaults to 1000. Forgetting a key only costs one extra read.
   */
  maxRemembered?: number
}

interface Seen {
  plaintext: string
  ciphertext: string
}

/**
 * A {@link TokenStore} that encrypts every record before it reaches the wrapped store and decrypts it
 * on the way back, with a {@link RecordCipher}. Records are bound to their store key. Lock names,
 * lock owners and keys are not encrypted (they hold no tokens).
 *
 * Reads that do not decrypt reject with `decryption_failed`. The wrapped store never sees plaintext.
 *
 * Internal: not exported. Users get it through the `encryption` option of `createResourceClient`, which wraps
 * the given store in one, so that no store can be used half-encrypted by hand:
 *
 * @example
 * ```ts
 * const client = await createResourceClient({ ...options, store: new RedisStore({ url }), encryption: { secrets: [secret] } })
 * ```
 */
export class EncryptedStore implements TokenStore {
  /** Always `false`: the point of this wrapper is that records leave the process. */
  readonly inProcess = false
  /** Present when the wrapped store has it; notifications carry keys only, so they pass through. */
  // `declare`: no own property at all (not even `undefined`) when the wrapped store cannot subscribe.
  declare readonly subscribe?: (listener: (key: string) => void) => () => void
  readonly #inner: TokenStore
  readonly #cipher: RecordCipher
  /** storeKey → the plaintext/ciphertext pair this wrapper last read or wrote, oldest first. */
  readonly #seen: BoundedMap<Seen>

  /**
   * @param inner The store that holds the ciphertext.
   * @param cipher Encrypts and decrypts records.
   */
  constructor(inner: TokenStore, cipher: RecordCipher, options: EncryptedStoreOptions = {}) {
    this.#inner = inner
    this.#cipher = cipher
    this.#seen = new BoundedMap(options.maxRemembered ?? 1000)
    if (inner.subscribe !== undefined) {
      const subscribe = inner.subscribe.bind(inner)
      this.subscribe = (listener) => subscribe(listener)
    }
  }

  /** @throws {ResourceTokensError} `decryption_failed` when the stored record does not decrypt. */
  async get(key: string): Promise<string | undefined> {
    const ciphertext = await this.#inner.get(key)
    return ciphertext === undefined ? undefined : this.#open(key, ciphertext)
  }

  /** Encrypts `value` for `key` and writes it. */
  async set(key: string, value: string, options?: StoreWriteOptions): Promise<void> {
    const ciphertext = this.#cipher.encrypt(key, value)
    this.#forget(key)
    await this.#inner.set(key, ciphertext, options)
    this.#remember(key, value, ciphertext)
  }

  /** Removes `key` from the wrapped store. */
  async delete(key: string): Promise<void> {
    this.#forget(key)
    await this.#inner.delete(key)
  }

  /**
   * Takes and decrypts. A record that does not decrypt is removed all the same (it is useless) and
   * the call rejects with `decryption_failed`.
   */
  async take(key: string): Promise<string | undefined> {
    this.#forget(key)
    const ciphertext = await this.#inner.take(key)
    if (ciphertext === undefined) return undefined
    return this.#cipher.decrypt(key, ciphertext)
  }

  /**
   * Compares plaintext, atomically. Encryption is randomized, so `expected` cannot simply be encrypted
   * again: the wrapped store's compare-and-set is given the exact ciphertext that decrypts to
   * `expected`, either remembered from this wrapper's last read or write of `key`, or read afresh.
   * The wrapped store compares bytes, so the write happens only if that very record is still there.
   *
   * One difference from a plaintext store: if another writer replaces the record with a new encryption
   * of the same plaintext between the read and the write, this resolves `false` (callers retry anyway).
   *
   * @throws {ResourceTokensError} `decryption_failed` when the current record has to be read and does not decrypt.
   */
  async compareAndSet(key: string, expected: string | undefined, value: string, options?: StoreWriteOptions): Promise<boolean> {
    const ciphertext = this.#cipher.encrypt(key, value)
    if (expected === undefined) return this.#swap(key, undefined, value, ciphertext, options)

    const seen = this.#seen.get(key, 0)
    if (seen !== undefined && seen.plaintext === expected) {
      if (await this.#swap(key, seen.ciphertext, value, ciphertext, options)) return true
    }
    // Unknown or stale: find the ciphertext that is there now and check what it says.
    const current = await this.#inner.get(key)
    if (current === undefined) return false
    if (this.#open(key, current) !== expected) return false
    return this.#swap(key, current, value, ciphertext, options)
  }

  /** Passed through: lock names and owners hold no secrets. */
  tryLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.#inner.tryLock(name, owner, ttlMs)
  }

  /** Passed through. */
  unlock(name: string, owner: string): Promise<void> {
    return this.#inner.unlock(name, owner)
  }

  /** Closes the wrapped store (when it has `close`). */
  async close(): Promise<void> {
    this.#seen.clear()
    await this.#inner.close?.()
  }

  async #swap(key: string, expected: string | undefined, plaintext: string, ciphertext: string, options?: StoreWriteOptions): Promise<boolean> {
    const written = await this.#inner.compareAndSet(key, expected, ciphertext, options)
    if (written) this.#remember(key, plaintext, ciphertext)
    return written
  }

  #open(key: string, ciphertext: string): string {
    const plaintext = this.#cipher.decrypt(key, ciphertext)
    this.#remember(key, plaintext, ciphertext)
    return plaintext
  }

  #remember(key: string, plaintext: string, ciphertext: string): void {
    // Pairs do not expire: one is only a hint, checked by the wrapped store's compare-and-set.
    this.#seen.delete(key)
    this.#seen.set(key, { plaintext, ciphertext }, Infinity, 0)
  }

  #forget(key: string): void {
    this.#seen.delete(key)
  }
}
