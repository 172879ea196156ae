// @ts-nocheck
import { ResourceTokensConfigError } from '../errors/resource-tokens-error.js'
import type { DiscoveryPolicy } from '../fetch/resource-discovery.js'
import { parseScope } from '../lib/scope-token.js'
import { isSecureOrLoopback } from '../resources/loopback.js'

/**
 * RFC 9728 discovery of resources at run time (agent backends, tool servers). Off unless `origins` is set:
 * nothing is ever fetched from an origin not listed here (SSRF).
 */
export interface DiscoveryOptions {
  /**
   * Origins whose resources may be discovered, e.g. `['https://tools.example.com']`: by
   * {@link ResourceClient.discoverResource}, and automatically when `fetch` meets a 401 pointing at resource
   * metadata from a URL of no registered resource on one of them. https, or http on loopback.
   */
  origins: readonly string[]
  /**
   * The most scope a discovered resource may be asked for, space-separated: what its challenge or
   * `scopes_supported` names is cut down to this. Default: no cap (`openid` and `offline_access` are never given).
   */
  scopes?: string
  /** Seconds a verified metadata document is trusted before it is read again. Default 600. */
  cacheSeconds?: number
  /** Ask DPoP-bound tokens for discovered resources. Default `false` (they are asked when the metadata requires them). */
  dpop?: boolean
  /** Discover automatically from `fetch` (see {@link DiscoveryOptions.origins}). Default `true`. */
  automatic?: boolean
}

/** The discovery policy, or `undefined` when discovery is off; throws `invalid_config` naming the option. */
export function resolveDiscovery(value: DiscoveryOptions | undefined): (DiscoveryPolicy & { automatic: boolean }) | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null) fail('"discovery" must be an object')
  if (!Array.isArray(value.origins) || value.origins.length === 0) fail('"discovery.origins" must be a non-empty array')
  const origins = new Set<string>()
  for (const [index, origin] of value.origins.entries()) {
    let url: URL
    try {
      url = new URL(origin)
    } catch {
      fail(`"discovery.origins[${index}]" must be an absolute URL`)
    }
    if (!isSecureOrLoopback(url)) fail(`"discovery.origins[${index}]" must be https outside loopback`)
    if (url.origin + '/' !== url.href && url.origin !== origin) fail(`"discovery.origins[${index}]" must be an origin (scheme, host, port), without path or userinfo`)
    origins.add(url.origin)
  }
  let scopes: Set<string> | undefined
  if (value.scopes !== undefined) {
    const parsed = typeof value.scopes === 'string' ? parseScope(value.scopes) : undefined
    if (parsed === undefined || parsed.length === 0) fail('"discovery.scopes" must be a non-empty scope string')
    scopes = new Set(parsed)
  }
  const cacheSeconds = value.cacheSeconds ?? 600
  if (typeof cacheSeconds !== 'number' || !Number.isFinite(cacheSeconds) || cacheSeconds < 0) fail('"discovery.cacheSeconds" must be a number of at least 0')
  if (value.dpop !== undefined && typeof value.dpop !== 'boolean') fail('"discovery.dpop" must be a boolean')
  if (value.automatic !== undefined && typeof value.automatic !== 'boolean') fail('"discovery.automatic" must be a boolean')
  return { origins, scopes, cacheMs: cacheSeconds * 1000, dpop: value.dpop ?? false, automatic: value.automatic ?? true }
}

/** `maxRuntimeResources`, default 100. */
export function resolveMaxRuntimeResources(value: number | undefined): number {
  if (value === undefined) return 100
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) fail('"maxRuntimeResources" must be an integer of at least 0')
  return value
}

function fail(message: string): never {
  throw new ResourceTokensConfigError(message)
}
