import { setTimeout as sleep } from 'node:timers/promises'
import * as oauth from 'oauth4webapi'
import type * as client from 'openid-client'
import type { ResolvedOptions } from '../config/options.js'
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import type { CachedToken, GrantRecord } from '../grants/grant-record.js'
import type { GrantLock } from '../grants/grant-lock.js'
import type { GrantRepository, GrantSnapshot } from '../grants/grant-repository.js'
import { grantKeys, type GrantKeys } from '../grants/store-keys.js'
import type { DPoPKeys } from '../dpop/dpop-keys.js'
import type { TypedEmitter } from '../observability/events.js'
import { classifyProviderError, safeCause, tokenEndpointError } from '../protocol/classify-error.js'
import type { ProviderClient } from '../protocol/provider-client.js'
import type { RegisteredResource } from '../resources/resource.js'
import { toCachedToken } from './cached-token.js'
import { scopeMinus, scopeSet } from './scope.js'


/**
 * Obtains, caches and renews one access token per (grant, resource) from the grant's refresh token.
 *
 * - Hot path: a fresh cached token is returned without I/O beyond the grant cache.
 * - Single-flight: concurrent callers for the same grant and resource share one pending renewal; never
 *   across resources, so no caller can be handed another resource's token.
 * - Serialized per grant: renewals of one grant take the grant lock, re-read the grant once it is won (another
 *   caller or process may have renewed or rotated meanwhile) and store the rotated refresh token with
 *   compare-and-set before the lock is released, so the provider never sees a refresh token twice.
 */
export class TokenManager {
  readonly #pending = new Map<string, Promise<CachedToken>>()
  /** Rotated refresh tokens the store failed to take, by the refresh token they replace. */
  readonly #rescued = new Map<string, string>()

  constructor(
    private readonly provider: ProviderClient,
    private readonly grants: GrantRepository,
    private readonly lock: GrantLock,
    private readonly events: TypedEmitter,
    private readonly options: ResolvedOptions,
    private readonly dpopKeys: DPoPKeys,
  ) {}

  /**
   * The access token for `resource` of the grant under `key`. `rejected` names a token the resource just
   * refused (`invalid_token`): it is not returned again.
   */
  async accessToken(key: string, resource: RegisteredResource, rejected?: string): Promise<CachedToken> {
    const keys = grantKeys(this.options.keyNamespace, key)
    const snapshot = await this.grants.read(keys.grant)
    if (snapshot === undefined) throw loginRequired()
    const cached = snapshot.record.tokens[this.#slot(resource)]
    if (cached !== undefined && this.#usable(cached, rejected)) return cached

    const flightKey = `${keys.grant}\n${this.#slot(resource)}\n${resource.scope}\n${rejected === undefined ? '' : 'retry'}`
    let flight = this.#pending.get(flightKey)
    if (flight === undefined) {
      flight = this.#renew(keys, resource, rejected).finally(() => this.#pending.delete(flightKey))
      this.#pending.set(flightKey, flight)
    }
    return flight
  }

  /** Where a resource's token is cached in the grant: its own slot, or the shared one without down-scoping. */
  #slot(resource: RegisteredResource): string {
    return this.options.downscoping === 'none' ? FULL_SCOPE_SLOT : resource.id
  }

  #usable(token: CachedToken, rejected: string | undefined): boolean {
    return token.value !== rejected && this.options.now() < token.refreshAt
  }

  async #renew(keys: GrantKeys, resource: RegisteredResource, rejected: string | undefined): Promise<CachedToken> {
    return this.lock.run(keys.lock, async () => {
      const snapshot = await this.grants.readFresh(keys.grant)
      if (snapshot === undefined) throw loginRequired()
      const cached = snapshot.record.tokens[this.#slot(resource)]
      if (cached !== undefined && this.#usable(cached, rejected)) return cached
      try {
        return await this.#obtain(keys, snapshot, resource)
      } catch (err) {
        const code = err instanceof ResourceTokensError ? err.code : 'token_endpoint_unavailable'
        this.events.emit('refresh_failed', { grant: keys.ref, resource: resource.name, code })
        this.options.logger.warn?.('refresh failed', { grant: keys.ref, resource: resource.name, code })
        throw err
      }
    })
  }

  /** Obtains a token for `resource` the configured way; the caller holds the grant lock. */
  async #obtain(keys: GrantKeys, snapshot: GrantSnapshot, resource: RegisteredResource): Promise<CachedToken> {
    switch (this.options.downscoping) {
      case 'none':
        return this.#refresh(keys, snapshot, resource, new URLSearchParams(), FULL_SCOPE_SLOT)
      case 'token-exchange':
        return this.#exchange(keys, snapshot, resource)
      case 'scope': {
        const parameters = new URLSearchParams({ scope: resource.scope })
        if (resource.indicator !== undefined) parameters.set('resource', resource.indicator)
        return this.#refresh(keys, snapshot, resource, parameters, resource.id)
      }
    }
  }

  /** RFC 8693: a full-scope token from the refresh token (cached), exchanged for one restricted to `resource`. */
  async #exchange(keys: GrantKeys, snapshot: GrantSnapshot, resource: RegisteredResource, fresh = false): Promise<CachedToken> {
    let subject = fresh ? undefined : snapshot.record.tokens[FULL_SCOPE_SLOT]
    let current = snapshot
    const cachedSubject = subject !== undefined && this.#usable(subject, undefined)
    if (subject === undefined || !cachedSubject) {
      subject = await this.#refresh(keys, snapshot, resource, new URLSearchParams(), FULL_SCOPE_SLOT)
      const reread = await this.grants.readFresh(keys.grant)
      if (reread === undefined || reread.record.grantId !== snapshot.record.grantId) throw loginRequired()
      current = reread
    }
    const parameters = new URLSearchParams({ scope: resource.scope })
    if (resource.indicator !== undefined) parameters.set('resource', resource.indicator)
    let dpop: client.DPoPHandle | undefined
    if (resource.dpop) ({ handle: dpop, snapshot: current } = await this.#withDPoPKey(keys, current))
    const startedAt = this.options.now()
    let response: client.TokenEndpointResponse
    try {
      response = await this.provider.exchange(subject.value, parameters, dpop)
    } catch (err) {
      const failure = classifyProviderError(err)
      // A cached subject token the provider no longer accepts (revoked, expired early) says nothing about the
      // grant: once more with a subject token fresh from the refresh token.
      if (failure.kind === 'invalid_grant' && cachedSubject) return this.#exchange(keys, current, resource, true)
      throw tokenEndpointError(failure.kind === 'invalid_grant' ? { kind: 'oauth_error', error: 'invalid_grant', status: failure.status, description: undefined } : failure, err, `token exchange for ${resource.name}`)
    }
    const token = toCachedToken(response, resource, startedAt, this.options)
    const refusal = this.#checkScope(keys, token, resource)
    if (refusal !== undefined) throw refusal
    if (!(await this.#store(keys, current, {}, resource.id, token))) throw loginRequired()
    this.events.emit('token', { grant: keys.ref, resource: resource.name, scope: token.scope, tokenType: token.type, expiresIn: response.expires_in, rotated: false })
    return token
  }

  async #refresh(keys: GrantKeys, snapshotIn: GrantSnapshot, resource: RegisteredResource, parameters: URLSearchParams, slot: string, attempt = 0): Promise<CachedToken> {
    let snapshot = snapshotIn
    let dpop: client.DPoPHandle | undefined
    if (resource.dpop) ({ handle: dpop, snapshot } = await this.#withDPoPKey(keys, snapshot))
    const startedAt = this.options.now()
    let response: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers
    const refreshToken = this.#rescued.get(snapshot.record.refreshToken) ?? snapshot.record.refreshToken
    try {
      response = await this.provider.refresh(refreshToken, parameters, dpop)
    } catch (err) {
      const failure = classifyProviderError(err)
      if (failure.kind === 'invalid_grant') {
        // Another instance may have rotated the refresh token a moment ago (its lock expired, or it does not
        // share our lock): if the stored grant changed, try once more with what is there now.
        const current = await this.grants.readFresh(keys.grant)
        if (current !== undefined && current.record.refreshToken !== snapshot.record.refreshToken && attempt === 0) {
          return this.#refresh(keys, current, resource, parameters, slot, attempt + 1)
        }
        if (current !== undefined && current.record.refreshToken === snapshot.record.refreshToken) {
          await this.#remove(keys, snapshot, 'invalid_grant')
        }
      }
      if (failure.kind === 'id_token' && !isTransientIdTokenFailure(err)) {
        // The provider answered with an ID token that does not validate (wrong iss, aud, signature): the refresh
        // token may be rotated already, and a grant whose provider misbehaves like this is not kept. An unknown
        // signing key (the provider rotated its keys) or a clock problem is not that: the grant stays.
        await this.#remove(keys, snapshot, 'invalid_id_token')
      }
      if (failure.kind === 'oauth_error' && (failure.error === 'invalid_scope' || failure.error === 'invalid_target')) {
        const last = snapshot.record.lastRefreshed
        if (last !== undefined && last !== slot) throw narrowed(resource, failure.error, err)
      }
      throw tokenEndpointError(failure, err, `refresh for ${resource.name}`)
    }

    if (!this.#sameIdentity(snapshot.record, response)) {
      // The refresh token may already be rotated; a grant that answers for another user is not kept either way.
      await this.#remove(keys, snapshot, 'invalid_id_token')
      throw new ResourceTokensError('invalid_id_token', `refresh for ${resource.name}: the refreshed ID token names another subject or issuer; the grant was removed`)
    }
    const token = toCachedToken(response, resource, startedAt, this.options)
    // Without down-scoping the token is meant to carry everything: nothing to compare.
    const refusal = slot === FULL_SCOPE_SLOT ? undefined : this.#checkScope(keys, token, resource)
    const rotated = response.refresh_token !== undefined && response.refresh_token !== snapshot.record.refreshToken
    // Even a refused token's response may carry a rotated refresh token: it is stored, never dropped.
    const written = await this.#store(keys, snapshot, response, slot, refusal === undefined ? token : undefined)
    if (!written) {
      // The grant was removed (logout) or replaced (a new login under the same key) while we refreshed: what
      // we obtained belongs to no stored grant and must not outlive it.
      if (rotated && response.refresh_token !== undefined) await this.provider.revoke(response.refresh_token, 'refresh_token').catch(() => undefined)
      throw loginRequired()
    }
    if (refusal !== undefined) throw refusal
    if (resource.dpop && token.type !== 'dpop') {
      this.options.logger.warn?.('the provider issued a bearer token where a DPoP-bound token was requested', { grant: keys.ref, resource: resource.name })
    }
    this.events.emit('token', { grant: keys.ref, resource: resource.name, scope: token.scope, tokenType: token.type, expiresIn: response.expires_in, rotated })
    this.options.logger.debug?.('access token obtained', { grant: keys.ref, resource: resource.name, scope: token.scope, rotated })
    return token
  }

  /** The DPoP handle `fetch` must use with this grant's tokens, when the grant has a DPoP key. */
  async dpopHandle(key: string): Promise<client.DPoPHandle | undefined> {
    const snapshot = await this.grants.read(grantKeys(this.options.keyNamespace, key).grant)
    const stored = snapshot?.record.dpopKey
    return stored === undefined ? undefined : this.dpopKeys.handle(stored)
  }

  /** The grant's DPoP key, created and stored (under the grant lock) on first use. */
  async #withDPoPKey(keys: GrantKeys, snapshot: GrantSnapshot): Promise<{ handle: client.DPoPHandle; snapshot: GrantSnapshot }> {
    const stored = snapshot.record.dpopKey
    if (stored !== undefined) return { handle: await this.dpopKeys.handle(stored), snapshot }
    const dpopKey = await this.dpopKeys.generate()
    const written = await this.grants.replace(keys.grant, snapshot, { ...snapshot.record, rev: snapshot.record.rev + 1, dpopKey })
    if (written === undefined) {
      const current = await this.grants.readFresh(keys.grant)
      if (current === undefined || current.record.grantId !== snapshot.record.grantId) throw loginRequired()
      if (current.record.dpopKey === undefined) throw new ResourceTokensError('store_unavailable', 'could not store the grant\'s DPoP key: the grant kept changing')
      return this.#withDPoPKey(keys, current)
    }
    return { handle: await this.dpopKeys.handle(dpopKey), snapshot: written }
  }

  /**
   * Writes the new token and refresh token with compare-and-set; merges onto a newer version of the same grant
   * if one appeared (never onto another grant stored under the key meanwhile: resolves false then). A store
   * failure is retried while the lock is held; if it persists, a rotated refresh token is kept in memory for
   * the next attempt, so that the stored, already used one is never presented again.
   */
  async #store(keys: GrantKeys, snapshot: GrantSnapshot, response: Pick<client.TokenEndpointResponse, 'refresh_token' | 'id_token'>, slot: string, token: CachedToken | undefined): Promise<boolean> {
    const usedRefreshToken = snapshot.record.refreshToken
    let base = snapshot
    for (let attempt = 0; attempt < 5; attempt++) {
      // Only replace the refresh token if the stored one is the one we used: never overwrite a newer one.
      const refreshToken = base.record.refreshToken === usedRefreshToken ? (response.refresh_token ?? this.#rescued.get(usedRefreshToken) ?? usedRefreshToken) : base.record.refreshToken
      const next: GrantRecord = {
        ...base.record,
        rev: base.record.rev + 1,
        refreshToken,
        idToken: response.id_token ?? base.record.idToken,
        tokens: token === undefined ? this.#liveTokens(base.record.tokens) : { ...this.#liveTokens(base.record.tokens), [slot]: token },
        lastRefreshed: response.refresh_token === undefined ? base.record.lastRefreshed : slot,
      }
      let written: boolean
      try {
        written = (await this.grants.replace(keys.grant, base, next)) !== undefined
      } catch (err) {
        if (!(err instanceof ResourceTokensError && err.code === 'store_unavailable') || attempt === 2) {
          if (response.refresh_token !== undefined && response.refresh_token !== usedRefreshToken) this.#rescue(usedRefreshToken, response.refresh_token)
          throw err
        }
        await sleep(100 * (attempt + 1))
        written = false
      }
      if (written) {
        this.#rescued.delete(usedRefreshToken)
        return true
      }
      const current = await this.grants.readFresh(keys.grant)
      if (current === undefined || current.record.grantId !== snapshot.record.grantId) return false
      base = current
    }
    throw new ResourceTokensError('store_unavailable', 'could not store the renewed token: the grant kept changing')
  }

  /** Remembers a rotated refresh token the store could not take, keyed by the one it replaces (bounded). */
  #rescue(used: string, rotated: string): void {
    if (this.#rescued.size >= 1000) this.#rescued.clear()
    this.#rescued.set(used, rotated)
  }

  /** Removes the grant only if it is still the one that failed (a login may have replaced it meanwhile). */
  async #remove(keys: GrantKeys, snapshot: GrantSnapshot, reason: 'invalid_grant' | 'invalid_id_token'): Promise<void> {
    const current = await this.grants.readFresh(keys.grant)
    if (current === undefined || current.record.grantId !== snapshot.record.grantId) return
    await this.grants.take(keys.grant)
    this.events.emit('grant_removed', { grant: keys.ref, reason })
    this.options.logger.info?.('grant removed', { grant: keys.ref, reason })
  }

  #liveTokens(tokens: Readonly<Record<string, CachedToken>>): Record<string, CachedToken> {
    const now = this.options.now()
    const live: Record<string, CachedToken> = {}
    for (const [id, token] of Object.entries(tokens)) if (token.expiresAt > now) live[id] = token
    return live
  }

  /**
   * Audience restriction that silently fails is worse than none: a broader grant than asked is reported
   * (event and warning) and, in strict mode, refused. A narrower one is reported.
   */
  #checkScope(keys: GrantKeys, token: CachedToken, resource: RegisteredResource): ResourceTokensError | undefined {
    const requested = scopeSet(resource.scope)
    const granted = scopeSet(token.scope)
    const payload = { grant: keys.ref, resource: resource.name, requested: resource.scope, granted: [...granted].join(' ') }
    if (scopeMinus(requested, granted).length > 0) {
      this.events.emit('scope_narrowed', payload)
      this.options.logger.warn?.('the provider granted less scope than requested', payload)
    }
    const extra = scopeMinus(granted, requested)
    if (extra.length === 0) return undefined
    this.events.emit('scope_broadened', payload)
    this.options.logger.warn?.('the provider granted more scope than requested: audience restriction may not hold', payload)
    if (!this.options.strictScopes) return undefined
    return new ResourceTokensError('scope_broadened', `the provider granted ${resource.name} more scope than requested (${extra.join(' ')})`, { scope: payload.granted })
  }

  /** A refreshed ID token must name the same user at the same issuer (OpenID Connect Core 12.2). */
  #sameIdentity(record: GrantRecord, response: client.TokenEndpointResponseHelpers): boolean {
    const claims = response.claims()
    if (claims === undefined) return true
    const sub = record.claims['sub']
    const iss = record.claims['iss']
    return (sub === undefined || claims.sub === sub) && (iss === undefined || claims.iss === iss)
  }
}

/** Cache slot of the full-scope token (no down-scoping, or the subject token of a token exchange). */
const FULL_SCOPE_SLOT = '*'

/**
 * The refresh for another resource succeeded, and now the provider refuses this resource's scope or
 * target: it narrowed the refresh token to what was asked last (RFC 6749 section 6 says it must not).
 */
function narrowed(resource: RegisteredResource, error: string, cause: unknown): ResourceTokensError {
  const what =
    error === 'invalid_target'
      ? 'it ties the refresh token to the resource of the last refresh'
      : 'it narrows the refresh token to the scope asked for'
  return new ResourceTokensError(
    'refresh_token_narrowed',
    `the provider refused ${resource.name} with ${error} after a refresh for another resource: ${what}. ` +
      'Use downscoping "token-exchange" or "none", or configure the provider to keep the refresh token\'s scope and resources (RFC 6749 section 6)',
    { error, cause: safeCause(cause) },
  )
}

/** An unknown signing key (the provider rotated its keys) or a clock check: not evidence against the grant. */
function isTransientIdTokenFailure(err: unknown): boolean {
  for (let current: unknown = err, depth = 0; current instanceof Error && depth < 4; current = current.cause, depth++) {
    const code = (current as { code?: unknown }).code
    if (code === oauth.KEY_SELECTION || code === oauth.JWT_TIMESTAMP_CHECK) return true
  }
  return false
}

function loginRequired(): ResourceTokensError {
  return new ResourceTokensError('login_required', 'no usable grant for this key: log in again')
}
