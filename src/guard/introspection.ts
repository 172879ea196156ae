// RFC 7662 token introspection for opaque access tokens. oauth4webapi sends the request and checks the
// answer (status, OAuth error body, JSON, boolean `active`). Kept here because it does not do them: a short
// cache keyed by the token's SHA-256 that never outlives the token, single-flight per token, and the
// client_secret_basic encoding below.
import { Buffer } from 'node:buffer'

import * as oauth from 'oauth4webapi'

import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import { BoundedMap } from '../lib/bounded-map.js'
import { sha256Base64url } from './dpop-proof.js'
import { failureError, failureStatus, issuerHttpOptions, processResponse } from './issuer-http.js'
import type { ResolvedIntrospection } from './resolve-options.js'

const CACHE_SIZE = 10_000

/** A validated introspection response: a JSON object whose `active` is a boolean. */
export type IntrospectionResponse = Record<string, unknown> & { active: boolean }

// RFC 6749 section 2.3.1: client id and secret are form-urlencoded (appendix B) before Basic encoding.
// oauth4webapi's ClientSecretBasic also percent-encodes `-`, `_` and `.`, which servers comparing the header
// without decoding refuse; URLSearchParams leaves those as they are (and encodes `~` as `%7E`, as appendix B
// asks), as this guard always sent them.
function formUrlEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2)
}

function clientSecretBasic(clientSecret: string): oauth.ClientAuth {
  return (_as, client, _body, headers) => {
    const credentials = `${formUrlEncode(client.client_id)}:${formUrlEncode(clientSecret)}`
    headers.set('authorization', `Basic ${Buffer.from(credentials).toString('base64')}`)
  }
}

export class Introspector {
  readonly #config: ResolvedIntrospection
  readonly #issuer: string
  readonly #fetch: typeof fetch
  readonly #auth: oauth.ClientAuth
  readonly #cache = new BoundedMap<IntrospectionResponse>(CACHE_SIZE)
  readonly #pending = new Map<string, Promise<IntrospectionResponse>>()

  constructor(config: ResolvedIntrospection, issuer: string, fetchImpl: typeof fetch) {
    this.#config = config
    this.#issuer = issuer
    this.#fetch = fetchImpl
    this.#auth = clientSecretBasic(config.clientSecret)
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
    const as: oauth.AuthorizationServer = { issuer: this.#issuer, introspection_endpoint: endpoint.href }
    const client: oauth.Client = { client_id: this.#config.clientId }
    try {
      const response = await oauth.introspectionRequest(as, client, this.#auth, token, {
        ...issuerHttpOptions(endpoint, this.#fetch),
        additionalParameters: { token_type_hint: 'access_token' },
      })
      return await processResponse(response, (r) => oauth.processIntrospectionResponse(as, client, r))
    } catch (cause) {
      const status = failureStatus(cause)
      const error = failureError(cause)
      const what = status === undefined ? 'gave no usable answer' : `answered ${status}`
      throw new ResourceTokensError('introspection_failed', `introspection endpoint ${endpoint.href} ${what}`, {
        cause,
        ...(status === undefined ? {} : { status }),
        ...(error === undefined ? {} : { error }),
      })
    }
  }
}
