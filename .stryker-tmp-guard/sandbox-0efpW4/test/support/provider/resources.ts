// @ts-nocheck
// The resource servers a test provider knows, and how oidc-provider is told about one.

/** A resource server the provider issues audience-restricted tokens for (RFC 8707). */
export interface TestResource {
  indicator: string
  /** space-separated, e.g. 'contacts:read contacts:write' */
  scope: string
  accessTokenFormat?: 'jwt' | 'opaque'
  accessTokenTTL?: number
}

/** oidc-provider's resource-server info for `resource`: audience-restricted, JWTs signed with RS256. */
export function resourceServerInfo(resource: TestResource, defaultFormat: 'jwt' | 'opaque', defaultTTL: number): Record<string, unknown> {
  const format = resource.accessTokenFormat ?? defaultFormat
  return {
    scope: resource.scope,
    audience: resource.indicator,
    accessTokenTTL: resource.accessTokenTTL ?? defaultTTL,
    accessTokenFormat: format,
    ...(format === 'jwt' ? { jwt: { sign: { alg: 'RS256' } } } : {}),
  }
}
