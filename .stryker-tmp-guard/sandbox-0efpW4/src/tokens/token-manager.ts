// @ts-nocheck
import type * as client from 'openid-client'
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import type { CachedToken } from '../grants/grant-record.js'
import type { GrantLock } from '../grants/grant-lock.js'
import type { GrantRepository } from '../grants/grant-repository.js'
import type { SessionLifetime } from '../grants/session-lifetime.js'
import { loginRequired } from '../grants/grant-writer.js'
import type { GrantKeys, StoreKeys } from '../grants/store-keys.js'
import type { TypedEmitter } from '../observability/events.js'
import type { Logger } from '../observability/logger.js'
import type { RegisteredResource } from '../resources/resource.js'
import type { Telemetry } from '../telemetry/telemetry.js'
import type { Downscoping } from './downscoping/downscoping.js'
import type { GrantDPoP } from './grant-dpop.js'
import { asGranted } from './grant-coverage.js'
import type { TokenSource } from './token-source.js'

/** What a {@link TokenManager} works with. */
export interface TokenManagerParts {
  readonly grants: GrantRepository
  readonly lock: GrantLock
  readonly keys: StoreKeys
  /** How a token is obtained when none is cached (one of `src/tokens/downscoping/`). */
  readonly downscoping: Downscoping
  readonly dpop: GrantDPoP
  /** Ends grants whose session lifetime is over before they are used. */
  readonly sessions: SessionLifetime
  readonly events: TypedEmitter
  readonly logger: Logger
  readonly now: () => number
  /** Counts cache hits and misses (the only telemetry on the hot path: an integer increment). */
  readonly telemetry: Telemetry
}

/**
 * Hands out one access token per (grant, resource), renewing it when due.
 *
 * - Hot path: a fresh cached token is returned without I/O beyond the grant cache.
 * - Single-flight: concurrent callers for the same grant and resource share one pending renewal; never
 *   across resources, so no caller can be handed another resource's token.
 * - Serialized per grant: renewals of one grant take the grant lock and re-read the grant once it is won
 *   (another caller or process may have renewed or rotated meanwhile), so the provider never sees a refresh
 *   token twice. How the token is obtained is the down-scoping strategy's job; how it is stored, the grant writer's.
 */
export class TokenManager {
  readonly #parts: TokenManagerParts
  readonly #pending = new Map<string, Promise<CachedToken>>()

  constructor(parts: TokenManagerParts) {
    this.#parts = parts
  }

  /** The token source `fetch` uses for `resource` of the grant under `key`. */
  source(key: string, resource: RegisteredResource): TokenSource {
    return {
      token: (rejected) => this.accessToken(key, resource, rejected),
      dpopHandle: () => this.dpopHandle(key),
    }
  }

  /**
   * The access token for `resource` of the grant under `key`. `rejected` names a token the resource just
   * refused (`invalid_token`): it is not returned again.
   */
  async accessToken(key: string, registered: RegisteredResource, rejected?: string): Promise<CachedToken> {
    const keys = this.#parts.keys.of(key)
    const snapshot = await this.#parts.grants.read(keys.grant)
    if (snapshot === undefined || (await this.#parts.sessions.endIfOver(keys, snapshot.record))) throw loginRequired()
    // With the scope incremental logins added for it (the flight key below includes the scope).
    const resource = asGranted(snapshot.record, registered)
    const slot = this.#parts.downscoping.slot(resource)
    const cached = snapshot.record.tokens[slot]
    if (cached !== undefined && this.#usable(cached, rejected)) {
      this.#parts.telemetry.cacheLookup(resource.name, true)
      return cached
    }
    this.#parts.telemetry.cacheLookup(resource.name, false)

    const flightKey = `${keys.grant}\n${slot}\n${resource.scope}\n${rejected === undefined ? '' : 'retry'}`
    let flight = this.#pending.get(flightKey)
    if (flight === undefined) {
      flight = this.#renew(keys, resource, slot, rejected).finally(() => this.#pending.delete(flightKey))
      this.#pending.set(flightKey, flight)
    }
    return flight
  }

  /** The DPoP handle `fetch` must use with this grant's tokens, when the grant has a DPoP key. */
  async dpopHandle(key: string): Promise<client.DPoPHandle | undefined> {
    return this.#parts.dpop.handleOf(await this.#parts.grants.read(this.#parts.keys.of(key).grant))
  }

  #usable(token: CachedToken, rejected: string | undefined): boolean {
    return token.value !== rejected && this.#parts.now() < token.refreshAt
  }

  async #renew(keys: GrantKeys, resource: RegisteredResource, slot: string, rejected: string | undefined): Promise<CachedToken> {
    const { lock, grants, downscoping, events, logger } = this.#parts
    return lock.run(
      keys.lock,
      async (lease) => {
        const snapshot = await grants.readFresh(keys.grant)
        if (snapshot === undefined) throw loginRequired()
        const cached = snapshot.record.tokens[slot]
        if (cached !== undefined && this.#usable(cached, rejected)) return cached
        try {
          return await downscoping.obtain(keys, snapshot, resource, lease)
        } catch (err) {
          const code = err instanceof ResourceTokensError ? err.code : 'token_endpoint_unavailable'
          events.emit('refresh_failed', { grant: keys.ref, resource: resource.name, code })
          logger.warn?.('refresh failed', { grant: keys.ref, resource: resource.name, code })
          throw err
        }
      },
      { grant: keys.ref, resource: resource.name },
    )
  }
}
