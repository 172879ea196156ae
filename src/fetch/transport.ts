import type * as client from 'openid-client'
import type * as oauth from 'oauth4webapi'
import type { Hop } from './hop.js'

/** A response and the `WWW-Authenticate` challenges read from it (only on 401 and 403). */
export interface Sent<R> {
  readonly response: R
  readonly challenges: readonly oauth.WWWAuthenticateChallenge[]
}

/**
 * How requests go out: the Fetch API (`client.fetch`) or `undici.request` (`client.request`). The token rules
 * (which hop gets which token, redirects, retries, challenges) are the same for both and live in
 * resource-fetch.ts; a transport only sends one hop, never following redirects, and reads its answer.
 */
export interface Transport<B, R> {
  /**
   * Sends `hop` with `authorization` (a bearer token's header value) or, when `undefined`, with no token. Resolves
   * the answer with its challenges unread (see {@link challenges}).
   */
  request(hop: Hop<B>, authorization: string | undefined, signal: AbortSignal | undefined): Promise<R>
  /** The `WWW-Authenticate` challenges of an answer to {@link request}: read only on 401 and 403. */
  challenges(response: R): Promise<readonly oauth.WWWAuthenticateChallenge[]>
  /** Sends `hop` with a DPoP-bound token and a fresh proof (oauth4webapi signs it and remembers the nonce). */
  sendDPoP(hop: Hop<B>, token: string, dpop: client.DPoPHandle, allowHttp: boolean, signal: AbortSignal | undefined): Promise<Sent<R>>
  status(response: R): number
  /** The `Location` header, if any. */
  location(response: R): string | undefined
  /** Reads and drops the body, so the connection can be reused. */
  discard(response: R): Promise<void>
}
