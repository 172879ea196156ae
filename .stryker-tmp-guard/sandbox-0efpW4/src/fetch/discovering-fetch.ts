// @ts-nocheck
import * as oauth from 'oauth4webapi'
import type { RegisteredResource } from '../resources/resource.js'
import { isReplayable } from './request-body.js'
import type { DiscoveryHints } from './resource-discovery.js'

/** Registers the resource a URL belongs to, from its verified RFC 9728 metadata (see the client). */
export type DiscoverResource = (url: URL, hints: DiscoveryHints, signal: AbortSignal | undefined) => Promise<RegisteredResource>

/**
 * A fetch to a URL that belongs to no registered resource, on an origin the app allowed for discovery.
 * It is sent without any token. When the answer is a 401 whose challenge points at resource metadata
 * (RFC 9728 section 5.1), the resource is discovered and registered (its metadata verified), and the request
 * is sent once more through `retry`, now with the resource's own token, when its body can be sent again.
 * Otherwise the 401 is returned as it is (the next request to the resource carries a token).
 */
export async function fetchDiscovering(
  fetchFn: typeof fetch,
  discover: DiscoverResource,
  url: URL,
  input: string | URL | Request,
  init: RequestInit,
  retry: (input: string | URL | Request, init: RequestInit) => Promise<Response>,
): Promise<Response> {
  const request = input instanceof Request ? input : undefined
  // A Request's body can be read once: keep it, so the retry can send it again.
  const body = init.body ?? (request?.body == null ? null : await request.arrayBuffer())
  const sent: RequestInit = {
    method: init.method ?? request?.method ?? 'GET',
    headers: new Headers(init.headers ?? request?.headers),
    body,
    redirect: init.redirect ?? request?.redirect ?? 'follow',
  }
  const signal = init.signal ?? request?.signal ?? undefined
  if (signal !== undefined) sent.signal = signal
  // Fetch requires half duplex for a streamed request body.
  if (body instanceof ReadableStream) (sent as RequestInit & { duplex?: 'half' }).duplex = 'half'
  // The caller's own credentials are not ours to judge; ours are simply not there.
  const response = await fetchFn(url, sent)
  // Only the URL asked about may introduce itself: an answer from after a redirect speaks for another URL.
  if (response.status !== 401 || response.redirected) return response
  const hints = await metadataHints(response)
  if (hints === undefined) return response
  try {
    await discover(url, hints, signal)
  } catch (err) {
    // Refused: the caller gets the typed error, and the 401's connection is not left hanging.
    await response.body?.cancel().catch(() => undefined)
    throw err
  }
  if (!isReplayable(body)) return response
  await response.body?.cancel()
  return retry(url, { ...sent, headers: new Headers(init.headers ?? request?.headers) })
}

const CHALLENGE_PROBE = new URL('https://challenges.invalid/')

/** `resource_metadata` and `scope` of the response's Bearer or DPoP challenge (parsed by oauth4webapi). */
async function metadataHints(response: Response): Promise<DiscoveryHints | undefined> {
  if (!response.headers.has('www-authenticate')) return undefined
  let challenges: readonly oauth.WWWAuthenticateChallenge[] = []
  try {
    // oauth4webapi exposes its challenge parser only through a protected-resource request: hand it this
    // response (a copy of its headers; the body stays ours).
    const copy = new Response(null, { status: response.status, headers: response.headers })
    await oauth.protectedResourceRequest('-', 'GET', CHALLENGE_PROBE, undefined, null, { [oauth.customFetch]: async () => copy })
  } catch (err) {
    if (err instanceof oauth.WWWAuthenticateChallengeError) challenges = err.cause
  }
  for (const challenge of challenges) {
    if (challenge.scheme !== 'bearer' && challenge.scheme !== 'dpop') continue
    const metadataUrl = challenge.parameters['resource_metadata']
    if (typeof metadataUrl === 'string') return { metadataUrl, scope: challenge.parameters.scope }
  }
  return undefined
}
