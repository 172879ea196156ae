// @ts-nocheck
import type { GrantRecord } from './grant-record.js'
import type { GrantRepository } from './grant-repository.js'
import type { Revoker } from './grant-writer.js'
import type { IndexKind, SessionIndex } from './session-index.js'
import { StoreKeys, type GrantKeys } from './store-keys.js'
import type { TypedEmitter } from '../observability/events.js'
import type { Logger } from '../observability/logger.js'
import { ResourceTokensError } from '../errors/resource-tokens-error.js'

/** Why a session's grants are ended. */
export type TerminationReason = 'backchannel_logout' | 'logout_all' | 'session_expired'

/**
 * Ends grants the app did not name by key: every grant of a provider session or of a user (found through the
 * {@link SessionIndex}), or one grant whose session lifetime is over. Each is taken from the shared store (which
 * announces it to every instance, so their caches drop it), then its refresh token is revoked. A refresh already
 * in flight for it cannot write it back: the grant writer's compare-and-set finds the grant gone, revokes what
 * the provider just issued and answers `login_required`.
 */
export class GrantTermination {
  readonly #grants: GrantRepository
  readonly #index: SessionIndex
  readonly #revoker: Revoker
  readonly #events: TypedEmitter
  readonly #logger: Logger

  constructor(parts: { grants: GrantRepository; index: SessionIndex; revoker: Revoker; events: TypedEmitter; logger: Logger }) {
    this.#grants = parts.grants
    this.#index = parts.index
    this.#revoker = parts.revoker
    this.#events = parts.events
    this.#logger = parts.logger
  }

  /**
   * Ends every grant whose ID token claim `kind` (`sid` or `sub`) is `value` (and that `also` accepts, when given).
   * Resolves how many were removed.
   */
  async endAll(kind: IndexKind, value: string, reason: TerminationReason, also: (record: GrantRecord) => boolean = () => true): Promise<number> {
    const entries = await this.#index.lookup(kind, value)
    const outcomes = await Promise.all(
      entries.map(async (entry) => {
        const keys = StoreKeys.ofDigest(entry.digest)
        // The index is a hint: only the grant it names, still owned by this session or user, is removed.
        const removed = await this.#take(keys, (record) => record.grantId === entry.grantId && record.claims[kind] === value && also(record))
        if (removed === undefined) {
          await this.#index.remove(kind, value, entry.digest, entry.grantId).catch(() => undefined)
          return 0
        }
        await this.#finish(keys, removed, reason)
        return 1
      }),
    )
    return outcomes.reduce<number>((sum, n) => sum + n, 0)
  }

  /** Ends the grant under `keys` if it is still the one with `grantId` (its session lifetime is over). */
  async endOne(keys: GrantKeys, grantId: string, reason: TerminationReason): Promise<void> {
    const removed = await this.#take(keys, (record) => record.grantId === grantId)
    if (removed !== undefined) await this.#finish(keys, removed, reason)
  }

  /** Takes the grant under `keys` if `owned` accepts what is stored there now. */
  async #take(keys: GrantKeys, owned: (record: GrantRecord) => boolean): Promise<GrantRecord | undefined> {
    const current = await this.#grants.readFresh(keys.grant).catch((err: unknown) => {
      if (err instanceof ResourceTokensError && err.code === 'decryption_failed') return undefined
      throw err
    })
    if (current === undefined || !owned(current.record)) return undefined
    const taken = await this.#grants.take(keys.grant)
    // A login replaced it between the read and the take: that grant was not ours to end; put it back if nothing else came.
    if (taken !== undefined && !owned(taken)) {
      await this.#grants.restore(keys.grant, taken).catch(() => undefined)
      return undefined
    }
    return taken
  }

  async #finish(keys: GrantKeys, record: GrantRecord, reason: TerminationReason): Promise<void> {
    await this.#index.removeGrant(keys.digest, record).catch(() => undefined)
    this.#events.emit('grant_removed', { grant: keys.ref, reason })
    let refreshToken: 'revoked' | 'failed' | 'unsupported' = 'unsupported'
    if (this.#revoker.canRevoke) {
      refreshToken = await this.#revoker.revoke(record.refreshToken, 'refresh_token').then(
        () => 'revoked' as const,
        () => 'failed' as const,
      )
    }
    this.#logger.info?.('grant removed', { grant: keys.ref, reason, refreshToken })
  }
}
