import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import { BoundedMap, type BoundedEntry } from '../lib/bounded-map.js'
import type { StoreWriteOptions, TokenStore } from '../stores/token-store.js'
import { parseGrant, serializeGrant, type GrantRecord } from './grant-record.js'

/** A grant as read, with the exact stored value so a later write can be compare-and-set against it. */
export interface GrantSnapshot {
  readonly record: GrantRecord
  readonly raw: string
}

/**
 * How long a cached grant is used without looking at the store. Notifications keep the cache coherent; this
 * bound covers what they do not report (a record expiring in the store, a notification lost in transit).
 */
const MAX_CACHE_AGE_MS = 60_000

/** The key a store's change notification carries when anything may have changed (e.g. after a reconnect). */
const ALL_KEYS = '*'

/**
 * Reads and writes grants through the store, with a bounded in-process cache in front of it.
 *
 * The cache is only used when the store can tell us about changes (`subscribe`); a store that cannot is
 * read every time, because another process may have logged the user out or rotated the refresh token.
 * A generation counter guards against a slow read filling the cache after a newer change was announced
 * (the sequence guard of jose's remote JWKS). It is global rather than per key so that it costs no memory
 * per grant; a busy store only makes a few more reads skip the cache.
 */
export class GrantRepository {
  readonly #store: TokenStore
  readonly #cache: BoundedMap<GrantSnapshot>
  /** Store reads in flight for `read`, by key; dropped when a change is announced (later readers read again). */
  readonly #reads = new Map<string, Promise<GrantSnapshot | undefined>>()
  /** Bumped on every announced change; a read started before a bump does not fill the cache. */
  #generation = 0
  readonly #ttlSeconds: number
  readonly #unsubscribe: (() => void) | undefined

  readonly #now: () => number

  constructor(store: TokenStore, options: { cacheSize: number; grantTtlSeconds: number; now: () => number }) {
    this.#store = store
    this.#now = options.now
    this.#ttlSeconds = options.grantTtlSeconds
    this.#cache = new BoundedMap(store.subscribe === undefined ? 0 : options.cacheSize)
    this.#unsubscribe = store.subscribe?.((key) => this.#invalidate(key))
  }

  /** The grant under `storeKey` if the cache holds it, without I/O (the hot path). */
  peek(storeKey: string): GrantSnapshot | undefined {
    return this.#cache.get(storeKey, this.#now())
  }

  /**
   * The cache entry of the grant under `storeKey`, without I/O: a live view whose `expiresAt` drops to `-Infinity`
   * the moment the entry stops being the cache's current one (a change announced, a write, an eviction), so that a
   * memo of what was derived from this grant stays valid exactly while `entry.expiresAt > now`.
   */
  peekEntry(storeKey: string, now: number): BoundedEntry<GrantSnapshot> | undefined {
    return this.#cache.entry(storeKey, now)
  }

  /**
   * The grant under `storeKey`, from the cache when it is coherent. Concurrent reads of one key that miss the
   * cache share one store read (when the cache entry ages out, 64 requests in flight make one GET, not 64).
   */
  async read(storeKey: string): Promise<GrantSnapshot | undefined> {
    const cached = this.#cache.get(storeKey, this.#now())
    if (cached !== undefined) return cached
    let pending = this.#reads.get(storeKey)
    if (pending === undefined) {
      const read = this.readFresh(storeKey).finally(() => {
        if (this.#reads.get(storeKey) === read) this.#reads.delete(storeKey)
      })
      pending = read
      this.#reads.set(storeKey, read)
    }
    return pending
  }

  /** The grant under `storeKey`, read from the store (after winning the refresh lock, say). */
  async readFresh(storeKey: string): Promise<GrantSnapshot | undefined> {
    const generation = this.#generation
    const raw = await guard(() => this.#store.get(storeKey))
    const record = raw === undefined ? undefined : parseGrant(raw)
    if (raw === undefined || record === undefined) {
      // Gone from the store (expired, removed unannounced): gone from the cache too.
      this.#cache.delete(storeKey)
      return undefined
    }
    const snapshot = { record, raw }
    if (this.#generation === generation) this.#fill(storeKey, snapshot)
    return snapshot
  }

  /** Stores a new grant unconditionally (login, import). */
  async create(storeKey: string, record: GrantRecord): Promise<GrantSnapshot> {
    const raw = serializeGrant(record)
    await guard(() => this.#store.set(storeKey, raw, this.#writeOptions(record)))
    this.#invalidate(storeKey)
    return { record, raw }
  }

  /**
   * Replaces `previous` with `record` only if the store still holds `previous` (compare-and-set), so that a
   * slow writer can never overwrite a newer refresh token. Resolves the new snapshot, or `undefined` when
   * the stored grant changed or disappeared meanwhile.
   */
  async replace(storeKey: string, previous: GrantSnapshot, record: GrantRecord): Promise<GrantSnapshot | undefined> {
    const raw = serializeGrant(record)
    const written = await guard(() => this.#store.compareAndSet(storeKey, previous.raw, raw, this.#writeOptions(record)))
    this.#invalidate(storeKey)
    if (!written) return undefined
    // What we just wrote is served from memory at once, so that requests in flight during a renewal do not wait
    // for a store read. Another change may have been announced between the store applying this write and its reply
    // reaching us (a logout or a rotation on another instance), which only a read can tell: one follows, and unless
    // the store still holds what we wrote, the entry goes. The cached record is the one parsed from `raw`, as a read
    // would give: its strings share `raw`'s memory (the caller's record may keep a whole token response alive).
    const cached = { record: parseGrant(raw) ?? record, raw }
    if (this.#fill(storeKey, cached)) {
      this.readFresh(storeKey).then(
        (current) => {
          if (current?.raw !== raw) this.#cache.delete(storeKey)
        },
        () => this.#cache.delete(storeKey),
      )
    }
    return { record, raw }
  }

  /** Puts a taken grant back, only if nothing was stored under the key meanwhile. */
  async restore(storeKey: string, record: GrantRecord): Promise<boolean> {
    const written = await guard(() => this.#store.compareAndSet(storeKey, undefined, serializeGrant(record), this.#writeOptions(record)))
    this.#invalidate(storeKey)
    return written
  }

  /** Removes the grant and returns what was there (atomically: two logouts cannot both get it). */
  async take(storeKey: string): Promise<GrantRecord | undefined> {
    const raw = await guard(() => this.#store.take(storeKey))
    this.#invalidate(storeKey)
    return raw === undefined ? undefined : parseGrant(raw)
  }

  close(): void {
    this.#unsubscribe?.()
    this.#cache.clear()
  }

  /** Every grant record expires: after `grantTtlSeconds` unused, or with its refresh token when that is sooner. */
  #writeOptions(record: GrantRecord): StoreWriteOptions {
    if (record.refreshExpiresAt === undefined) return { ttlSeconds: this.#ttlSeconds }
    const left = Math.ceil((record.refreshExpiresAt - this.#now()) / 1000)
    return { ttlSeconds: Math.max(1, Math.min(this.#ttlSeconds, left)) }
  }

  /** Caches `snapshot`; never past its refresh token's end (the store drops the record then, without a notification). */
  #fill(storeKey: string, snapshot: GrantSnapshot): boolean {
    const now = this.#now()
    return this.#cache.set(storeKey, snapshot, Math.min(now + MAX_CACHE_AGE_MS, snapshot.record.refreshExpiresAt ?? Infinity), now)
  }

  #invalidate(storeKey: string): void {
    this.#generation++
    if (storeKey === ALL_KEYS) {
      this.#cache.clear()
      this.#reads.clear()
    } else {
      this.#cache.delete(storeKey)
      this.#reads.delete(storeKey)
    }
  }
}

/** Runs a store call, turning its failures into `store_unavailable` (typed errors pass through). */
export async function guard<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (err) {
    if (err instanceof ResourceTokensError) throw err
    throw new ResourceTokensError('store_unavailable', 'token store unavailable', { cause: err })
  }
}
