import * as oauth from 'oauth4webapi'
import type * as client from 'openid-client'
import type { Dispatcher } from 'undici'
import { withAuthorization, type Hop } from './hop.js'
import type { RequestBody } from './request-body.js'
import type { Sent, Transport } from './transport.js'

type ResourceRequestFetch = (url: string, options: oauth.CustomFetchOptions<string, oauth.ProtectedResourceRequestBody>) => Promise<Response>

/** `fetch`'s init, with what Node's fetch (undici) reads besides the standard members. */
// The dispatcher is typed loosely: Node's fetch is typed with undici-types, the option with the undici package.
export type FetchInit = Omit<RequestInit, 'dispatcher'> & { duplex?: 'half'; dispatcher?: unknown }

/** The Fetch API transport of `client.fetch`: the configured `fetch`, on `dispatcher` when one is given. */
export class FetchTransport implements Transport<RequestBody, Response> {
  readonly #fetch: typeof fetch
  readonly #dispatcher: Dispatcher | undefined
  readonly #customFetch: ResourceRequestFetch

  constructor(fetchFn: typeof fetch, dispatcher: Dispatcher | undefined) {
    this.#fetch = fetchFn
    this.#dispatcher = dispatcher
    this.#customFetch = dispatcher === undefined ? (fetchFn as unknown as ResourceRequestFetch) : (url, options) => fetchFn(url, { ...options, dispatcher } as unknown as RequestInit)
  }

  /** A request that is none of a resource's: the caller's init, on our dispatcher. */
  plain(input: string | URL | Request, init: RequestInit): Promise<Response> {
    return this.#fetch(input, this.#dispatcher === undefined ? init : ({ ...init, dispatcher: this.#dispatcher } as FetchInit as unknown as RequestInit))
  }

  /** A bearer token (RFC 6750 section 2.1) on the configured fetch. */
  request(hop: Hop<RequestBody>, authorization: string | undefined, signal: AbortSignal | undefined): Promise<Response> {
    const init: FetchInit = { method: hop.method, redirect: 'manual' }
    const headers = withAuthorization(hop.headers, authorization)
    if (headers !== undefined) init.headers = headers
    if (hop.body !== null) {
      init.body = hop.body
      // Fetch requires half duplex for a streamed request body.
      if (hop.body instanceof ReadableStream) init.duplex = 'half'
    }
    if (signal !== undefined) init.signal = signal
    if (this.#dispatcher !== undefined) init.dispatcher = this.#dispatcher
    return this.#fetch(hop.url.href, init as RequestInit)
  }

  async challenges(response: Response): Promise<readonly oauth.WWWAuthenticateChallenge[]> {
    const status = response.status
    return status === 401 || status === 403 ? readChallenges(response) : []
  }

  /** DPoP-bound tokens go through oauth4webapi, which signs a fresh proof and remembers the resource's nonce. */
  async sendDPoP(hop: Hop<RequestBody>, token: string, dpop: client.DPoPHandle, allowHttp: boolean, signal: AbortSignal | undefined): Promise<Sent<Response>> {
    const headers = new Headers(hop.headers)
    headers.delete('authorization')
    headers.delete('dpop')
    try {
      const response = await oauth.protectedResourceRequest(token, hop.method, hop.url, headers, hop.body as oauth.ProtectedResourceRequestBody, {
        [oauth.customFetch]: this.#customFetch,
        [oauth.allowInsecureRequests]: allowHttp,
        DPoP: dpop,
        ...(signal === undefined ? {} : { signal }),
      })
      return { response, challenges: [] }
    } catch (err) {
      if (!(err instanceof oauth.WWWAuthenticateChallengeError)) throw err
      return { response: err.response, challenges: err.cause }
    }
  }

  status(response: Response): number {
    return response.status
  }

  location(response: Response): string | undefined {
    return response.headers.get('location') ?? undefined
  }

  async discard(response: Response): Promise<void> {
    await response.body?.cancel()
  }
}

const CHALLENGE_PROBE = new URL('https://challenges.invalid/')

/**
 * The `WWW-Authenticate` challenges of a response, parsed by oauth4webapi (RFC 9110 section 11.6.1), which
 * exposes its parser only through a protected-resource request: hand it the response we already have.
 * Unparseable headers give no challenges.
 */
export async function readChallenges(response: Response): Promise<readonly oauth.WWWAuthenticateChallenge[]> {
  if (!response.headers.has('www-authenticate')) return []
  try {
    await oauth.protectedResourceRequest('-', 'GET', CHALLENGE_PROBE, undefined, null, { [oauth.customFetch]: async () => response })
    return []
  } catch (err) {
    if (err instanceof oauth.WWWAuthenticateChallengeError) return err.cause
    return []
  }
}
