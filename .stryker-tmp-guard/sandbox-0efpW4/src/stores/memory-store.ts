// @ts-nocheck
import { ResourceTokensConfigError } from '../errors/resource-tokens-error.js'
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
  /**
   * Most transient records (written with `transient: true`: pending login transactions) kept at once; past it
   * the oldest are dropped, so that a flood of abandoned logins cannot grow memory without bound. Records that
   * are not transient (grants, records without expiry) are never dropped for it. Defaults to 10000.
   */
  maxTransientEntries?: number
  /**
   * How often an unref'd timer drops expired records, in milliseconds, while any record can expire. Writes also
   * sweep, amortised, so memory comes back under load as well as when idle. Defaults to 60000.
   */
  sweepIntervalMs?: number
  /**
   * Most transient records of one `group` (one grant key's pending logins) kept at once; past it that group's oldest
   * are dropped, never another group's. Defaults to 10.
   */
  maxTransientPerGroup?: number
}

const DEFAULT_MAX_TRANSIENT = 10_000
const DEFAULT_MAX_TRANSIENT_PER_GROUP = 10
const DEFAULT_SWEEP_INTERVAL_MS = 60_000
/** A full sweep runs after this many writes at least, or after as many writes as there are records: O(1) per write, amortised. */
const MIN_WRITES_PER_SWEEP = 1024

/**
 * The default store: a `Map` in this process. Grants are lost when the process ends and are not shared
 * with other processes; use a persistent store (e.g. `RedisStore`) for that. Records are not encrypted,
 * since they never leave the process.
 *
 * Memory is bounded: expired records are dropped without being read again (on writes, amortised, and on an
 * unref'd timer), and transient records (pending logins) are capped by `maxTransientEntries`, oldest first.
 *
 * @example
 * ```ts
 * const client = await createResourceClient({ ...options, store: new MemoryStore() })
 * ```
 */
export class MemoryStore implements TokenStore {
  readonly inProcess = true
  readonly #entries = new Map<string, Entry>()
  /** Transient records: key to the sequence number of its last transient write. */
  readonly #transient = new Map<string, number>()
  /** Transient records by group, oldest first (at most `maxTransientPerGroup` each); a group goes when it is empty. */
  readonly #groups = new Map<string, string[]>()
  /** The group of each transient record that has one. */
  readonly #groupOf = new Map<string, string>()
  /**
   * Transient writes in order, oldest first, from `#head` on; an item whose sequence number is no longer the key's
   * is stale and skipped. (Not the Map's own order: taking a Map's first key after many deletions from its front
   * scans the holes they leave, which made a flood quadratic.)
   */
  #order: Array<{ key: string; seq: number }> = []
  #head = 0
  #seq = 0
  readonly #locks = new Map<string, LockEntry>()
  readonly #listeners = new Set<(key: string) => void>()
  readonly #now: () => number
  readonly #maxTransient: number
  readonly #maxPerGroup: number
  readonly #sweepIntervalMs: number
  /** Records and locks that can expire; the timer runs only while there are some. */
  #expiring = 0
  #writesSinceSweep = 0
  #timer: NodeJS.Timeout | undefined

  /** @throws {ResourceTokensConfigError} `invalid_config` when an option has the wrong type or range. */
  constructor(options: MemoryStoreOptions = {}) {
    const {
      now = Date.now,
      maxTransientEntries = DEFAULT_MAX_TRANSIENT,
      sweepIntervalMs = DEFAULT_SWEEP_INTERVAL_MS,
      maxTransientPerGroup = DEFAULT_MAX_TRANSIENT_PER_GROUP,
    } = options ?? {}
    if (typeof now !== 'function') throw new ResourceTokensConfigError('"now" must be a function')
    if (!(Number.isSafeInteger(maxTransientEntries) && maxTransientEntries > 0)) {
      throw new ResourceTokensConfigError('"maxTransientEntries" must be a positive integer')
    }
    if (!(Number.isSafeInteger(maxTransientPerGroup) && maxTransientPerGroup > 0)) {
      throw new ResourceTokensConfigError('"maxTransientPerGroup" must be a positive integer')
    }
    if (!(Number.isFinite(sweepIntervalMs) && sweepIntervalMs > 0)) {
      throw new ResourceTokensConfigError('"sweepIntervalMs" must be a positive number')
    }
    this.#now = now
    this.#maxTransient = maxTransientEntries
    this.#maxPerGroup = maxTransientPerGroup
    this.#sweepIntervalMs = sweepIntervalMs
  }

  /** Number of records held, expired ones not yet swept included; for diagnostics and benchmarks. */
  get size(): number {
    return this.#entries.size
  }

  /** Number of locks held, expired ones not yet swept included; for diagnostics. */
  get lockCount(): number {
    return this.#locks.size
  }

  async get(key: string): Promise<string | undefined> {
    return this.#read(key)
  }

  async set(key: string, value: string, options: StoreWriteOptions = {}): Promise<void> {
    this.#write(key, value, options)
  }

  async delete(key: string): Promise<void> {
    if (this.#remove(key)) this.#notify(key)
  }

  async take(key: string): Promise<string | undefined> {
    const value = this.#read(key)
    if (value !== undefined) {
      this.#remove(key)
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
    if (held === undefined) this.#countExpiring(1)
    this.#locks.set(name, { owner, expiresAt: now + ttlMs })
    this.#afterWrite()
    return true
  }

  async unlock(name: string, owner: string): Promise<void> {
    if (this.#locks.get(name)?.owner === owner) this.#removeLock(name)
  }

  subscribe(listener: (key: string) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Stops the sweep timer. The records stay readable; the timer starts again with the next expiring write. */
  async close(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** Drops every expired record and lock now. Resolves the number dropped. */
  sweep(): number {
    this.#writesSinceSweep = 0
    const now = this.#now()
    let dropped = 0
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt !== undefined && entry.expiresAt <= now) {
        this.#remove(key)
        dropped++
      }
    }
    for (const [name, lock] of this.#locks) {
      if (lock.expiresAt <= now) {
        this.#removeLock(name)
        dropped++
      }
    }
    return dropped
  }

  #read(key: string): string | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt !== undefined && entry.expiresAt <= this.#now()) {
      this.#remove(key)
      return undefined
    }
    return entry.value
  }

  #write(key: string, value: string, options: StoreWriteOptions): void {
    const expiresAt = options.ttlSeconds === undefined ? undefined : this.#now() + options.ttlSeconds * 1000
    const previous = this.#entries.get(key)
    this.#countExpiring((expiresAt === undefined ? 0 : 1) - (previous?.expiresAt === undefined ? 0 : 1))
    this.#entries.set(key, { value, expiresAt })
    this.#transient.delete(key)
    this.#leaveGroup(key)
    if (options.transient === true && options.group !== undefined) this.#joinGroup(key, options.group)
    if (options.transient === true) {
      const seq = ++this.#seq
      this.#transient.set(key, seq)
      this.#order.push({ key, seq })
      this.#evictTransient()
    }
    this.#notify(key)
    this.#afterWrite()
  }

  /** Drops the oldest transient records past the cap; they are announced like any removal. */
  #evictTransient(): void {
    while (this.#transient.size > this.#maxTransient && this.#head < this.#order.length) {
      const oldest = this.#order[this.#head++] as { key: string; seq: number }
      if (this.#transient.get(oldest.key) !== oldest.seq) continue
      this.#remove(oldest.key)
      this.#notify(oldest.key)
    }
    // Compact: drop what was consumed, and stale items when they outnumber the live ones. O(1) per write, amortised.
    const live = this.#order.length - this.#head
    if (this.#head > 1024 && this.#head > live) {
      this.#order = this.#order.slice(this.#head)
      this.#head = 0
    }
    if (live > 2 * this.#transient.size + 1024) {
      this.#order = this.#order.slice(this.#head).filter((item) => this.#transient.get(item.key) === item.seq)
      this.#head = 0
    }
  }

  /** Adds a transient record to its group; past the group's cap its oldest record is dropped (and announced). */
  #joinGroup(key: string, group: string): void {
    const members = this.#groups.get(group) ?? []
    members.push(key)
    this.#groups.set(group, members)
    this.#groupOf.set(key, group)
    while (members.length > this.#maxPerGroup) {
      const oldest = members[0] as string
      this.#remove(oldest)
      this.#notify(oldest)
    }
  }

  #leaveGroup(key: string): void {
    const group = this.#groupOf.get(key)
    if (group === undefined) return
    this.#groupOf.delete(key)
    const members = this.#groups.get(group)
    if (members === undefined) return
    const at = members.indexOf(key)
    if (at >= 0) members.splice(at, 1)
    if (members.length === 0) this.#groups.delete(group)
  }

  #remove(key: string): boolean {
    const entry = this.#entries.get(key)
    if (entry === undefined) return false
    this.#entries.delete(key)
    this.#transient.delete(key)
    this.#leaveGroup(key)
    if (entry.expiresAt !== undefined) this.#countExpiring(-1)
    return true
  }

  #removeLock(name: string): void {
    if (this.#locks.delete(name)) this.#countExpiring(-1)
  }

  #afterWrite(): void {
    this.#writesSinceSweep++
    if (this.#writesSinceSweep >= Math.max(MIN_WRITES_PER_SWEEP, this.#entries.size + this.#locks.size)) this.sweep()
  }

  /** Keeps the count of expiring records and locks, and the timer running exactly while there are some. */
  #countExpiring(delta: number): void {
    this.#expiring += delta
    if (this.#expiring > 0 && this.#timer === undefined) {
      this.#timer = setInterval(() => this.sweep(), this.#sweepIntervalMs)
      this.#timer.unref()
    } else if (this.#expiring <= 0 && this.#timer !== undefined) {
      clearInterval(this.#timer)
      this.#timer = undefined
    }
  }

  #notify(key: string): void {
    for (const listener of this.#listeners) listener(key)
  }
}
