// @ts-nocheck
import { setTimeout as sleep } from 'node:timers/promises'
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import type { TypedEmitter } from '../observability/events.js'
import type { Logger } from '../observability/logger.js'
import type { StoredDPoPKey } from '../dpop/dpop-keys.js'
import type { CachedToken, GrantRecord } from './grant-record.js'
import type { GrantRepository, GrantSnapshot } from './grant-repository.js'
import { RescuedRefreshTokens } from './rescued-tokens.js'
import type { SessionIndex } from './session-index.js'
import type { GrantKeys } from './store-keys.js'

/** What the writer needs from the provider: revocation of tokens that belong to no stored grant. */
export interface Revoker {
  readonly canRevoke: boolean
  revoke(token: string, hint: 'refresh_token' | 'access_token'): Promise<unknown>
}

/** What a token response brings to the grant. */
export interface GrantUpdate {
  readonly refreshToken?: string | undefined
  readonly idToken?: string | undefined
  /** The `sid` of the response's ID token, when it has one: the grant now belongs to that provider session. */
  readonly sid?: string | undefined
  /** The end of the refresh token's life, when the response announced it (`refresh_expires_in`). */
  readonly refreshExpiresAt?: number | undefined
}

/** Why a grant is removed by the refresh path. */
export type RemovalReason = 'invalid_grant' | 'invalid_id_token' | 'refresh_token_dead'

const WRITE_ATTEMPTS = 5
/** Store failures retried while the grant lock is held, before the write gives up. */
const STORE_FAILURE_RETRIES = 2

/**
 * Every write of a grant after login: new tokens and rotated refresh tokens with compare-and-set and retry,
 * the rescue of rotated refresh tokens the store did not take, the grant's DPoP key, installing a grant
 * (login, import) and removing a failed one. Callers of the refresh-path writes hold the grant lock.
 */
export class GrantWriter {
  readonly #grants: GrantRepository
  readonly #revoker: Revoker
  readonly #events: TypedEmitter
  readonly #logger: Logger
  readonly #now: () => number
  readonly #index: SessionIndex
  readonly #rescued = new RescuedRefreshTokens()

  constructor(options: { grants: GrantRepository; index: SessionIndex; revoker: Revoker; events: TypedEmitter; logger: Logger; now: () => number }) {
    this.#grants = options.grants
    this.#index = options.index
    this.#revoker = options.revoker
    this.#events = options.events
    this.#logger = options.logger
    this.#now = options.now
  }

  /**
   * Starts a rotation of the grant's refresh token: the token to present (a rescued successor of the stored
   * one, since the stored one is spent, or the stored one) and room held to rescue the next successor.
   * Call `done` once the refresh is over.
   *
   * @throws `store_unavailable` when too many rotated refresh tokens wait for the store already.
   */
  beginRefresh(record: GrantRecord): { refreshToken: string; done: () => void } {
    const done = this.#rescued.reserve(record.refreshToken)
    return { refreshToken: this.#rescued.successorOf(record.refreshToken) ?? record.refreshToken, done }
  }

  /**
   * Writes a new token (into `slot`) and the response's refresh and ID tokens with compare-and-set; merges onto
   * a newer version of the same grant if one appeared, never onto another grant stored under the key meanwhile
   * (resolves `false` then). A store failure is retried; if it persists, a rotated refresh token is rescued
   * for the next attempt, so that the stored, already used one is never presented again.
   */
  async store(keys: GrantKeys, snapshot: GrantSnapshot, update: GrantUpdate, slot: string, token: CachedToken | undefined): Promise<boolean> {
    const used = snapshot.record.refreshToken
    let base = snapshot
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      // Only replace the refresh token if the stored one is the one we used: never overwrite a newer one.
      const ours = base.record.refreshToken === used
      const refreshToken = ours ? (update.refreshToken ?? this.#rescued.successorOf(used) ?? used) : base.record.refreshToken
      // A new refresh token's lifetime is what its response said, or unknown; a kept one keeps its own.
      const refreshExpiresAt = !ours ? base.record.refreshExpiresAt : (update.refreshExpiresAt ?? (refreshToken === used ? base.record.refreshExpiresAt : undefined))
      const now = this.#now()
      const live = liveTokens(base.record.tokens, now)
      const sidChanged = update.sid !== undefined && update.sid !== base.record.claims['sid']
      // A grant stored before the index existed (no indexedAt) is indexed at its first write.
      const indexDue = sidChanged || base.record.indexedAt === undefined || now - base.record.indexedAt >= this.#index.refreshAfterMs
      let next: GrantRecord = {
        ...base.record,
        rev: base.record.rev + 1,
        refreshToken,
        refreshExpiresAt,
        idToken: update.idToken ?? base.record.idToken,
        claims: sidChanged ? { ...base.record.claims, sid: update.sid } : base.record.claims,
        tokens: token === undefined ? live : { ...live, [slot]: token },
        lastRefreshed: update.refreshToken === undefined ? base.record.lastRefreshed : slot,
        activeAt: token === undefined ? base.record.activeAt : now,
      }
      if (indexDue) {
        // Index first, then the grant. An index that cannot be written must not cost the rotated refresh token:
        // the grant is stored all the same and indexed at the next write (the sub index still finds it).
        try {
          await this.#index.add(keys.digest, next)
          next = { ...next, indexedAt: now }
        } catch (err) {
          this.#logger.warn?.('session index not updated', { grant: keys.ref, code: err instanceof ResourceTokensError ? err.code : 'error' })
        }
      }
      let written: boolean
      try {
        written = (await this.#grants.replace(keys.grant, base, next)) !== undefined
      } catch (err) {
        if (!isStoreFailure(err) || attempt === STORE_FAILURE_RETRIES) {
          if (update.refreshToken !== undefined && update.refreshToken !== used) this.#rescued.keep(used, update.refreshToken)
          throw err
        }
        await sleep(100 * (attempt + 1))
        written = false
      }
      if (written) {
        this.#rescued.release(used)
        const oldSid = base.record.claims['sid']
        if (sidChanged && typeof oldSid === 'string') this.#index.remove('sid', oldSid, keys.digest, base.record.grantId).catch(() => undefined)
        return true
      }
      const current = await this.#grants.readFresh(keys.grant)
      if (current === undefined || current.record.grantId !== snapshot.record.grantId) {
        // The grant is gone: a successor rescued for it belongs to no stored grant and must not outlive it.
        const orphan = this.#rescued.release(used)
        if (orphan !== undefined && orphan !== update.refreshToken) this.#revokeQuietly(orphan)
        return false
      }
      base = current
    }
    throw new ResourceTokensError('store_unavailable', 'could not store the renewed token: the grant kept changing')
  }

  /**
   * Stores `dpopKey` as the grant's DPoP key unless it has one already. Resolves the grant's key (this one, or
   * one another writer stored first) and the snapshot that holds it.
   */
  async addDPoPKey(keys: GrantKeys, snapshot: GrantSnapshot, dpopKey: StoredDPoPKey): Promise<{ snapshot: GrantSnapshot; dpopKey: StoredDPoPKey }> {
    if (snapshot.record.dpopKey !== undefined) return { snapshot, dpopKey: snapshot.record.dpopKey }
    const written = await this.#grants.replace(keys.grant, snapshot, { ...snapshot.record, rev: snapshot.record.rev + 1, dpopKey })
    if (written !== undefined) return { snapshot: written, dpopKey }
    const current = await this.#grants.readFresh(keys.grant)
    if (current === undefined || current.record.grantId !== snapshot.record.grantId) throw loginRequired()
    if (current.record.dpopKey === undefined) throw new ResourceTokensError('store_unavailable', 'could not store the grant\'s DPoP key: the grant kept changing')
    return { snapshot: current, dpopKey: current.record.dpopKey }
  }

  /** Removes the grant only if it is still the one that failed (a login may have replaced it meanwhile). */
  async remove(keys: GrantKeys, snapshot: GrantSnapshot, reason: RemovalReason): Promise<void> {
    const current = await this.#grants.readFresh(keys.grant)
    if (current === undefined || current.record.grantId !== snapshot.record.grantId) return
    await this.#grants.take(keys.grant)
    this.#rescued.release(snapshot.record.refreshToken)
    this.#index.removeGrant(keys.digest, current.record).catch(() => undefined)
    this.#events.emit('grant_removed', { grant: keys.ref, reason })
    this.#logger.info?.('grant removed', { grant: keys.ref, reason })
  }

  /**
   * Installs a new grant (login, import) in place of whatever was stored under the key, and revokes the
   * replaced refresh token: it must not live on at the provider. A replaced record that does not decrypt
   * is gone all the same (the store removes it); any other store failure rejects and nothing is installed.
   * `merge` makes the stored grant from the replaced one (incremental authorization).
   */
  async install(keys: GrantKeys, recordIn: GrantRecord, merge?: (previous: GrantRecord) => GrantRecord): Promise<void> {
    // Indexed before it is stored: a back-channel logout for its session finds it from the moment it exists.
    const record: GrantRecord = { ...recordIn, activeAt: recordIn.createdAt, indexedAt: this.#now() }
    await this.#index.add(keys.digest, record)
    const previous = await this.#grants.take(keys.grant).catch((err: unknown) => {
      if (err instanceof ResourceTokensError && err.code === 'decryption_failed') return undefined
      throw err
    })
    // Incremental authorization: the new grant takes over what the previous one covered (see grant-merge.ts).
    const stored = previous === undefined || merge === undefined ? record : { ...merge(previous), activeAt: record.activeAt, indexedAt: record.indexedAt }
    await this.#grants.create(keys.grant, stored)
    if (previous !== undefined) {
      this.#index.removeGrant(keys.digest, previous).catch(() => undefined)
      const orphan = this.#rescued.release(previous.refreshToken)
      if (orphan !== undefined && orphan !== record.refreshToken) this.#revokeQuietly(orphan)
      if (previous.refreshToken !== record.refreshToken) this.#revokeQuietly(previous.refreshToken)
    }
    this.#events.emit('login', { grant: keys.ref, subject: String(record.claims['sub'] ?? '') })
  }

  /** Best effort, in the background: a token that belongs to no stored grant is revoked if the provider can. */
  #revokeQuietly(refreshToken: string): void {
    if (this.#revoker.canRevoke) this.#revoker.revoke(refreshToken, 'refresh_token').catch(() => undefined)
  }
}

/** The cached tokens that have not expired: a write never carries dead tokens forward. */
function liveTokens(tokens: Readonly<Record<string, CachedToken>>, now: number): Record<string, CachedToken> {
  const live: Record<string, CachedToken> = {}
  for (const [id, token] of Object.entries(tokens)) if (token.expiresAt > now) live[id] = token
  return live
}

function isStoreFailure(err: unknown): boolean {
  return err instanceof ResourceTokensError && err.code === 'store_unavailable'
}

export function loginRequired(): ResourceTokensError {
  return new ResourceTokensError('login_required', 'no usable grant for this key: log in again')
}
