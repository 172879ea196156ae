/**
 * The one in-memory map of this library whose size is bounded and whose entries expire: every cache (grants,
 * ciphertexts, confirmed resource metadata, store keys, introspection results, DPoP `jti`s) is one. Time comes
 * from the caller so tests can control it; an entry that should not expire is set with `Infinity`.
 *
 * When full, `set` first sweeps expired entries (at most once a second) and then, by default, drops the
 * oldest entry (insertion order; a `set` of an existing key moves it to the end), so memory stays bounded
 * under a flood. With `whenFull: 'refuse'` nothing is ever dropped to make room: `set` returns `false`
 * instead, for maps whose entries must not be lost (a refresh token the store has not taken yet).
 */
// @ts-nocheck


const SWEEP_INTERVAL_MS = 1000

/** Options of {@link BoundedMap}. */
export interface BoundedMapOptions {
  /** What a full map does with a new key: drop its oldest entry (default), or refuse the new one. */
  whenFull?: 'drop-oldest' | 'refuse'
}

export class BoundedMap<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>()
  readonly #maxEntries: number
  readonly #refuse: boolean
  #lastSweep = Number.NEGATIVE_INFINITY

  constructor(maxEntries: number, options: BoundedMapOptions = {}) {
    this.#maxEntries = Math.max(0, Math.floor(maxEntries))
    this.#refuse = options.whenFull === 'refuse'
  }

  get size(): number {
    return this.#entries.size
  }

  get maxEntries(): number {
    return this.#maxEntries
  }

  /** The live value under `key`, if any. */
  get(key: string, now: number): V | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= now) {
      this.#entries.delete(key)
      return undefined
    }
    return entry.value
  }

  /**
   * Stores `value` until `expiresAt` (ms, or `Infinity`). Returns `false` when it was not stored: already
   * expired, a map of size 0, or a full map that refuses new keys.
   */
  set(key: string, value: V, expiresAt: number, now: number): boolean {
    if (expiresAt <= now || this.#maxEntries === 0) return false
    if (this.#entries.has(key)) {
      this.#entries.delete(key)
    } else if (this.#entries.size >= this.#maxEntries) {
      if (now - this.#lastSweep >= SWEEP_INTERVAL_MS) {
        this.#lastSweep = now
        for (const [k, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(k)
      }
      if (this.#refuse && this.#entries.size >= this.#maxEntries) return false
      while (this.#entries.size >= this.#maxEntries) {
        const oldest = this.#entries.keys().next()
        if (oldest.done === true) break
        this.#entries.delete(oldest.value)
      }
    }
    this.#entries.set(key, { value, expiresAt })
    return true
  }

  /** Adds `key` unless a live entry exists; returns `false` when it was already there (or could not be added). */
  addIfAbsent(key: string, value: V, expiresAt: number, now: number): boolean {
    if (this.get(key, now) !== undefined) return false
    return this.set(key, value, expiresAt, now)
  }

  delete(key: string): void {
    this.#entries.delete(key)
  }

  clear(): void {
    this.#entries.clear()
  }
}
