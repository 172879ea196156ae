import type * as client from 'openid-client'
import type { ResolvedOptions } from '../config/options.js'
import type { CachedToken } from '../grants/grant-record.js'
import type { RegisteredResource } from '../resources/resource.js'

/**
 * A token response as we cache it. Renewal is due `skewSeconds` before expiry, but never earlier than
 * three quarters into the token's life, so short-lived tokens are still used. A response without
 * `expires_in` gets `defaultTokenLifetimeSeconds`.
 */
export function toCachedToken(response: client.TokenEndpointResponse, resource: RegisteredResource, startedAt: number, options: Pick<ResolvedOptions, 'defaultTokenLifetimeMs' | 'skewMs'>): CachedToken {
  const lifetimeMs = typeof response.expires_in === 'number' && response.expires_in > 0 ? response.expires_in * 1000 : options.defaultTokenLifetimeMs
  const expiresAt = startedAt + lifetimeMs
  return {
    value: response.access_token,
    type: response.token_type.toLowerCase(),
    scope: response.scope ?? resource.scope,
    expiresAt,
    refreshAt: expiresAt - Math.min(options.skewMs, lifetimeMs / 4),
  }
}
