/**
 * Where grants and login transactions live. A store is a small asynchronous key/value map of strings
 * with four extra promises: atomic take, compare-and-set, an expiring lock, and (optionally) change
 * notifications. It knows nothing about OAuth: records arrive serialized, and for every store that
 * is not in-process memory they arrive already encrypted (see `docs/STORES.md`). Locking policy,
 * retries and caching live above the store.
 *
 * Keys are chosen by the library (`grant:<key>`, `tx:<key>`, `lock:grant:<key>`); a store may add its
 * own prefix. Values are opaque strings: compare them byte for byte, never parse them.
 *
 * Every method must either complete or reject; a store that cannot reach its backend rejects (the
 * library turns that into `store_unavailable`). Never resolve with a guess.
 *
 * @example A PostgreSQL store, in outline:
 * ```sql
 * create table rt_records (key text primary key, value text not null, expires_at timestamptz);
 * create table rt_locks (name text primary key, owner text not null, expires_at timestamptz not null);
 * -- get:            select value from rt_records where key = $1 and (expires_at is null or expires_at > now())
 * -- set:            insert ... on conflict (key) do update set value = excluded.value, expires_at = excluded.expires_at
 * -- take:           delete from rt_records where key = $1 returning value
 * -- compareAndSet:  update rt_records set value = $3, expires_at = $4 where key = $1 and value = $2
 * --                 (expected undefined: insert ... on conflict do nothing); true when one row changed
 * -- tryLock:        insert into rt_locks values ($1, $2, now() + $3 * interval '1 ms')
 * --                 on conflict (name) do update set owner = $2, expires_at = excluded.expires_at
 * --                 where rt_locks.expires_at < now(); true when one row changed
 * -- unlock:         delete from rt_locks where name = $1 and owner = $2
 * ```
 */
// @ts-nocheck

export interface TokenStore {
  /** The value under `key`, or `undefined` when there is none or it has expired. */
  get(key: string): Promise<string | undefined>
  /** Writes `value` under `key`, replacing what was there. */
  set(key: string, value: string, options?: StoreWriteOptions): Promise<void>
  /** Removes `key`. Removing a missing key is not an error. */
  delete(key: string): Promise<void>
  /** Reads and removes `key` atomically: of two concurrent callers at most one gets the value. */
  take(key: string): Promise<string | undefined>
  /**
   * Writes `value` only if the current value equals `expected` (`undefined`: only if absent),
   * atomically. Resolves `true` when written, `false` when the current value differed.
   */
  compareAndSet(key: string, expected: string | undefined, value: string, options?: StoreWriteOptions): Promise<boolean>
  /**
   * Tries once to take the lock `name` for `owner`, expiring after `ttlMs`. Resolves `true` when
   * taken (or already held by `owner`, in which case the expiry is extended), `false` when another owner holds it.
   */
  tryLock(name: string, owner: string, ttlMs: number): Promise<boolean>
  /** Releases `name` only if `owner` holds it (a lock that expired and was re-taken is left alone). */
  unlock(name: string, owner: string): Promise<void>
  /**
   * Optional. Calls `listener` with a key whenever that key changes or is removed by anyone (this or another
   * process). The library uses it to keep its in-process cache coherent. Returns an unsubscribe function.
   * A store without it is treated as shared: the library does not cache its records and reads the store every time.
   */
  subscribe?(listener: (key: string) => void): () => void
  /**
   * True for stores whose records never leave this process (no encryption needed). Every other store must
   * be given `encryption` secrets.
   */
  readonly inProcess?: boolean
  /** Releases connections. Called by `client.close()` only when the client created the store. */
  close?(): Promise<void>
}

/** Options for writes. */
export interface StoreWriteOptions {
  /** Seconds until the record expires; omitted means no expiry. A persistent store must apply it (Redis: `PX`). */
  ttlSeconds?: number
  /**
   * The record serves only a flow that has not finished yet (a pending login transaction): a store that bounds
   * its memory may drop it before it expires, oldest first, and the flow then fails cleanly. Never set for
   * grants. Stores that do not bound their memory ignore it. Default `false`.
   */
  transient?: boolean
  /**
   * With `transient`: the flow the record belongs to (one grant key's pending logins). A store that bounds its
   * memory may also cap the transient records of one group, oldest first, so that one key's flood only ever
   * drops that key's own pending records. Stores that do not bound their memory ignore it.
   */
  group?: string
}
