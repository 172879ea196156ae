// @ts-nocheck
import * as oauth from 'oauth4webapi'
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import { BoundedMap } from '../lib/bounded-map.js'
import { MetadataReadRefusal, readMetadataDocument } from './metadata-document.js'
import { isSecureOrLoopback } from '../resources/loopback.js'
import type { RegisteredResource } from '../resources/resource.js'

/** How long a resource's confirmed metadata is trusted before it is read again. */
const CONFIRMED_FOR_MS = 10 * 60 * 1000
const MAX_CONFIRMED = 1000

/**
 * RFC 9728 on the client side. When a resource answers 401 with `resource_metadata`, the library reads that
 * document (without any credential) and confirms that the resource names the identifier it was registered
 * with and this client's authorization server, before it spends a new token on a retry. A mismatch means the
 * resource (or whoever answers for it) expects tokens from elsewhere: it is refused, never followed.
 *
 * oauth4webapi validates the response (status, JSON object, `resource` equal to the expected identifier).
 * What it does not do is ours: it reads from any URL it is given, so the same-origin and https rules, the
 * time and size bounds and the refusal of redirects are here; and it does not compare `authorization_servers`
 * with the issuer this client trusts. Every failure is a refusal (fail closed), never a retry.
 */
export class ResourceMetadataCheck {
  readonly #confirmed = new BoundedMap<true>(MAX_CONFIRMED)
  readonly #issuer: string
  readonly #fetch: typeof fetch
  readonly #now: () => number

  constructor(options: { issuer: string; fetch: typeof fetch; now: () => number }) {
    this.#issuer = options.issuer
    this.#fetch = options.fetch
    this.#now = options.now
  }

  /** Resolves when the metadata at `metadataUrl` matches `resource`; rejects `resource_metadata_mismatch` otherwise. */
  async confirm(resource: RegisteredResource, metadataUrl: string, signal: AbortSignal | undefined): Promise<void> {
    const cacheKey = `${resource.id}\n${metadataUrl}`
    if (this.#confirmed.get(cacheKey, this.#now()) !== undefined) return
    let url: URL
    try {
      url = new URL(metadataUrl)
    } catch {
      throw mismatch(resource, 'its resource_metadata is not an absolute URL')
    }
    if (!isSecureOrLoopback(url) || url.username !== '' || url.password !== '') throw mismatch(resource, 'its resource_metadata URL is not https')
    // The document lives at the resource's own well-known URL (RFC 9728 section 3.1): a 401 must not make this
    // client fetch from any other host (that would let a resource point it anywhere).
    if (url.origin !== resource.origin) throw mismatch(resource, 'its resource_metadata URL is on another origin')
    const metadata = await this.#read(resource, url, signal)
    const servers = Array.isArray(metadata.authorization_servers) ? metadata.authorization_servers : []
    if (!servers.some((server) => typeof server === 'string' && sameIdentifier(server, this.#issuer))) {
      throw mismatch(resource, 'its metadata does not name this client\'s authorization server')
    }
    const now = this.#now()
    this.#confirmed.set(cacheKey, true, now + CONFIRMED_FOR_MS, now)
  }

  async #read(resource: RegisteredResource, url: URL, signal: AbortSignal | undefined): Promise<oauth.ResourceServer> {
    let response: Response
    try {
      response = await readMetadataDocument(this.#fetch, url, signal)
    } catch (err) {
      throw mismatch(resource, `its metadata ${err instanceof MetadataReadRefusal ? err.reason : 'could not be read (unreadable)'}`)
    }
    try {
      return await oauth.processResourceDiscoveryResponse(new URL(resource.indicator ?? resource.id), response)
    } catch (err) {
      // The reason is ours (status, which check), never the body: a resource must not write into our messages.
      const code = err instanceof oauth.OperationProcessingError ? err.code : undefined
      if (code === oauth.RESPONSE_IS_NOT_CONFORM) throw mismatch(resource, `its metadata could not be read (HTTP ${response.status})`)
      if (code === oauth.JSON_ATTRIBUTE_COMPARISON || code === oauth.INVALID_RESPONSE || err instanceof TypeError) {
        throw mismatch(resource, 'its metadata names another resource identifier')
      }
      throw mismatch(resource, 'its metadata could not be read (unreadable)')
    }
  }
}

/** Identifiers compare as strings, except that a bare origin with and without its trailing slash is the same. */
export function sameIdentifier(a: string, b: string): boolean {
  const strip = (value: string): string => (/^[a-z][a-z0-9+.-]*:\/\/[^/]+\/$/i.test(value) ? value.slice(0, -1) : value)
  return strip(a) === strip(b)
}

function mismatch(resource: RegisteredResource, why: string): ResourceTokensError {
  return new ResourceTokensError('resource_metadata_mismatch', `${resource.name} answered 401 and ${why} (RFC 9728): no new token is sent to it`, { status: 401 })
}
