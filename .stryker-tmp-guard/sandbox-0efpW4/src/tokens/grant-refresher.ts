// @ts-nocheck
import * as oauth from 'oauth4webapi'
import type * as client from 'openid-client'
import type { ResolvedOptions } from '../config/options.js'
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import type { DeadRefreshTokens, RefreshFailure } from '../grants/dead-refresh-token.js'
import { refreshExpiresAt, type CachedToken, type GrantRecord } from '../grants/grant-record.js'
import type { LockLease } from '../grants/grant-lock.js'
import type { GrantRepository, GrantSnapshot } from '../grants/grant-repository.js'
import type { GrantWriter } from '../grants/grant-writer.js'
import { loginRequired } from '../grants/grant-writer.js'
import type { GrantKeys } from '../grants/store-keys.js'
import type { TypedEmitter } from '../observability/events.js'
import { classifyProviderError, safeCause, tokenEndpointError, type ProviderFailure } from '../protocol/classify-error.js'
import type { ProviderClient } from '../protocol/provider-client.js'
import type { RegisteredResource } from '../resources/resource.js'
import { toCachedToken } from './cached-token.js'
import { covers, notCovered } from './grant-coverage.js'
import { FULL_SCOPE_SLOT } from './downscoping/downscoping.js'
import type { GrantDPoP } from './grant-dpop.js'
import type { ScopeCheck } from './scope-check.js'
import { tokenRefusal } from './token-check.js'

/** What a refresh asks for and where its token goes. */
export interface RefreshRequest {
  readonly resource: RegisteredResource
  /** Extra token request parameters (`scope`, `resource`), empty for a full-scope token. */
  readonly parameters: URLSearchParams
  /** The grant's cache slot the token is stored in. */
  readonly slot: string
  /** The grant lock this refresh runs under: checked right before the refresh token is sent. */
  readonly lease?: LockLease | undefined
}

/**
 * One refresh_token grant (RFC 6749 section 6) for a grant, with the grant lock held: presents the refresh
 * token, decides what a failure means for the grant (retry on a rotation by another instance, removal on
 * `invalid_grant`, a dead refresh token (see {@link DeadRefreshTokens}) or a bad ID token, `refresh_token_narrowed`),
 * checks the refreshed identity and the granted scope, and hands the result to the grant writer.
 */
export class GrantRefresher {
  readonly #provider: ProviderClient
  readonly #grants: GrantRepository
  readonly #writer: GrantWriter
  readonly #dpop: GrantDPoP
  readonly #scopes: ScopeCheck
  readonly #deadTokens: DeadRefreshTokens
  readonly #events: TypedEmitter
  readonly #options: Pick<ResolvedOptions, 'now' | 'logger' | 'skewMs' | 'defaultTokenLifetimeMs'>

  constructor(parts: {
    provider: ProviderClient
    grants: GrantRepository
    writer: GrantWriter
    dpop: GrantDPoP
    scopes: ScopeCheck
    deadTokens: DeadRefreshTokens
    events: TypedEmitter
    options: Pick<ResolvedOptions, 'now' | 'logger' | 'skewMs' | 'defaultTokenLifetimeMs'>
  }) {
    this.#provider = parts.provider
    this.#grants = parts.grants
    this.#writer = parts.writer
    this.#dpop = parts.dpop
    this.#scopes = parts.scopes
    this.#deadTokens = parts.deadTokens
    this.#events = parts.events
    this.#options = parts.options
  }

  async refresh(keys: GrantKeys, snapshotIn: GrantSnapshot, request: RefreshRequest, attempt = 0): Promise<CachedToken> {
    const { resource, slot } = request
    let snapshot = snapshotIn
    let dpop: client.DPoPHandle | undefined
    if (resource.dpop) ({ handle: dpop, snapshot } = await this.#dpop.forRequest(keys, snapshot))
    const rotation = this.#writer.beginRefresh(snapshot.record)
    try {
      const startedAt = this.#options.now()
      let response: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers
      // A holder that lost the lock (a stall past its TTL) must not send the refresh token: another may be sending it.
      checkLease(request.lease, resource)
      try {
        response = await this.#provider.refresh(rotation.refreshToken, request.parameters, dpop, { resource: resource.name, grant: keys.ref })
      } catch (err) {
        rotation.done()
        return await this.#failed(keys, snapshot, request, err, attempt, rotation.refreshToken)
      }
      // The refresh token answered: whatever failed before says nothing about it any more.
      this.#deadTokens.forget(snapshot.record.grantId)
      if (!sameIdentity(snapshot.record, response)) {
        // The refresh token may already be rotated; a grant that answers for another user is not kept either way.
        await this.#writer.remove(keys, snapshot, 'invalid_id_token')
        throw new ResourceTokensError('invalid_id_token', `refresh for ${resource.name}: the refreshed ID token names another subject or issuer; the grant was removed`)
      }
      const { token, evidence } = toCachedToken(response, resource, startedAt, this.#options)
      // A malformed value or a Bearer token for a `dpop: 'required'` resource is refused like a scope refusal: the
      // response's rotated refresh token is still stored. Without down-scoping the token is meant to carry
      // everything: no scope to compare.
      const refusal = tokenRefusal(token, resource) ?? (slot === FULL_SCOPE_SLOT ? undefined : this.#scopes.check(keys.ref, evidence, resource))
      const rotated = response.refresh_token !== undefined && response.refresh_token !== snapshot.record.refreshToken
      // Even a refused token's response may carry a rotated refresh token: it is stored, never dropped.
      const refreshedSid = response.claims()?.['sid']
      const update = {
        refreshToken: response.refresh_token,
        idToken: response.id_token,
        sid: typeof refreshedSid === 'string' ? refreshedSid : undefined,
        refreshExpiresAt: refreshExpiresAt(response, startedAt),
      }
      const written = await this.#writer.store(keys, snapshot, update, slot, refusal === undefined ? token : undefined)
      if (!written) {
        // The grant was removed (logout) or replaced (a new login under the same key) while we refreshed: what
        // we obtained belongs to no stored grant and must not outlive it.
        if (rotated && response.refresh_token !== undefined) await this.#provider.revoke(response.refresh_token, 'refresh_token').catch(() => undefined)
        throw loginRequired()
      }
      if (refusal !== undefined) throw refusal
      if (resource.dpop && token.type !== 'dpop') {
        this.#options.logger.warn?.('the provider issued a bearer token where a DPoP-bound token was requested', { grant: keys.ref, resource: resource.name })
      }
      this.#events.emit('token', { grant: keys.ref, resource: resource.name, scope: token.scope, tokenType: token.type, expiresIn: response.expires_in, rotated })
      this.#options.logger.debug?.('access token obtained', { grant: keys.ref, resource: resource.name, scope: token.scope, rotated })
      return token
    } finally {
      rotation.done()
    }
  }

  /** What a refused refresh means for the grant: a retry, a removal, or the typed error to throw. */
  async #failed(keys: GrantKeys, snapshot: GrantSnapshot, request: RefreshRequest, err: unknown, attempt: number, presented: string): Promise<CachedToken> {
    const { resource, slot } = request
    const failure = classifyProviderError(err)
    if (this.#deadTokens.failed(snapshot.record.grantId, presented, refreshFailure(failure)) === 'dead' && failure.kind === 'oauth_error') {
      // Removed only if the stored grant still holds the refresh token that failed: another instance may have
      // rotated it meanwhile, and then this answer says nothing about the grant as it is now.
      const current = await this.#grants.readFresh(keys.grant)
      if (current !== undefined && current.record.grantId === snapshot.record.grantId && current.record.refreshToken === snapshot.record.refreshToken) {
        await this.#writer.remove(keys, snapshot, 'refresh_token_dead')
        throw new ResourceTokensError(
          'login_required',
          `refresh for ${resource.name}: the provider answered ${failure.error} (HTTP ${failure.status}) twice in a row for the same refresh token, ` +
            'which is taken as a refresh token it no longer knows (some providers say so without invalid_grant); the grant was removed: log in again',
          { cause: safeCause(err), error: failure.error, status: failure.status },
        )
      }
    }
    if (failure.kind === 'invalid_grant') {
      // Another instance may have rotated the refresh token a moment ago (its lock expired, or it does not
      // share our lock): if the stored grant changed, try once more with what is there now.
      const current = await this.#grants.readFresh(keys.grant)
      if (current !== undefined && current.record.refreshToken !== snapshot.record.refreshToken && attempt === 0) {
        return this.refresh(keys, current, request, attempt + 1)
      }
      if (current !== undefined && current.record.refreshToken === snapshot.record.refreshToken) {
        await this.#writer.remove(keys, snapshot, 'invalid_grant')
      }
    }
    if (failure.kind === 'id_token' && !isTransientIdTokenFailure(err)) {
      // The provider answered with an ID token that does not validate (wrong iss, aud, signature): the refresh
      // token may be rotated already, and a grant whose provider misbehaves like this is not kept. An unknown
      // signing key (the provider rotated its keys) or a clock problem is not that: the grant stays.
      await this.#writer.remove(keys, snapshot, 'invalid_id_token')
    }
    if (failure.kind === 'oauth_error' && (failure.error === 'invalid_scope' || failure.error === 'invalid_target')) {
      const last = snapshot.record.lastRefreshed
      // A resource the grant's logins never asked for is not a narrowed refresh token: a login adds it.
      if (covers(snapshot.record, resource) !== false && last !== undefined && last !== slot) throw narrowed(resource, failure.error, err)
      throw notCovered(resource, failure.error, failure.status, safeCause(err))
    }
    throw tokenEndpointError(failure, err, `refresh for ${resource.name}`)
  }
}

/**
 * Throws `lock_timeout` when the grant lock is no longer surely ours: nothing was sent, the grant is untouched, and
 * the next call tries again under the lock.
 */
export function checkLease(lease: LockLease | undefined, resource: RegisteredResource): void {
  if (lease === undefined || lease.held()) return
  throw new ResourceTokensError(
    'lock_timeout',
    `the grant refresh lock was lost before the token request for ${resource.name} (held past lockTtlMs, e.g. an event-loop stall): nothing was sent`,
  )
}

/** A refreshed ID token must name the same user at the same issuer (OpenID Connect Core 12.2). */
function sameIdentity(record: GrantRecord, response: client.TokenEndpointResponseHelpers): boolean {
  const claims = response.claims()
  if (claims === undefined) return true
  const sub = record.claims['sub']
  const iss = record.claims['iss']
  return (sub === undefined || claims.sub === sub) && (iss === undefined || claims.iss === iss)
}

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

/** What the dead-refresh-token rule needs of a failure: an OAuth error's status and `error`, nothing else. */
function refreshFailure(failure: ProviderFailure): RefreshFailure {
  switch (failure.kind) {
    case 'oauth_error':
      // `invalid_response` is ours: a 4xx whose body was no OAuth error (empty, HTML), so no `error` at all.
      return { status: failure.status, error: failure.error === 'invalid_response' ? undefined : failure.error }
    case 'invalid_grant':
    case 'transient':
      return { status: failure.status, error: undefined }
    default:
      return { status: undefined, error: undefined }
  }
}
