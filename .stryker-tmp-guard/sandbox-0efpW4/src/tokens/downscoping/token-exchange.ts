// @ts-nocheck
import type * as client from 'openid-client'
import type { ResolvedOptions } from '../../config/options.js'
import type { CachedToken } from '../../grants/grant-record.js'
import type { LockLease } from '../../grants/grant-lock.js'
import type { GrantRepository, GrantSnapshot } from '../../grants/grant-repository.js'
import { loginRequired, type GrantWriter } from '../../grants/grant-writer.js'
import type { GrantKeys } from '../../grants/store-keys.js'
import type { TypedEmitter } from '../../observability/events.js'
import { classifyProviderError, tokenEndpointError } from '../../protocol/classify-error.js'
import type { ProviderClient } from '../../protocol/provider-client.js'
import type { RegisteredResource } from '../../resources/resource.js'
import { toCachedToken } from '../cached-token.js'
import type { GrantDPoP } from '../grant-dpop.js'
import { checkLease, type GrantRefresher } from '../grant-refresher.js'
import type { ScopeCheck } from '../scope-check.js'
import { tokenRefusal } from '../token-check.js'
import { FULL_SCOPE_SLOT, restrictionTo, type Downscoping } from './downscoping.js'

/** What the token-exchange strategy works with. */
export interface TokenExchangeParts {
  readonly provider: ProviderClient
  readonly grants: GrantRepository
  readonly refresher: GrantRefresher
  readonly writer: GrantWriter
  readonly dpop: GrantDPoP
  readonly scopes: ScopeCheck
  readonly events: TypedEmitter
  readonly options: Pick<ResolvedOptions, 'now' | 'skewMs' | 'defaultTokenLifetimeMs'>
}

/**
 * `downscoping: 'token-exchange'` (RFC 8693): a full-scope token from the refresh token, cached in the grant,
 * exchanged for one restricted to each resource. For providers whose refresh tokens shrink to the scope asked for.
 */
export class TokenExchangeDownscoping implements Downscoping {
  readonly #parts: TokenExchangeParts

  constructor(parts: TokenExchangeParts) {
    this.#parts = parts
  }

  slot(resource: RegisteredResource): string {
    return resource.id
  }

  async obtain(keys: GrantKeys, snapshot: GrantSnapshot, resource: RegisteredResource, lease?: LockLease, fresh = false): Promise<CachedToken> {
    const { provider, grants, refresher, writer, dpop: grantDPoP, scopes, events, options } = this.#parts
    let subject = fresh ? undefined : snapshot.record.tokens[FULL_SCOPE_SLOT]
    let current = snapshot
    const cachedSubject = subject !== undefined && options.now() < subject.refreshAt
    if (subject === undefined || !cachedSubject) {
      subject = await refresher.refresh(keys, snapshot, { resource, parameters: new URLSearchParams(), slot: FULL_SCOPE_SLOT, lease })
      const reread = await grants.readFresh(keys.grant)
      if (reread === undefined || reread.record.grantId !== snapshot.record.grantId) throw loginRequired()
      current = reread
    }
    let dpop: client.DPoPHandle | undefined
    if (resource.dpop) ({ handle: dpop, snapshot: current } = await grantDPoP.forRequest(keys, current))
    const startedAt = options.now()
    let response: client.TokenEndpointResponse
    checkLease(lease, resource)
    try {
      response = await provider.exchange(subject.value, restrictionTo(resource), dpop, { resource: resource.name, grant: keys.ref })
    } catch (err) {
      const failure = classifyProviderError(err)
      // A cached subject token the provider no longer accepts (revoked, expired early) says nothing about the
      // grant: once more with a subject token fresh from the refresh token.
      if (failure.kind === 'invalid_grant' && cachedSubject) return this.obtain(keys, current, resource, lease, true)
      throw tokenEndpointError(failure.kind === 'invalid_grant' ? { kind: 'oauth_error', error: 'invalid_grant', status: failure.status, description: undefined } : failure, err, `token exchange for ${resource.name}`)
    }
    const { token, evidence } = toCachedToken(response, resource, startedAt, options)
    const refusal = tokenRefusal(token, resource) ?? scopes.check(keys.ref, evidence, resource)
    if (refusal !== undefined) throw refusal
    if (!(await writer.store(keys, current, {}, resource.id, token))) throw loginRequired()
    events.emit('token', { grant: keys.ref, resource: resource.name, scope: token.scope, tokenType: token.type, expiresIn: response.expires_in, rotated: false })
    return token
  }
}
