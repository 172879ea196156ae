import type * as client from 'openid-client'
import type { ResolvedOptions } from '../config/options.js'
import type { CachedToken } from '../grants/grant-record.js'
import type { RegisteredResource } from '../resources/resource.js'
import { tokenEvidence, type TokenEvidence } from './token-evidence.js'

/** A token response as we cache it, and what it shows about the scope and audience granted. */
export interface ObtainedToken {
  token: CachedToken
  evidence: TokenEvidence
}

/**
 * A token response as we cache it. Renewal is due `skewSeconds` before expiry, but never earlier than
 * three quarters into the token's life, so short-lived tokens are still used. A response without
 * `expires_in` gets `defaultTokenLifetimeSeconds`.
 *
 * The cached `scope` is what the evidence says the token carries: a JWT access token's own `scope` claim, else
 * the response's `scope`, else (both silent, RFC 6749 section 5.1) the scope asked for. `evidence` is for the
 * scope check: it compares every source with what was asked, including the token's `aud`.
 */
export function toCachedToken(response: client.TokenEndpointResponse, resource: RegisteredResource, startedAt: number, options: Pick<ResolvedOptions, 'defaultTokenLifetimeMs' | 'skewMs'>): ObtainedToken {
  const lifetimeMs = typeof response.expires_in === 'number' && response.expires_in > 0 ? response.expires_in * 1000 : options.defaultTokenLifetimeMs
  const expiresAt = startedAt + lifetimeMs
  const evidence = tokenEvidence({ scope: resource.scope, resource: resource.indicator }, response.scope, response.access_token)
  return {
    token: {
      value: response.access_token,
      type: response.token_type.toLowerCase(),
      scope: evidence.scope.granted,
      expiresAt,
      refreshAt: expiresAt - Math.min(options.skewMs, lifetimeMs / 2),
    },
    evidence,
  }
}
