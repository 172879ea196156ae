// A small in-memory map whose entries expire and whose size is bounded, for the introspection cache and
// the DPoP `jti` replay cache. Time comes from the caller so tests can control it.

const SWEEP_INTERVAL_MS = 1000

export class BoundedCache<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>()
  readonly #maxEntries: number
  #lastSweep = Number.NEGATIVE_INFINITY

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries
  }

  get size(): number {
    return this.#entries.size
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
   * Stores `value` until `expiresAt`. When full, expired entries are swept (at most once a second) and,
   * if that is not enough, the oldest entry is dropped: memory stays bounded under a flood.
   */
  set(key: string, value: V, expiresAt: number, now: number): void {
    if (expiresAt <= now) return
    this.#entries.delete(key)
    if (this.#entries.size >= this.#maxEntries) {
      if (now - this.#lastSweep >= SWEEP_INTERVAL_MS) {
        this.#lastSweep = now
        for (const [k, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(k)
      }
      while (this.#entries.size >= this.#maxEntries) {
        const oldest = this.#entries.keys().next()
        if (oldest.done === true) break
        this.#entries.delete(oldest.value)
      }
    }
    this.#entries.set(key, { value, expiresAt })
  }

  /** Adds `key` unless a live entry exists; returns `false` when it was already there. */
  addIfAbsent(key: string, value: V, expiresAt: number, now: number): boolean {
    if (this.get(key, now) !== undefined) return false
    this.set(key, value, expiresAt, now)
    return true
  }
}
