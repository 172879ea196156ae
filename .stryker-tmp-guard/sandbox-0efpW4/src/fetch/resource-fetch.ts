// @ts-nocheck
import * as oauth from 'oauth4webapi'
import type * as client from 'openid-client'
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import type { ResourceMatcher } from '../resources/matcher.js'
import type { RegisteredResource } from '../resources/resource.js'
import type { TokenSource } from '../tokens/token-source.js'
import { challengeError } from './challenges.js'
import { loginFor } from '../tokens/grant-coverage.js'
import { stepUpError } from './step-up.js'
import { fetchDiscovering, type DiscoverResource } from './discovering-fetch.js'
import type { ResourceMetadataCheck } from './resource-metadata.js'
import { isReplayable, REDIRECT_STATUSES, redirectDropsBody, type RequestBody } from './request-body.js'

const MAX_REDIRECTS = 20
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']

/** What the fetch needs from the rest of the client. */
export interface ResourceFetchContext {
  readonly matcher: Pick<ResourceMatcher, 'resolve'>
  readonly fetch: typeof fetch
  /** The token source of one resource, for the grant this fetch acts for (a user's, or the app's own). */
  source(resource: RegisteredResource): TokenSource
  /** RFC 9728: confirms a resource's metadata before a retry (see resource-metadata.ts). */
  readonly metadata: ResourceMetadataCheck
  /** Automatic RFC 9728 discovery for URLs of no registered resource on the origins the app allowed. */
  readonly discovery?: { allows(url: URL): boolean; discover: DiscoverResource } | undefined
}

type ResourceRequestFetch = (url: string, options: oauth.CustomFetchOptions<string, oauth.ProtectedResourceRequestBody>) => Promise<Response>

interface Hop {
  url: URL
  method: string
  headers: Headers
  body: RequestBody | null
}

/**
 * `fetch` for one user's grant. The token of the resource the URL belongs to is attached; a URL that
 * belongs to no resource is fetched without any token. Redirects are followed here, not by the Fetch
 * implementation, so that a token is only ever attached to a request for the resource it was issued
 * for: a hop to another origin, another resource, or from https to http carries no token. A 401
 * `invalid_token` is retried once with a new token when the body can be sent again; a 403
 * `insufficient_scope` becomes a typed error. A request or redirect within a resource whose path hides a dot
 * segment (`..%2F`, `%2e%2e`, `..;`) is refused with `ambiguous_path`: servers resolve such paths differently.
 */
export async function resourceFetch(ctx: ResourceFetchContext, input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  const request = input instanceof Request ? input : undefined
  const start = toUrl(request?.url ?? (input as string | URL))
  // A resource URL with a hidden dot segment is refused (ambiguous_path) before anything is sent.
  const resource = ctx.matcher.resolve(start)
  if (resource === undefined) {
    const discovery = ctx.discovery
    if (discovery === undefined || !discovery.allows(start)) return ctx.fetch(input, init)
    // The retry goes through the registered resource; it never discovers again.
    return fetchDiscovering(ctx.fetch, discovery.discover, start, input, init, (again, options) => resourceFetch({ ...ctx, discovery: undefined }, again, options))
  }

  const mode = init.redirect ?? request?.redirect ?? 'follow'
  let hop: Hop = {
    url: start,
    method: (init.method ?? request?.method ?? 'GET').toUpperCase(),
    headers: new Headers(init.headers ?? request?.headers),
    body: init.body ?? (request?.body == null ? null : await request.arrayBuffer()),
  }
  const signal = init.signal ?? request?.signal ?? undefined
  const replayable = isReplayable(hop.body)

  // Once a hop leaves the resource, the token is never attached again (as Fetch never restores credentials
  // after a cross-origin hop): a foreign server must not choose where on the resource the token goes.
  let leftResource = false
  for (let redirects = 0; ; redirects++) {
    // A redirect within the resource to a hidden dot segment is refused like the first request (ambiguous_path).
    leftResource ||= ctx.matcher.resolve(hop.url) !== resource
    const response =
      !leftResource
        ? await sendWithToken(ctx, resource, hop, signal, replayable)
        : await ctx.fetch(hop.url, { method: hop.method, headers: hop.headers, body: hop.body, redirect: 'manual', ...(signal === undefined ? {} : { signal }) })

    const location = response.headers.get('location')
    if (!REDIRECT_STATUSES.has(response.status) || location === null || mode === 'manual') return response
    if (mode === 'error') {
      await response.body?.cancel()
      throw new ResourceTokensError('redirect_refused', `${hop.method} ${origin(hop.url)} answered with a redirect and redirect is "error"`, { status: response.status })
    }
    if (redirects >= MAX_REDIRECTS) {
      await response.body?.cancel()
      throw new ResourceTokensError('redirect_refused', `too many redirects from ${origin(start)}`)
    }
    let next: URL
    try {
      next = new URL(location, hop.url)
    } catch {
      return response
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') return response
    await response.body?.cancel()
    hop = nextHop(hop, next, response.status, replayable)
  }
}

async function sendWithToken(ctx: ResourceFetchContext, resource: RegisteredResource, hop: Hop, signal: AbortSignal | undefined, replayable: boolean): Promise<Response> {
  const source = ctx.source(resource)
  let token = await source.token()
  let retriedToken = false
  let retriedNonce = false
  for (;;) {
    const dpop = token.type === 'dpop' ? await source.dpopHandle() : undefined
    const { response, challenges } =
      dpop === undefined ? await sendBearer(ctx, token.value, hop, signal) : await sendDPoP(ctx, token.value, dpop, resource, hop, signal)
    const challenge = challengeError(challenges)
    if (challenge === undefined) return response
    if (response.status === 401 && challenge.error === 'use_dpop_nonce' && dpop !== undefined && !retriedNonce && replayable) {
      // The DPoP handle remembered the resource's nonce; one retry with it.
      retriedNonce = true
      await response.body?.cancel()
      continue
    }
    if (response.status === 401 && challenge.error === 'invalid_token' && !retriedToken && replayable) {
      retriedToken = true
      await response.body?.cancel()
      if (challenge.resourceMetadata !== undefined) await ctx.metadata.confirm(resource, challenge.resourceMetadata, signal)
      token = await source.token(token.value)
      continue
    }
    if (response.status === 403 && challenge.error === 'insufficient_scope') {
      await response.body?.cancel()
      throw new ResourceTokensError('insufficient_scope', `${hop.method} ${origin(hop.url)}${hop.url.pathname} needs more scope than the ${resource.name} token has`, {
        status: 403,
        error: 'insufficient_scope',
        ...(challenge.scope === undefined ? {} : { scope: challenge.scope }),
        login: loginFor(resource, challenge.scope),
      })
    }
    if (response.status === 401 && challenge.error === 'insufficient_user_authentication') {
      await response.body?.cancel()
      throw stepUpError(resource, hop, challenge)
    }
    return response
  }
}

/**
 * The hot path: a bearer token (RFC 6750 section 2.1) on a plain `fetch`, with one copy of the headers.
 * Challenges are only read where they matter, on 401 and 403.
 */
async function sendBearer(ctx: ResourceFetchContext, token: string, hop: Hop, signal: AbortSignal | undefined): Promise<Sent> {
  const headers = new Headers(hop.headers)
  headers.set('authorization', `Bearer ${token}`)
  headers.delete('dpop')
  const init: RequestInit & { duplex?: 'half' } = { method: hop.method, headers, body: hop.body, redirect: 'manual' }
  if (signal !== undefined) init.signal = signal
  // Fetch requires half duplex for a streamed request body.
  if (hop.body instanceof ReadableStream) init.duplex = 'half'
  const response = await ctx.fetch(hop.url.href, init)
  const challenges = response.status === 401 || response.status === 403 ? await readChallenges(response) : []
  return { response, challenges }
}

/** DPoP-bound tokens go through oauth4webapi, which signs a fresh proof and remembers the resource's nonce. */
async function sendDPoP(ctx: ResourceFetchContext, token: string, dpop: client.DPoPHandle, resource: RegisteredResource, hop: Hop, signal: AbortSignal | undefined): Promise<Sent> {
  const headers = new Headers(hop.headers)
  headers.delete('authorization')
  headers.delete('dpop')
  try {
    const response = await oauth.protectedResourceRequest(token, hop.method, hop.url, headers, hop.body as oauth.ProtectedResourceRequestBody, {
      [oauth.customFetch]: ctx.fetch as unknown as ResourceRequestFetch,
      [oauth.allowInsecureRequests]: resource.insecureLoopback,
      DPoP: dpop,
      ...(signal === undefined ? {} : { signal }),
    })
    return { response, challenges: [] }
  } catch (err) {
    if (!(err instanceof oauth.WWWAuthenticateChallengeError)) throw err
    return { response: err.response, challenges: err.cause }
  }
}

const CHALLENGE_PROBE = new URL('https://challenges.invalid/')

/**
 * The `WWW-Authenticate` challenges of a response, parsed by oauth4webapi (RFC 9110 section 11.6.1), which
 * exposes its parser only through a protected-resource request: hand it the response we already have.
 * Unparseable headers give no challenges.
 */
async function readChallenges(response: Response): Promise<readonly oauth.WWWAuthenticateChallenge[]> {
  if (!response.headers.has('www-authenticate')) return []
  try {
    await oauth.protectedResourceRequest('-', 'GET', CHALLENGE_PROBE, undefined, null, { [oauth.customFetch]: async () => response })
    return []
  } catch (err) {
    if (err instanceof oauth.WWWAuthenticateChallengeError) return err.cause
    return []
  }
}

interface Sent {
  response: Response
  challenges: readonly oauth.WWWAuthenticateChallenge[]
}

function nextHop(hop: Hop, next: URL, status: number, replayable: boolean): Hop {
  const headers = new Headers(hop.headers)
  let { method, body } = hop
  if (redirectDropsBody(status, method)) {
    method = 'GET'
    body = null
    for (const name of BODY_HEADERS) headers.delete(name)
  } else if (body !== null && !replayable) {
    throw new ResourceTokensError('redirect_refused', `cannot follow a ${status} redirect with a streamed request body`, { status })
  }
  if (next.origin !== hop.url.origin) {
    // As the Fetch standard does: credentials the caller set do not cross origins either.
    headers.delete('authorization')
    headers.delete('cookie')
    headers.delete('proxy-authorization')
  }
  return { url: next, method, headers, body }
}

function toUrl(input: string | URL): URL {
  try {
    return input instanceof URL ? new URL(input.href) : new URL(input)
  } catch {
    throw new ResourceTokensError('invalid_argument', 'the request URL must be an absolute URL')
  }
}

function origin(url: URL): string {
  return url.origin
}
