// @ts-nocheck
// OAuth 2.0 Protected Resource Metadata (RFC 9728): the document and its well-known URL.

import { ResourceTokensConfigError } from '../errors/resource-tokens-error.js'
import { isSecureOrLoopback } from '../resources/loopback.js'
import { ASYMMETRIC_ALGORITHMS } from './resolve-options.js'
import { isScopeToken } from '../lib/scope-token.js'

/** Input of {@link protectedResourceMetadata}, in camelCase. */
export interface ProtectedResourceMetadataOptions {
  /** This resource's identifier: an https URL without fragment (RFC 9728 section 2). */
  resource: string
  /** Issuer identifiers of the authorization servers that issue tokens for this resource. */
  authorizationServers: string[]
  /** Scopes used in authorization requests for this resource (RECOMMENDED). */
  scopesSupported?: string[]
  /** DPoP proof algorithms accepted, e.g. `['ES256', 'EdDSA']`. */
  dpopSigningAlgValuesSupported?: string[]
  /** Whether only DPoP-bound access tokens are accepted. */
  dpopBoundAccessTokensRequired?: boolean
  /** Human-readable name of the resource. */
  resourceName?: string
  /** URL of human-readable documentation for developers. */
  resourceDocumentation?: string
}

/** The RFC 9728 section 2 metadata document, as served. */
export interface ProtectedResourceMetadata {
  resource: string
  authorization_servers: string[]
  bearer_methods_supported: string[]
  scopes_supported?: string[]
  dpop_signing_alg_values_supported?: string[]
  dpop_bound_access_tokens_required?: boolean
  resource_name?: string
  resource_documentation?: string
}

const WELL_KNOWN = '/.well-known/oauth-protected-resource'

function secureUrl(value: unknown, name: string): URL {
  let url: URL | undefined
  try {
    if (typeof value === 'string') url = new URL(value)
  } catch {
    url = undefined
  }
  if (url === undefined) throw new ResourceTokensConfigError(`"${name}" must be an absolute URL`)
  if (!isSecureOrLoopback(url)) throw new ResourceTokensConfigError(`"${name}" must be https outside loopback`)
  if (url.hash !== '') throw new ResourceTokensConfigError(`"${name}" must not have a fragment`)
  return url
}

function stringArray(value: unknown, name: string, check: (item: string) => boolean): string[] {
  if (!Array.isArray(value)) throw new ResourceTokensConfigError(`"${name}" must be an array`)
  return value.map((item: unknown, index) => {
    if (typeof item !== 'string' || !check(item)) throw new ResourceTokensConfigError(`"${name}[${index}]" is invalid`)
    return item
  })
}

/**
 * Builds this resource's metadata document (RFC 9728 section 2). `bearer_methods_supported` is
 * `['header']`, the only method the guard accepts.
 *
 * @param options - the resource identifier, its authorization servers, scopes and DPoP support
 * @returns the JSON object to serve at {@link protectedResourceMetadataUrl}
 * @throws {ResourceTokensConfigError} for a non-https `resource`, an empty `authorizationServers`, or bad values
 * @see RFC 9728 section 2
 * @example
 * ```ts
 * const metadata = protectedResourceMetadata({
 *   resource: 'https://api.example.com',
 *   authorizationServers: ['https://as.example.com'],
 *   scopesSupported: ['orders:read'],
 *   dpopSigningAlgValuesSupported: ['ES256'],
 * })
 * ```
 */
export function protectedResourceMetadata(options: ProtectedResourceMetadataOptions): ProtectedResourceMetadata {
  if (typeof options !== 'object' || options === null) throw new ResourceTokensConfigError('options must be an object')
  secureUrl(options.resource, 'resource')
  const servers = stringArray(options.authorizationServers, 'authorizationServers', (s) => {
    try {
      return isSecureOrLoopback(new URL(s))
    } catch {
      return false
    }
  })
  if (servers.length === 0) throw new ResourceTokensConfigError('"authorizationServers" must not be empty')
  const metadata: ProtectedResourceMetadata = {
    resource: options.resource,
    authorization_servers: servers,
    bearer_methods_supported: ['header'],
  }
  if (options.scopesSupported !== undefined) {
    metadata.scopes_supported = stringArray(options.scopesSupported, 'scopesSupported', isScopeToken)
  }
  if (options.dpopSigningAlgValuesSupported !== undefined) {
    metadata.dpop_signing_alg_values_supported = stringArray(
      options.dpopSigningAlgValuesSupported,
      'dpopSigningAlgValuesSupported',
      (alg) => ASYMMETRIC_ALGORITHMS.has(alg),
    )
  }
  if (options.dpopBoundAccessTokensRequired !== undefined) {
    if (typeof options.dpopBoundAccessTokensRequired !== 'boolean') {
      throw new ResourceTokensConfigError('"dpopBoundAccessTokensRequired" must be a boolean')
    }
    metadata.dpop_bound_access_tokens_required = options.dpopBoundAccessTokensRequired
  }
  if (options.resourceName !== undefined) {
    if (typeof options.resourceName !== 'string') throw new ResourceTokensConfigError('"resourceName" must be a string')
    metadata.resource_name = options.resourceName
  }
  if (options.resourceDocumentation !== undefined) {
    metadata.resource_documentation = secureUrl(options.resourceDocumentation, 'resourceDocumentation').href
  }
  return metadata
}

/**
 * The URL where clients look for the metadata of `resource`: the well-known suffix goes between the host
 * and the path (RFC 9728 section 3.1), e.g. `https://api.example.com/v1` →
 * `https://api.example.com/.well-known/oauth-protected-resource/v1`. Use it as the verifier's
 * `resourceMetadataUrl` and its path to mount `protectedResourceMetadataHandler` (from `resource-tokens/express`).
 *
 * @param resource - the resource identifier
 * @returns the metadata URL
 * @throws {ResourceTokensConfigError} when `resource` is not an absolute https URL
 * @see RFC 9728 section 3.1
 * @example
 * ```ts
 * const metadataUrl = protectedResourceMetadataUrl('https://api.example.com')
 * app.get(new URL(metadataUrl).pathname, protectedResourceMetadataHandler(metadata))
 * ```
 */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = secureUrl(resource, 'resource')
  const path = url.pathname === '/' ? '' : url.pathname
  return `${url.origin}${WELL_KNOWN}${path}${url.search}`
}

