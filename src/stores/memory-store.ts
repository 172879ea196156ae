import type { StoreWriteOptions, TokenStore } from './token-store.js'

interface Entry {
  value: string
  expiresAt: number | undefined
}

interface LockEntry {
  owner: string
  expiresAt: number
}

/** Options for {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** Clock in milliseconds, for tests. Defaults to `Date.now`. */
  now?: () => number
}

/**
 * The default store: a `Map` in this process. Grants are lost when the process ends and are not shared
 * with other processes; use a persistent store (e.g. `RedisStore`) for that. Records are not encrypted,
 * since they never leave the process.
 *
 * @example
 * ```ts
 * const client = await createResourceClient({ ...options, store: new MemoryStore() })
 * ```
 */
export class MemoryStore implements TokenStore {
  readonly inProcess = true
  readonly #entries = new Map<string, Entry>()
  readonly #locks = new Map<string, LockEntry>()
  readonly #listeners = new Set<(key: string) => void>()
  readonly #now: () => number

  constructor(options: MemoryStoreOptions = {}) {
    this.#now = options.now ?? Date.now
  }

  /** Number of live records; for diagnostics and benchmarks. */
  get size(): number {
    return this.#entries.size
  }

  async get(key: string): Promise<string | undefined> {
    return this.#read(key)
  }

  async set(key: string, value: string, options: StoreWriteOptions = {}): Promise<void> {
    this.#write(key, value, options)
  }

  async delete(key: string): Promise<void> {
    if (this.#entries.delete(key)) this.#notify(key)
  }

  async take(key: string): Promise<string | undefined> {
    const value = this.#read(key)
    if (value !== undefined) {
      this.#entries.delete(key)
      this.#notify(key)
    }
    return value
  }

  async compareAndSet(key: string, expected: string | undefined, value: string, options: StoreWriteOptions = {}): Promise<boolean> {
    if (this.#read(key) !== expected) return false
    this.#write(key, value, options)
    return true
  }

  async tryLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const now = this.#now()
    const held = this.#locks.get(name)
    if (held !== undefined && held.owner !== owner && held.expiresAt > now) return false
    this.#locks.set(name, { owner, expiresAt: now + ttlMs })
    return true
  }

  async unlock(name: string, owner: string): Promise<void> {
    if (this.#locks.get(name)?.owner === owner) this.#locks.delete(name)
  }

  subscribe(listener: (key: string) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  #read(key: string): string | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt !== undefined && entry.expiresAt <= this.#now()) {
      this.#entries.delete(key)
      return undefined
    }
    return entry.value
  }

  #write(key: string, value: string, options: StoreWriteOptions): void {
    const expiresAt = options.ttlSeconds === undefined ? undefined : this.#now() + options.ttlSeconds * 1000
    this.#entries.set(key, { value, expiresAt })
    this.#notify(key)
  }

  #notify(key: string): void {
    for (const listener of this.#listeners) listener(key)
  }
}
