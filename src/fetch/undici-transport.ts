import * as oauth from 'oauth4webapi'
import type * as client from 'openid-client'
import type { Readable } from 'node:stream'
import { getGlobalDispatcher, request, type Dispatcher } from 'undici'
import { readChallenges } from './fetch-transport.js'
import { withAuthorization, type Hop } from './hop.js'
import type { Sent, Transport } from './transport.js'

/** A request body `client.request` can send: sent again on a retry or redirect unless it is a stream. */
export type ResourceRequestBody = string | Uint8Array | Readable

/**
 * The transport of `client.request`: `undici.request` on the configured dispatcher (or undici's global one).
 * No Fetch API objects on the way: headers go out as one plain object, the answer is undici's `ResponseData`.
 */
export class UndiciTransport implements Transport<ResourceRequestBody, Dispatcher.ResponseData> {
  readonly #dispatcher: Dispatcher | undefined

  constructor(dispatcher: Dispatcher | undefined) {
    this.#dispatcher = dispatcher
  }

  request(hop: Hop<ResourceRequestBody>, authorization: string | undefined, signal: AbortSignal | undefined): Promise<Dispatcher.ResponseData> {
    const headers = withAuthorization(hop.headers, authorization)
    return request(hop.url, {
      method: hop.method,
      headers: headers instanceof Headers ? Object.fromEntries(headers) : (headers ?? NO_HEADERS),
      body: hop.body,
      signal,
      dispatcher: this.#dispatcher ?? getGlobalDispatcher(),
    })
  }

  async challenges(response: Dispatcher.ResponseData): Promise<readonly oauth.WWWAuthenticateChallenge[]> {
    const status = response.statusCode
    return status === 401 || status === 403 ? readChallenges(headersOnly(response)) : []
  }

  /**
   * oauth4webapi signs the proof and reads the challenges and the nonce from a Fetch `Response`; it gets one that
   * carries the status and headers of undici's answer, whose body stays with undici for the caller.
   */
  async sendDPoP(hop: Hop<ResourceRequestBody>, token: string, dpop: client.DPoPHandle, allowHttp: boolean, signal: AbortSignal | undefined): Promise<Sent<Dispatcher.ResponseData>> {
    const headers = new Headers(hop.headers)
    headers.delete('authorization')
    headers.delete('dpop')
    let answer: Dispatcher.ResponseData | undefined
    const customFetch = async (url: string, options: oauth.CustomFetchOptions<string, oauth.ProtectedResourceRequestBody>): Promise<Response> => {
      answer = await request(url, { method: options.method, headers: options.headers, body: hop.body, signal: options.signal, dispatcher: this.#dispatcher ?? getGlobalDispatcher() })
      return headersOnly(answer)
    }
    try {
      await oauth.protectedResourceRequest(token, hop.method, hop.url, headers, null, {
        [oauth.customFetch]: customFetch,
        [oauth.allowInsecureRequests]: allowHttp,
        DPoP: dpop,
        ...(signal === undefined ? {} : { signal }),
      })
      return { response: answer!, challenges: [] }
    } catch (err) {
      if (!(err instanceof oauth.WWWAuthenticateChallengeError) || answer === undefined) throw err
      return { response: answer, challenges: err.cause }
    }
  }

  status(response: Dispatcher.ResponseData): number {
    return response.statusCode
  }

  location(response: Dispatcher.ResponseData): string | undefined {
    const value = response.headers['location']
    return Array.isArray(value) ? value[0] : value
  }

  async discard(response: Dispatcher.ResponseData): Promise<void> {
    await response.body.dump()
  }
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({})

/** A body-less Fetch `Response` with the status and headers of undici's answer (for oauth4webapi's parsers). */
function headersOnly(response: Dispatcher.ResponseData): Response {
  const headers = new Headers()
  for (const [name, value] of Object.entries(response.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v)
    else if (value !== undefined) headers.append(name, value)
  }
  // A Response cannot carry 1xx (undici answers with the final status) and must not have a body on 204/304.
  return new Response(null, { status: response.statusCode < 200 ? 200 : response.statusCode, headers })
}
