import type * as client from 'openid-client'
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import type { CachedToken } from '../grants/grant-record.js'
import type { GrantLock } from '../grants/grant-lock.js'
import type { GrantRepository, GrantSnapshot } from '../grants/grant-repository.js'
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
import { ReadyTokens, type Lane } from './ready-tokens.js'
import { Renewals, tokenState } from './renewal.js'
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
  /** Bound on the per-key renewal bookkeeping (failures remembered for back-off). */
  readonly maxKeys: number
  /** The registered resources' version (see ResourceRegistry.version): lanes made under another are not used. */
  readonly resourcesVersion: () => number
}

/**
 * Hands out one access token per (grant, resource), renewing it ahead of need.
 *
 * - Hot path ({@link ready}): a cached token from the grant cache, synchronously, no I/O, no allocation; a fresh
 *   token found once is remembered with the grant cache entry it came from (ready-tokens.ts), so later calls make one lookup.
 * - Refresh-ahead: a token in its renewal window is still handed out while one background renewal replaces it;
 *   only a caller that finds no usable token waits. A failed background renewal is reported (`refresh_failed`
 *   with `background: true`, and a warning) and tried again with back-off while the token is still valid
 *   (see renewal.ts for how long).
 * - Single-flight: concurrent callers for the same grant and resource share one pending renewal; never
 *   across resources, so no caller can be handed another resource's token.
 * - Serialized per grant: renewals of one grant take the grant lock and re-read the grant once it is won
 *   (another caller or process may have renewed or rotated meanwhile), so the provider never sees a refresh
 *   token twice. How the token is obtained is the down-scoping strategy's job; how it is stored, the grant writer's.
 */
export class TokenManager {
  readonly #parts: TokenManagerParts
  readonly #renewals: Renewals<CachedToken>
  /** What {@link ready} found, remembered while the grant cache entry it came from is current (see ready-tokens.ts). */
  readonly #ready: ReadyTokens

  constructor(parts: TokenManagerParts) {
    this.#parts = parts
    this.#renewals = new Renewals({ maxKeys: parts.maxKeys, now: parts.now })
    this.#ready = new ReadyTokens(parts.maxKeys)
  }

  /** The token source `fetch` uses for the grant under `key`. */
  source(key: string): TokenSource {
    return new GrantTokens(this, key)
  }

  /**
   * The cached token for `resource` of the grant under `key` when the grant is in the in-process cache and the
   * token can be used now (renewed in the background when due); otherwise `undefined` and {@link accessToken} decides.
   */
  ready(key: string, registered: RegisteredResource): CachedToken | undefined {
    // One clock reading for the whole lookup.
    const now = this.#parts.now()
    let token = this.#ready.find(key, registered, now)
    if (token === undefined) {
      const keys = this.#parts.keys.of(key)
      const grant = this.#parts.grants.peekEntry(keys.grant, now)
      if (grant === undefined) return undefined
      const sessionEnd = this.#parts.sessions.endsAt(grant.value.record)
      if (now >= sessionEnd) return undefined
      token = this.#usable(keys, grant.value, registered, undefined, now)
      if (token === undefined) return undefined
      if (now < token.refreshAt) this.#ready.remember(key, grant, registered, token, Math.min(token.refreshAt, sessionEnd))
    }
    this.#parts.telemetry.cacheLookup(registered.name, true)
    return token
  }

  /**
   * The lane of the request URL `input` for the grant under `key` (see ready-tokens.ts): a URL sent before with a
   * bearer token that is still what {@link ready} would give, located under the current resources. Counted as a
   * token cache hit.
   */
  lane(key: string, input: string): Lane | undefined {
    const lane = this.#ready.lane(key, input, this.#parts.resourcesVersion(), this.#parts.now())
    if (lane !== undefined) this.#parts.telemetry.cacheLookup(lane.resource.name, true)
    return lane
  }

  /** Makes a lane of `input`, just located in `resource` and about to be sent with `token` (from {@link ready}). */
  addLane(key: string, input: string, url: URL, resource: RegisteredResource, token: CachedToken, authorization: string): void {
    this.#ready.addLane(key, input, url, resource, token, authorization, this.#parts.resourcesVersion(), this.#parts.now())
  }

  /**
   * The access token for `resource` of the grant under `key`. `rejected` names a token the resource just
   * refused (`invalid_token`): it is not returned again.
   */
  async accessToken(key: string, registered: RegisteredResource, rejected?: string): Promise<CachedToken> {
    const keys = this.#parts.keys.of(key)
    const snapshot = await this.#parts.grants.read(keys.grant)
    if (snapshot === undefined || (await this.#parts.sessions.endIfOver(keys, snapshot.record))) throw loginRequired()
    const cached = this.#usable(keys, snapshot, registered, rejected, this.#parts.now())
    this.#parts.telemetry.cacheLookup(registered.name, cached !== undefined)
    if (cached !== undefined) return cached
    // With the scope incremental logins added for it (the flight key includes the scope).
    const resource = asGranted(snapshot.record, registered)
    const slot = this.#parts.downscoping.slot(resource)
    return this.#renewals.join(flightKey(keys, slot, resource, rejected), () => this.#renew(keys, resource, slot, rejected, false))
  }

  /** Resolves once the renewals in flight (background ones included) have finished: `close` waits for them. */
  settled(): Promise<void> {
    return this.#renewals.settled()
  }

  /** The DPoP handle `fetch` must use with this grant's tokens, when the grant has a DPoP key. */
  async dpopHandle(key: string): Promise<client.DPoPHandle | undefined> {
    return this.#parts.dpop.handleOf(await this.#parts.grants.read(this.#parts.keys.of(key).grant))
  }

  /** The grant's cached token for `registered` if it may be used now; starts its renewal ahead of need when due. */
  #usable(keys: GrantKeys, snapshot: GrantSnapshot, registered: RegisteredResource, rejected: string | undefined, now: number): CachedToken | undefined {
    const record = snapshot.record
    const resource = record.extraScopes === undefined ? registered : asGranted(record, registered)
    const slot = this.#parts.downscoping.slot(resource)
    const token = record.tokens[slot]
    if (token === undefined || token.value === rejected) return undefined
    const state = tokenState(token, now)
    if (state === 'expired') return undefined
    if (state === 'renew') {
      this.#renewals.ahead(
        flightKey(keys, slot, resource, undefined),
        () => this.#renew(keys, resource, slot, undefined, true),
        () => undefined,
      )
    }
    return token
  }

  async #renew(keys: GrantKeys, resource: RegisteredResource, slot: string, rejected: string | undefined, background: boolean): Promise<CachedToken> {
    const { lock, grants, downscoping, events, logger } = this.#parts
    return lock.run(
      keys.lock,
      async (lease) => {
        const snapshot = await grants.readFresh(keys.grant)
        if (snapshot === undefined) throw loginRequired()
        const cached = snapshot.record.tokens[slot]
        // Renewed by another caller or process meanwhile: nothing to do.
        if (cached !== undefined && cached.value !== rejected && tokenState(cached, this.#parts.now()) === 'fresh') return cached
        try {
          return await downscoping.obtain(keys, snapshot, resource, lease)
        } catch (err) {
          const code = err instanceof ResourceTokensError ? err.code : 'token_endpoint_unavailable'
          events.emit('refresh_failed', { grant: keys.ref, resource: resource.name, code, background })
          logger.warn?.(background ? 'refresh ahead of expiry failed; the current token is used until it expires' : 'refresh failed', { grant: keys.ref, resource: resource.name, code })
          throw err
        }
      },
      { grant: keys.ref, resource: resource.name },
    )
  }
}

function flightKey(keys: GrantKeys, slot: string, resource: RegisteredResource, rejected: string | undefined): string {
  return `${keys.grant}\n${slot}\n${resource.scope}\n${rejected === undefined ? '' : 'retry'}`
}

/** The token source of one grant: what `fetch` is handed (no closures per call). */
class GrantTokens implements TokenSource {
  readonly #manager: TokenManager
  readonly #key: string

  constructor(manager: TokenManager, key: string) {
    this.#manager = manager
    this.#key = key
  }

  ready(resource: RegisteredResource): CachedToken | undefined {
    return this.#manager.ready(this.#key, resource)
  }

  sent(input: string, url: URL, resource: RegisteredResource, token: CachedToken, authorization: string): void {
    this.#manager.addLane(this.#key, input, url, resource, token, authorization)
  }

  token(resource: RegisteredResource, rejected?: string): Promise<CachedToken> {
    return this.#manager.accessToken(this.#key, resource, rejected)
  }

  dpopHandle(): Promise<client.DPoPHandle | undefined> {
    return this.#manager.dpopHandle(this.#key)
  }
}
