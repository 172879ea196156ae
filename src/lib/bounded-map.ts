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

const SWEEP_INTERVAL_MS = 1000

/** Options of {@link BoundedMap}. */
export interface BoundedMapOptions {
  /** What a full map does with a new key: drop its oldest entry (default), or refuse the new one. */
  whenFull?: 'drop-oldest' | 'refuse'
}

/**
 * One entry of a {@link BoundedMap}, as {@link BoundedMap.entry} hands it out: a live view. Once the entry is deleted,
 * replaced, dropped to make room or cleared, its `expiresAt` becomes `-Infinity`, so a holder can tell with one
 * comparison (`expiresAt > now`) that it is still the map's current, unexpired entry, without looking it up again.
 * A gone entry lets go of its `value` and `memo` (a holder keeps an empty shell, not what the map held).
 */
export interface BoundedEntry<V> {
  readonly value: V
  readonly expiresAt: number
  /** What a holder derived from `value`, kept with the entry and released with it. */
  memo: unknown
}

interface Entry<V> {
  value: V | undefined
  expiresAt: number
  memo: unknown
}

const GONE = Number.NEGATIVE_INFINITY

export class BoundedMap<V> {
  readonly #entries = new Map<string, Entry<V>>()
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
    return this.entry(key, now)?.value
  }

  /** The live entry under `key`, if any (see {@link BoundedEntry}: it tells its holder when it is gone). */
  entry(key: string, now: number): BoundedEntry<V> | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= now) {
      this.#drop(key, entry)
      return undefined
    }
    return entry as BoundedEntry<V>
  }

  /**
   * Stores `value` until `expiresAt` (ms, or `Infinity`). Returns `false` when it was not stored: already
   * expired, a map of size 0, or a full map that refuses new keys.
   */
  set(key: string, value: V, expiresAt: number, now: number): boolean {
    if (expiresAt <= now || this.#maxEntries === 0) return false
    const existing = this.#entries.get(key)
    if (existing !== undefined) {
      this.#drop(key, existing)
    } else if (this.#entries.size >= this.#maxEntries) {
      if (now - this.#lastSweep >= SWEEP_INTERVAL_MS) {
        this.#lastSweep = now
        for (const [k, entry] of this.#entries) if (entry.expiresAt <= now) this.#drop(k, entry)
      }
      if (this.#refuse && this.#entries.size >= this.#maxEntries) return false
      while (this.#entries.size >= this.#maxEntries) {
        const oldest = this.#entries.entries().next()
        if (oldest.done === true) break
        this.#drop(oldest.value[0], oldest.value[1])
      }
    }
    this.#entries.set(key, { value, expiresAt, memo: undefined })
    return true
  }

  /** Adds `key` unless a live entry exists; returns `false` when it was already there (or could not be added). */
  addIfAbsent(key: string, value: V, expiresAt: number, now: number): boolean {
    if (this.get(key, now) !== undefined) return false
    return this.set(key, value, expiresAt, now)
  }

  delete(key: string): void {
    const entry = this.#entries.get(key)
    if (entry !== undefined) this.#drop(key, entry)
  }

  clear(): void {
    for (const entry of this.#entries.values()) release(entry)
    this.#entries.clear()
  }

  #drop(key: string, entry: Entry<V>): void {
    release(entry)
    this.#entries.delete(key)
  }
}

function release(entry: Entry<unknown>): void {
  entry.expiresAt = GONE
  entry.value = undefined
  entry.memo = undefined
}
