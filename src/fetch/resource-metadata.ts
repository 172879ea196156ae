import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import { isSecureOrLoopback } from '../resources/loopback.js'
import type { RegisteredResource } from '../resources/resource.js'

/** How long a resource's confirmed metadata is trusted before it is read again. */
const CONFIRMED_FOR_MS = 10 * 60 * 1000
const METADATA_TIMEOUT_MS = 5000

/**
 * RFC 9728 on the client side. When a resource answers 401 with `resource_metadata`, the library reads that
 * document (without any credential) and confirms that the resource names the identifier it was registered
 * with and this client's authorization server, before it spends a new token on a retry. A mismatch means the
 * resource (or whoever answers for it) expects tokens from elsewhere: it is refused, never followed.
 */
export class ResourceMetadataCheck {
  readonly #confirmed = new Map<string, number>()

  constructor(
    private readonly issuer: string,
    private readonly fetchImpl: typeof fetch,
    private readonly now: () => number,
  ) {}

  /** Resolves when the metadata at `metadataUrl` matches `resource`; rejects `resource_metadata_mismatch` otherwise. */
  async confirm(resource: RegisteredResource, metadataUrl: string, signal: AbortSignal | undefined): Promise<void> {
    const cacheKey = `${resource.id}\n${metadataUrl}`
    const until = this.#confirmed.get(cacheKey)
    if (until !== undefined && until > this.now()) return
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
    let document: unknown
    try {
      const timeout = AbortSignal.timeout(METADATA_TIMEOUT_MS)
      const response = await this.fetchImpl(url, { headers: { accept: 'application/json' }, redirect: 'error', signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]) })
      if (response.status !== 200) {
        await response.body?.cancel()
        throw new Error(`HTTP ${response.status}`)
      }
      document = await response.json()
    } catch (err) {
      // The reason is ours (status, timeout), never the body: a resource must not write into our messages.
      const reason = err instanceof Error && /^HTTP \d{3}$/.test(err.message) ? err.message : 'unreadable'
      throw mismatch(resource, `its metadata could not be read (${reason})`)
    }
    const metadata = (typeof document === 'object' && document !== null ? document : {}) as { resource?: unknown; authorization_servers?: unknown }
    const expected = resource.indicator ?? resource.id
    if (typeof metadata.resource !== 'string' || !sameIdentifier(metadata.resource, expected)) {
      throw mismatch(resource, 'its metadata names another resource identifier')
    }
    const servers = Array.isArray(metadata.authorization_servers) ? metadata.authorization_servers : []
    if (!servers.some((server) => typeof server === 'string' && sameIdentifier(server, this.issuer))) {
      throw mismatch(resource, 'its metadata does not name this client\'s authorization server')
    }
    if (this.#confirmed.size > 1000) this.#confirmed.clear()
    this.#confirmed.set(cacheKey, this.now() + CONFIRMED_FOR_MS)
  }
}

/** Identifiers compare as strings, except that a bare origin with and without its trailing slash is the same. */
function sameIdentifier(a: string, b: string): boolean {
  const strip = (value: string): string => (/^[a-z][a-z0-9+.-]*:\/\/[^/]+\/$/i.test(value) ? value.slice(0, -1) : value)
  return strip(a) === strip(b)
}

function mismatch(resource: RegisteredResource, why: string): ResourceTokensError {
  return new ResourceTokensError('resource_metadata_mismatch', `${resource.name} answered 401 and ${why} (RFC 9728): no new token is sent to it`, { status: 401 })
}
