// RFC 7662 token introspection for opaque access tokens, with client_secret_basic authentication
// (RFC 6749 section 2.3.1), a short cache keyed by the token's SHA-256 and single-flight per token.
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import { BoundedMap as BoundedCache } from '../lib/bounded-map.js'
import { sha256Base64url } from './dpop-proof.js'
import type { ResolvedIntrospection } from './resolve-options.js'

const TIMEOUT_MS = 5000
const CACHE_SIZE = 10_000

/** A validated introspection response: a JSON object whose `active` is a boolean. */
export type IntrospectionResponse = Record<string, unknown> & { active: boolean }

// RFC 6749 section 2.3.1: client id and secret are form-urlencoded (appendix B) before Basic encoding.
function formUrlEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2)
}

export class Introspector {
  readonly #config: ResolvedIntrospection
  readonly #fetch: typeof fetch
  readonly #cache = new BoundedCache<IntrospectionResponse>(CACHE_SIZE)
  readonly #pending = new Map<string, Promise<IntrospectionResponse>>()

  constructor(config: ResolvedIntrospection, fetchImpl: typeof fetch) {
    this.#config = config
    this.#fetch = fetchImpl
  }

  /**
   * Introspects `token` at `endpoint`, or answers from the cache. Throws {@link ResourceTokensError}
   * (`introspection_failed`) when the endpoint cannot give an answer.
   */
  async introspect(token: string, endpoint: URL, now: () => number): Promise<IntrospectionResponse> {
    // The cache key is a hash: raw tokens never sit in a map key where a heap dump would show them.
    const key = sha256Base64url(token)
    const cached = this.#cache.get(key, now())
    if (cached !== undefined) return cached
    const inFlight = this.#pending.get(key)
    if (inFlight !== undefined) return inFlight
    const request = this.#request(token, endpoint)
      .then((response) => {
        const at = now()
        const exp = response['exp']
        let expiresAt = at + this.#config.cacheMs
        // Never cache an active token past its own expiry.
        if (response.active && typeof exp === 'number') expiresAt = Math.min(expiresAt, exp * 1000)
        this.#cache.set(key, response, expiresAt, at)
        return response
      })
      .finally(() => this.#pending.delete(key))
    this.#pending.set(key, request)
    return request
  }

  async #request(token: string, endpoint: URL): Promise<IntrospectionResponse> {
    const { clientId, clientSecret } = this.#config
    const credentials = Buffer.from(`${formUrlEncode(clientId)}:${formUrlEncode(clientSecret)}`).toString('base64')
    let response: Response
    try {
      response = await this.#fetch(endpoint.href, {
        method: 'POST',
        headers: {
          accept: 'application/json',
          authorization: `Basic ${credentials}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        redirect: 'manual',
        signal: AbortSignal.timeout(TIMEOUT_MS),
      })
    } catch (cause) {
      throw new ResourceTokensError('introspection_failed', `introspection request to ${endpoint.href} failed`, { cause })
    }
    let body: unknown
    try {
      body = await response.json()
    } catch (cause) {
      body = undefined
      if (response.status === 200) {
        throw new ResourceTokensError('introspection_failed', `introspection response from ${endpoint.href} is not JSON`, {
          cause,
          status: response.status,
        })
      }
    }
    if (response.status !== 200) {
      const error = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['error'] : undefined
      const transient = response.status >= 500 || response.status === 429
      throw new ResourceTokensError(
        transient || typeof error !== 'string' ? 'introspection_failed' : 'introspection_failed',
        `introspection endpoint ${endpoint.href} answered ${response.status}`,
        typeof error === 'string' ? { status: response.status, error } : { status: response.status },
      )
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body) || typeof (body as { active?: unknown }).active !== 'boolean') {
      throw new ResourceTokensError('introspection_failed', `introspection response from ${endpoint.href} has no boolean "active"`, {
        status: response.status,
      })
    }
    return body as IntrospectionResponse
  }
}
