// @ts-nocheck
import * as oauth from 'oauth4webapi'
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import { BoundedMap } from '../lib/bounded-map.js'
import { isScopeToken } from '../lib/scope-token.js'
import { isSecureOrLoopback } from '../resources/loopback.js'
import { MetadataReadRefusal, readMetadataDocument } from './metadata-document.js'
import { sameIdentifier } from './resource-metadata.js'

/** What discovery may do, from the `discovery` option (validated at construction). */
export interface DiscoveryPolicy {
  /** Origins (`https://tools.example.com`) whose resources may be discovered. Nothing else is ever fetched. */
  readonly origins: ReadonlySet<string>
  /** The most scope a discovered resource may get; `undefined`: what its metadata or challenge names. */
  readonly scopes: ReadonlySet<string> | undefined
  /** How long a metadata document is trusted before it is read again. */
  readonly cacheMs: number
  /** Ask DPoP-bound tokens for every discovered resource (it is also asked when the metadata requires it). */
  readonly dpop: boolean
}

/** A resource as its verified RFC 9728 metadata describes it. */
export interface DiscoveredResource {
  /** The resource identifier (`resource`), used as base URL and as RFC 8707 indicator. */
  readonly url: string
  readonly indicator: string
  /** The scope to ask for it: from the challenge, else `scopes_supported`, within the app's allow-list. */
  readonly scope: string
  /** `resource_name` when it is a short printable string, else the identifier. */
  readonly name: string
  /** `dpop_bound_access_tokens_required`, or the policy's `dpop`. */
  readonly dpop: boolean
}

/** What a 401 told about the resource (RFC 9728 section 5.1, RFC 6750 section 3). */
export interface DiscoveryHints {
  /** `resource_metadata` of the challenge. */
  readonly metadataUrl?: string | undefined
  /** `scope` of the challenge. */
  readonly scope?: string | undefined
}

interface VerifiedDocument {
  readonly resource: string
  readonly scopesSupported: readonly string[] | undefined
  readonly name: string | undefined
  readonly dpopRequired: boolean
}

const MAX_CACHED = 1000
/** Well-known URLs tried for one URL without a challenge: its path, parents, the root. Bounds the reads. */
const MAX_CANDIDATES = 5
/** Scopes that are the client's business at the provider, never a resource's. */
const NEVER_FOR_RESOURCES = new Set(['openid', 'offline_access'])

/**
 * RFC 9728 discovery of a resource the app did not configure: reads the resource's protected-resource
 * metadata from its own origin only (the well-known URL of RFC 9728 section 3.1, path-suffix form first, or
 * the `resource_metadata` of its challenge when on the same origin), and accepts it only when its `resource`
 * is the URL or a path-boundary prefix of it and its `authorization_servers` name this client's issuer.
 * oauth4webapi validates the document's shape; the well-known URLs, the origin allow-list (SSRF), the
 * bounds, the refusal of redirects, the prefix and issuer rules and the scope cap are ours. Every failure is a
 * typed refusal: nothing is registered and no token is sent.
 */
export class ResourceDiscovery {
  readonly #issuer: string
  readonly #fetch: typeof fetch
  readonly #now: () => number
  readonly #policy: DiscoveryPolicy
  readonly #documents = new BoundedMap<VerifiedDocument>(MAX_CACHED)
  readonly #pending = new Map<string, Promise<VerifiedDocument | undefined>>()

  constructor(options: { issuer: string; fetch: typeof fetch; now: () => number; policy: DiscoveryPolicy }) {
    this.#issuer = options.issuer
    this.#fetch = options.fetch
    this.#now = options.now
    this.#policy = options.policy
  }

  /** True when resources at `url` may be discovered: an allowed origin, https (or loopback), no userinfo. */
  allows(url: URL): boolean {
    return this.#policy.origins.has(url.origin) && isSecureOrLoopback(url) && url.username === '' && url.password === ''
  }

  /**
   * The resource `url` belongs to, per its verified metadata.
   *
   * @throws `resource_not_allowed` (origin not allowed), `resource_metadata_mismatch` (anything wrong with the metadata).
   */
  async discover(input: string | URL, hints: DiscoveryHints = {}, signal?: AbortSignal): Promise<DiscoveredResource> {
    const url = parse(input)
    if (!this.allows(url)) {
      throw new ResourceTokensError('resource_not_allowed', `discovery of resources at ${url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : 'this URL'} is not allowed (discovery.origins)`)
    }
    const where = `${url.origin}${url.pathname}`
    const candidates = this.#metadataUrls(url, hints.metadataUrl, where)
    let document: VerifiedDocument | undefined
    for (const candidate of candidates) {
      document = await this.#document(candidate, where, signal)
      if (document !== undefined) break
    }
    if (document === undefined) throw refused(where, 'has no protected-resource metadata at its well-known URL')
    const resource = new URL(document.resource)
    if (resource.origin !== url.origin || !pathBelongs(url.pathname, resource.pathname.replace(/\/+$/, ''))) {
      throw refused(where, 'has metadata whose resource is neither this URL nor a path prefix of it')
    }
    const scope = this.#scope(hints.scope, document.scopesSupported)
    if (scope === '') throw refused(where, 'names no scope this client may ask for')
    return { url: document.resource, indicator: document.resource, scope, name: document.name ?? document.resource, dpop: this.#policy.dpop || document.dpopRequired }
  }

  /** Where to look: the challenge's URL (same origin only), else the path-suffix well-known URLs, then the root one. */
  #metadataUrls(url: URL, fromChallenge: string | undefined, where: string): URL[] {
    if (fromChallenge !== undefined) {
      let metadataUrl: URL
      try {
        metadataUrl = new URL(fromChallenge)
      } catch {
        throw refused(where, 'points at resource metadata that is not an absolute URL')
      }
      // A 401 must not make this client fetch from any other host (that would let a resource point it anywhere).
      if (metadataUrl.origin !== url.origin || metadataUrl.username !== '' || metadataUrl.password !== '') {
        throw refused(where, 'points at resource metadata on another origin')
      }
      return [metadataUrl]
    }
    // The resource may be the URL or any path prefix of it: its own path first, then each parent, the root last.
    const segments = url.pathname.split('/').filter((s) => s !== '')
    const urls: URL[] = []
    for (let n = segments.length; n > 0 && urls.length < MAX_CANDIDATES - 1; n--) urls.push(wellKnown(new URL(`${url.origin}/${segments.slice(0, n).join('/')}`)))
    urls.push(wellKnown(new URL(url.origin)))
    return urls
  }

  /** The verified document at `metadataUrl`: cached, single-flight; `undefined` for a 404 (try the next URL). */
  async #document(metadataUrl: URL, where: string, signal: AbortSignal | undefined): Promise<VerifiedDocument | undefined> {
    const cached = this.#documents.get(metadataUrl.href, this.#now())
    if (cached !== undefined) return cached
    let flight = this.#pending.get(metadataUrl.href)
    if (flight === undefined) {
      flight = this.#read(metadataUrl, where, signal).finally(() => this.#pending.delete(metadataUrl.href))
      this.#pending.set(metadataUrl.href, flight)
    }
    return flight
  }

  async #read(metadataUrl: URL, where: string, signal: AbortSignal | undefined): Promise<VerifiedDocument | undefined> {
    let response: Response
    try {
      response = await readMetadataDocument(this.#fetch, metadataUrl, signal)
    } catch (err) {
      throw refused(where, `has metadata that ${err instanceof MetadataReadRefusal ? err.reason : 'could not be read'}`)
    }
    if (response.status === 404) return undefined
    let json: oauth.ResourceServer
    try {
      // oauth4webapi validates the document (200, JSON object, `resource` equal to the expected identifier).
      // Which identifier may be expected is decided below, against the URL asked about; oauth4webapi only
      // takes an exact one, so the document's own is handed to it (its validation still applies).
      json = await oauth.processResourceDiscoveryResponse(claimedIdentifier(await response.clone().text()), response)
    } catch (err) {
      const code = err instanceof oauth.OperationProcessingError ? err.code : undefined
      throw refused(where, code === oauth.RESPONSE_IS_NOT_CONFORM ? `has metadata that could not be read (HTTP ${response.status})` : 'has metadata that is not a valid RFC 9728 document')
    }
    const resource = checkIdentifier(json.resource)
    if (resource === undefined) throw refused(where, 'has metadata whose resource is not an https URL without query or fragment')
    const servers = Array.isArray(json.authorization_servers) ? json.authorization_servers : []
    if (!servers.some((server) => typeof server === 'string' && sameIdentifier(server, this.#issuer))) {
      throw refused(where, 'has metadata that does not name this client\'s authorization server')
    }
    const scopes = Array.isArray(json.scopes_supported) ? json.scopes_supported.filter((s): s is string => typeof s === 'string' && isScopeToken(s)) : undefined
    const name = typeof json.resource_name === 'string' && /^[\x20-\x7e]{1,64}$/.test(json.resource_name) ? json.resource_name : undefined
    const document: VerifiedDocument = { resource, scopesSupported: scopes, name, dpopRequired: json.dpop_bound_access_tokens_required === true }
    const now = this.#now()
    this.#documents.set(metadataUrl.href, document, now + this.#policy.cacheMs, now)
    return document
  }

  #scope(fromChallenge: string | undefined, supported: readonly string[] | undefined): string {
    const asked = fromChallenge === undefined ? (supported ?? []) : fromChallenge.split(' ').filter((s) => s !== '' && isScopeToken(s))
    const allowed = this.#policy.scopes
    return [...new Set(asked)].filter((s) => !NEVER_FOR_RESOURCES.has(s) && (allowed === undefined || allowed.has(s))).join(' ')
  }
}

/** RFC 9728 section 3.1: `/.well-known/oauth-protected-resource` inserted before the identifier's path. */
function wellKnown(identifier: URL): URL {
  const url = new URL(identifier.href)
  const path = url.pathname === '/' ? '' : url.pathname
  url.pathname = `/.well-known/oauth-protected-resource${path}`
  url.search = ''
  url.hash = ''
  return url
}

/** The `resource` a document claims, as a URL (or a placeholder that fails oauth4webapi's comparison). */
function claimedIdentifier(text: string): URL {
  try {
    const value: unknown = (JSON.parse(text) as Record<string, unknown> | null)?.['resource']
    if (typeof value === 'string') return new URL(value)
  } catch {
    // Not JSON or not a URL: oauth4webapi reports the document as invalid.
  }
  return new URL('urn:invalid')
}

function checkIdentifier(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return undefined
  }
  if (!isSecureOrLoopback(url) || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') return undefined
  return value
}

function pathBelongs(path: string, prefix: string): boolean {
  if (prefix === '') return true
  if (!path.startsWith(prefix)) return false
  return path.length === prefix.length || path.charCodeAt(prefix.length) === 0x2f /* '/' */
}

function parse(input: string | URL): URL {
  try {
    return input instanceof URL ? new URL(input.href) : new URL(input)
  } catch {
    throw new ResourceTokensError('invalid_argument', 'the resource URL must be an absolute URL')
  }
}

function refused(where: string, why: string): ResourceTokensError {
  return new ResourceTokensError('resource_metadata_mismatch', `the resource at ${where} ${why} (RFC 9728): it is not registered and no token is sent to it`)
}
