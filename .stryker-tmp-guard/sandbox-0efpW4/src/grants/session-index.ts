// @ts-nocheck
import { createHmac, hkdfSync, randomBytes } from 'node:crypto'
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import type { Logger } from '../observability/logger.js'
import type { TokenStore } from '../stores/token-store.js'
import type { GrantRecord } from './grant-record.js'
import { guard } from './grant-repository.js'

/** One grant an index record points at: its store key digest, its immutable id, and until when the entry holds. */
export interface IndexedGrant {
  /** The digest of the grant's store key (`grant:<digest>`). */
  readonly digest: string
  readonly grantId: string
  /** ms since the epoch; an entry past it is dropped at the next write of the record. */
  readonly until: number
}

interface IndexRecord {
  readonly v: 1
  readonly grants: IndexedGrant[]
}

/** Which claim an index record is keyed by. */
export type IndexKind = 'sid' | 'sub'

/**
 * Most grants one index record lists. A user with more concurrent grants than this loses the oldest from the
 * index (logged as a warning): back-channel logout and `logoutAll` no longer find it, though it still expires.
 */
export const MAX_INDEXED_GRANTS = 500
const WRITE_ATTEMPTS = 8

/**
 * The store's index from a session id (`sid`) and from a subject (`sub`) to the grants they own, so that a
 * back-channel logout or `logoutAll` finds every grant of a session or user in a shared store, from any instance.
 *
 * Each index is one ordinary record (`idx:<kind>:<keyed hash>`) holding a bounded list of entries, updated with
 * compare-and-set; nothing new is asked of a store. Index keys are HMACs under a key derived from the encryption
 * secrets (random per process for an in-process store), so the store does not reveal which user or session a
 * record belongs to, and no one can compute the key of a known user id without the secret. The list itself is
 * encrypted like every record. With several secrets (rotation) lookups try each; writes use the first.
 *
 * The index is a hint, never the authority: every entry is checked against the grant it names (same `grantId`,
 * the claim still equal) before anything is removed, so a stale or lost entry can neither remove the wrong
 * grant nor keep a grant alive; entries expire with the grant's TTL and are refreshed while the grant is written.
 */
export class SessionIndex {
  readonly #store: TokenStore
  readonly #keys: readonly Buffer[]
  readonly #namespace: string
  readonly #ttlSeconds: number
  readonly #now: () => number
  readonly #logger: Logger

  constructor(options: {
    store: TokenStore
    namespace: string
    secrets: ReadonlyArray<string | Uint8Array> | undefined
    ttlSeconds: number
    now: () => number
    logger: Logger
  }) {
    this.#store = options.store
    this.#namespace = options.namespace
    this.#ttlSeconds = options.ttlSeconds
    this.#now = options.now
    this.#logger = options.logger
    const secrets = options.secrets ?? []
    this.#keys = secrets.length === 0 ? [randomBytes(32)] : secrets.map(indexKeyOf)
  }

  /** How often a live grant's entries are written again so that they do not expire before it (half the TTL). */
  get refreshAfterMs(): number {
    return (this.#ttlSeconds * 1000) / 2
  }

  /** Adds the grant under `digest` to the index of its `sid` and of its `sub` (each when present). */
  async add(digest: string, record: GrantRecord): Promise<void> {
    const until = this.#now() + this.#ttlSeconds * 1000
    for (const [kind, value] of claimsOf(record)) {
      await this.#update(this.#storeKey(this.#keys[0] as Buffer, kind, value), (grants) => [
        ...grants.filter((g) => g.digest !== digest || g.grantId !== record.grantId),
        { digest, grantId: record.grantId, until },
      ])
    }
  }

  /** Removes the grant from the index of `kind`/`value` (under every secret's key). */
  async remove(kind: IndexKind, value: string, digest: string, grantId: string): Promise<void> {
    for (const key of this.#keys) {
      await this.#update(this.#storeKey(key, kind, value), (grants) => grants.filter((g) => g.digest !== digest || g.grantId !== grantId))
    }
  }

  /** Removes the grant from the index of its `sid` and its `sub`. */
  async removeGrant(digest: string, record: GrantRecord): Promise<void> {
    for (const [kind, value] of claimsOf(record)) await this.remove(kind, value, digest, record.grantId)
  }

  /** The grants indexed under `kind`/`value`, unexpired entries only, each at most once. */
  async lookup(kind: IndexKind, value: string): Promise<IndexedGrant[]> {
    const now = this.#now()
    const found = new Map<string, IndexedGrant>()
    for (const key of this.#keys) {
      const raw = await this.#read(this.#storeKey(key, kind, value))
      for (const entry of parseIndex(raw)) if (entry.until > now) found.set(`${entry.digest}\n${entry.grantId}`, entry)
    }
    return [...found.values()]
  }

  async #update(storeKey: string, change: (grants: IndexedGrant[]) => IndexedGrant[]): Promise<void> {
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const current = await this.#read(storeKey)
      const now = this.#now()
      let grants = change(parseIndex(current).filter((g) => g.until > now))
      if (grants.length > MAX_INDEXED_GRANTS) {
        this.#logger.warn?.('session index full: the oldest grants of this user are no longer found by back-channel logout or logoutAll', { max: MAX_INDEXED_GRANTS })
        grants = grants.slice(grants.length - MAX_INDEXED_GRANTS)
      }
      if (grants.length === 0) {
        if (current === undefined) return
        // A removal can race an addition: only delete what we read, else retry with the newer list.
        if (await guard(() => this.#store.compareAndSet(storeKey, current, serialize([]), { ttlSeconds: 1 }))) return
        continue
      }
      const ttlSeconds = Math.max(1, Math.ceil((Math.max(...grants.map((g) => g.until)) - now) / 1000))
      if (await guard(() => this.#store.compareAndSet(storeKey, current, serialize(grants), { ttlSeconds }))) return
    }
    this.#logger.warn?.('session index: gave up updating a contended index record')
  }

  /** The index record, or `undefined`; one that does not decrypt (its secret was retired) counts as empty and is replaced. */
  async #read(storeKey: string): Promise<string | undefined> {
    try {
      return await guard(() => this.#store.get(storeKey))
    } catch (err) {
      if (!(err instanceof ResourceTokensError && err.code === 'decryption_failed')) throw err
      await guard(() => this.#store.delete(storeKey))
      return undefined
    }
  }

  #storeKey(key: Buffer, kind: IndexKind, value: string): string {
    const mac = createHmac('sha256', key).update(this.#namespace).update('\0').update(kind).update('\0').update(value).digest('base64url')
    return `idx:${kind}:${mac}`
  }
}

/** The `sid` and `sub` a grant is indexed under, when its ID token claims carry them. */
export function claimsOf(record: GrantRecord): Array<[IndexKind, string]> {
  const pairs: Array<[IndexKind, string]> = []
  const sid = record.claims['sid']
  const sub = record.claims['sub']
  if (typeof sid === 'string' && sid !== '') pairs.push(['sid', sid])
  if (typeof sub === 'string' && sub !== '') pairs.push(['sub', sub])
  return pairs
}

/** An index key per secret, derived with HKDF so it is independent of the record encryption key. */
function indexKeyOf(secret: string | Uint8Array): Buffer {
  const ikm = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret)
  return Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), 'resource-tokens session index v1', 32))
}

function serialize(grants: IndexedGrant[]): string {
  return JSON.stringify({ v: 1, grants } satisfies IndexRecord)
}

function parseIndex(raw: string | undefined): IndexedGrant[] {
  if (raw === undefined) return []
  try {
    const value = JSON.parse(raw) as Partial<IndexRecord>
    if (value?.v !== 1 || !Array.isArray(value.grants)) return []
    return value.grants.filter((g) => typeof g?.digest === 'string' && typeof g.grantId === 'string' && typeof g.until === 'number')
  } catch {
    return []
  }
}
