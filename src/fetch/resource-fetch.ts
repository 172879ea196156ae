import { Readable } from 'node:stream'
import type * as client from 'openid-client'
import type { Dispatcher } from 'undici'
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import type { ResourceMatcher } from '../resources/matcher.js'
import type { RegisteredResource } from '../resources/resource.js'
import type { CachedToken } from '../grants/grant-record.js'
import type { Lane } from '../tokens/ready-tokens.js'
import type { TokenSource } from '../tokens/token-source.js'
import { challengeError } from './challenges.js'
import { loginFor } from '../tokens/grant-coverage.js'
import { stepUpError } from './step-up.js'
import { fetchDiscovering, type DiscoverResource } from './discovering-fetch.js'
import { type FetchTransport } from './fetch-transport.js'
import { nextHop, type Hop, type RedirectMode } from './hop.js'
import type { ResourceMetadataCheck } from './resource-metadata.js'
import { isReplayable, REDIRECT_STATUSES, type RequestBody } from './request-body.js'
import type { Sent, Transport } from './transport.js'
import { type UndiciTransport, type ResourceRequestBody } from './undici-transport.js'

const MAX_REDIRECTS = 20

/** What the fetch needs from the rest of the client: built once per client, shared by every call. */
export interface ResourceFetchContext {
  readonly matcher: Pick<ResourceMatcher, 'resolve' | 'locate'>
  readonly transport: FetchTransport
  readonly undici: UndiciTransport
  /** RFC 9728: confirms a resource's metadata before a retry (see resource-metadata.ts). */
  readonly metadata: ResourceMetadataCheck
  /** Automatic RFC 9728 discovery for URLs of no registered resource on the origins the app allowed. */
  readonly discovery?: { allows(url: URL): boolean; discover: DiscoverResource } | undefined
}

/** Options of `client.request`: those of `undici.request` that the token rules need to know about. */
export interface ResourceRequestOptions {
  /** Default `GET`. */
  method?: string
  /** Request headers. An `authorization` or `dpop` header is replaced on requests that carry a token. */
  headers?: Record<string, string | readonly string[] | undefined> | Headers
  /** Sent again on a 401 `invalid_token` retry and on 307/308 redirects, unless it is a stream. */
  body?: ResourceRequestBody | null
  signal?: AbortSignal
  /** As Fetch's `redirect`: `follow` (default; the token rules apply to every hop), `manual` or `error`. */
  redirect?: RedirectMode
}

/**
 * `fetch` for one grant (a user's, or the app's own). The token of the resource the URL belongs to is attached;
 * a URL that belongs to no resource is fetched without any token. Redirects are followed here, not by the Fetch
 * implementation, so that a token is only ever attached to a request for the resource it was issued for: a hop
 * to another origin, another resource, or from https to http carries no token. A 401 `invalid_token` is retried
 * once with a new token when the body can be sent again; a 403 `insufficient_scope` becomes a typed error. A
 * request or redirect within a resource whose path hides a dot segment (`..%2F`, `%2e%2e`, `..;`) is refused with
 * `ambiguous_path`: servers resolve such paths differently.
 */
export function resourceFetch(ctx: ResourceFetchContext, tokens: TokenSource, input: string | URL | Request, init?: RequestInit): Promise<Response> {
  // Not async (see resourceRequest): on the warm path the caller gets the promise of the request itself.
  try {
    if (init === undefined) {
      if (typeof input === 'string') {
        // The common call, `fetch(url)`: a GET with no headers and no body, nothing else to read.
        const { url: start, resource } = ctx.matcher.locate(input)
        if (resource === undefined) return fetchUnregistered(ctx, tokens, start, input, {})
        return follow(ctx, ctx.transport, tokens, resource, { url: start, method: 'GET', headers: undefined, body: null }, 'follow', undefined, true, input)
      }
      init = {}
    }
    const request = input instanceof Request ? input : undefined
    // A resource URL with a hidden dot segment is refused (ambiguous_path) before anything is sent.
    const { url: start, resource } = ctx.matcher.locate(request?.url ?? (input as string | URL))
    if (resource === undefined) return fetchUnregistered(ctx, tokens, start, input, init)
    const mode = init.redirect ?? request?.redirect ?? 'follow'
    if (!REDIRECT_MODES.has(mode)) throw new ResourceTokensError('invalid_argument', 'redirect must be "follow", "manual" or "error"')
    const given = init.headers ?? request?.headers
    const headers = given === undefined ? undefined : new Headers(given)
    const method = (init.method ?? request?.method ?? 'GET').toUpperCase()
    const signal = init.signal ?? request?.signal ?? undefined
    if (init.body == null && request?.body != null) {
      // A Request's body is read once here, so that it can be sent again (a retry, a 307/308 redirect).
      return request.arrayBuffer().then((body) => follow(ctx, ctx.transport, tokens, resource, { url: start, method, headers, body }, mode, signal, true))
    }
    const body = init.body ?? null
    return follow(ctx, ctx.transport, tokens, resource, { url: start, method, headers, body }, mode, signal, isReplayable(body))
  } catch (err) {
    return Promise.reject(err)
  }
}

/**
 * `fetch(lane.input)` again, on the lane {@link TokenSource.sent} made of it: the URL is not located and the token
 * not looked up again (the lane holds both, and is only handed out while both are still what they would be).
 * Everything after the answer is as in {@link resourceFetch}.
 */
export function fetchOnLane(ctx: ResourceFetchContext, tokens: TokenSource, lane: Lane): Promise<Response> {
  try {
    const hop: Hop<RequestBody> = { url: lane.url, method: 'GET', headers: undefined, body: null }
    return sendWarm(ctx, ctx.transport, tokens, lane.resource, hop, 'follow', undefined, true, lane.token, lane.authorization)
  } catch (err) {
    return Promise.reject(err)
  }
}

/** A URL of no registered resource: sent without a token, or discovered (RFC 9728) on an origin the app allowed. */
function fetchUnregistered(ctx: ResourceFetchContext, tokens: TokenSource, start: URL, input: string | URL | Request, init: RequestInit): Promise<Response> {
  const discovery = ctx.discovery
  if (discovery === undefined || !discovery.allows(start)) return ctx.transport.plain(input, init)
  // The retry goes through the registered resource; it never discovers again.
  return fetchDiscovering(
    (url, options) => ctx.transport.plain(url, options ?? {}),
    discovery.discover,
    start,
    input,
    init,
    (again, options) => resourceFetch({ ...ctx, discovery: undefined }, tokens, again, options),
  )
}

/**
 * `undici.request` for one grant, with the token rules of {@link resourceFetch} (matching, redirects, the
 * `invalid_token` retry, challenges, DPoP). URLs of no registered resource are sent without a token; automatic
 * discovery is `fetch`'s only.
 */
export function resourceRequest(ctx: ResourceFetchContext, tokens: TokenSource, url: string | URL, options?: ResourceRequestOptions): Promise<Dispatcher.ResponseData> {
  // Not async: every check above the transport is synchronous, and an async wrapper would only add hops between
  // the transport's answer and the caller. A refused call still rejects, it never throws.
  try {
    if (options === undefined) {
      // The common call, `request(url)`: a GET with no headers and no body.
      const { url: start, resource } = ctx.matcher.locate(url)
      return follow(ctx, ctx.undici, tokens, resource, { url: start, method: 'GET', headers: undefined, body: null }, 'follow', undefined, true)
    }
    checkRequestOptions(options)
    const { url: start, resource } = ctx.matcher.locate(url)
    const hop: Hop<ResourceRequestBody> = { url: start, method: (options.method ?? 'GET').toUpperCase(), headers: requestHeaders(options.headers), body: options.body ?? null }
    const replayable = hop.body === null || typeof hop.body === 'string' || hop.body instanceof Uint8Array
    // A URL of no registered resource: redirects are followed by the same rules, and no hop ever carries a token.
    return follow(ctx, ctx.undici, tokens, resource, hop, options.redirect ?? 'follow', options.signal, replayable)
  } catch (err) {
    return Promise.reject(err)
  }
}

/** A first answer already received with a bearer token: where {@link followFrom} takes over from the warm path. */
interface Answered<R> {
  readonly response: R
  readonly token: CachedToken
}

/**
 * Sends `first` and follows its redirects by the token rules above, on either transport. The warm path (a cached
 * bearer token, ready synchronously) sends at once and hands the caller the transport's answer through one
 * callback; an answer that needs the rules (a 401 or 403, a redirect to follow) and every other case go through
 * {@link followFrom}. May throw synchronously: its callers turn that into a rejection.
 */
function follow<B, R>(
  ctx: ResourceFetchContext,
  transport: Transport<B, R>,
  tokens: TokenSource,
  resource: RegisteredResource | undefined,
  first: Hop<B>,
  mode: RedirectMode,
  signal: AbortSignal | undefined,
  replayable: boolean,
  laneInput?: string,
): Promise<R> {
  const token = resource === undefined ? undefined : tokens.ready(resource)
  if (resource === undefined || token === undefined || token.type === 'dpop') return followFrom(ctx, transport, tokens, resource, first, mode, signal, replayable, undefined)
  const authorization = bearerHeader(token)
  if (laneInput !== undefined) tokens.sent?.(laneInput, first.url, resource, token, authorization)
  return sendWarm(ctx, transport, tokens, resource, first, mode, signal, replayable, token, authorization)
}

/** The warm path's send: a bearer token ready, the answer handed on through one callback unless the rules apply. */
function sendWarm<B, R>(
  ctx: ResourceFetchContext,
  transport: Transport<B, R>,
  tokens: TokenSource,
  resource: RegisteredResource,
  first: Hop<B>,
  mode: RedirectMode,
  signal: AbortSignal | undefined,
  replayable: boolean,
  token: CachedToken,
  authorization: string,
): Promise<R> {
  return transport.request(first, authorization, signal).then((response) => {
    const status = transport.status(response)
    if (status !== 401 && status !== 403 && (mode === 'manual' || !REDIRECT_STATUSES.has(status))) return response
    return followFrom(ctx, transport, tokens, resource, first, mode, signal, replayable, { response, token })
  })
}

/** {@link follow}'s loop, from the first hop's answer when the warm path already has it. */
async function followFrom<B, R>(
  ctx: ResourceFetchContext,
  transport: Transport<B, R>,
  tokens: TokenSource,
  resource: RegisteredResource | undefined,
  first: Hop<B>,
  mode: RedirectMode,
  signal: AbortSignal | undefined,
  replayable: boolean,
  answered: Answered<R> | undefined,
): Promise<R> {
  let hop = first
  // Once a hop leaves the resource, the token is never attached again (as Fetch never restores credentials
  // after a cross-origin hop): a foreign server must not choose where on the resource the token goes.
  let leftResource = resource === undefined
  for (let redirects = 0; ; redirects++) {
    // A redirect within the resource to a hidden dot segment is refused like the first request (ambiguous_path).
    leftResource ||= redirects > 0 && ctx.matcher.resolve(hop.url) !== resource
    const response =
      leftResource || resource === undefined
        ? await transport.request(hop, undefined, signal)
        : await sendWithToken(ctx, transport, tokens, resource, hop, signal, replayable, redirects === 0 ? answered : undefined)
    const status = transport.status(response)
    if (!REDIRECT_STATUSES.has(status) || mode === 'manual') return response
    const location = transport.location(response)
    if (location === undefined) return response
    if (mode === 'error') {
      await transport.discard(response)
      throw new ResourceTokensError('redirect_refused', `${hop.method} ${hop.url.origin} answered with a redirect and redirect is "error"`, { status })
    }
    if (redirects >= MAX_REDIRECTS) {
      await transport.discard(response)
      throw new ResourceTokensError('redirect_refused', `too many redirects from ${first.url.origin}`)
    }
    let next: URL
    try {
      next = new URL(location, hop.url)
    } catch {
      return response
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') return response
    await transport.discard(response)
    hop = nextHop(hop, next, status, replayable)
  }
}

async function sendWithToken<B, R>(
  ctx: ResourceFetchContext,
  transport: Transport<B, R>,
  tokens: TokenSource,
  resource: RegisteredResource,
  hop: Hop<B>,
  signal: AbortSignal | undefined,
  replayable: boolean,
  answered: Answered<R> | undefined,
): Promise<R> {
  // A cached token, synchronously; only a request that finds none waits.
  let token: CachedToken = answered?.token ?? tokens.ready(resource) ?? (await tokens.token(resource))
  let pending = answered?.response
  let retriedToken = false
  let retriedNonce = false
  for (;;) {
    let dpop: client.DPoPHandle | undefined
    let sent: Sent<R>
    if (pending !== undefined) {
      // The warm path's answer (a bearer token's): only its challenges are left to read.
      sent = { response: pending, challenges: await transport.challenges(pending) }
      pending = undefined
    } else {
      dpop = token.type === 'dpop' ? await tokens.dpopHandle() : undefined
      sent = dpop === undefined ? await send(transport, hop, bearerHeader(token), signal) : await transport.sendDPoP(hop, token.value, dpop, resource.insecureLoopback, signal)
    }
    const { response, challenges } = sent
    if (challenges.length === 0) return response
    const challenge = challengeError(challenges)
    if (challenge === undefined) return response
    const status = transport.status(response)
    if (status === 401 && challenge.error === 'use_dpop_nonce' && dpop !== undefined && !retriedNonce && replayable) {
      // The DPoP handle remembered the resource's nonce; one retry with it.
      retriedNonce = true
      await transport.discard(response)
      continue
    }
    if (status === 401 && challenge.error === 'invalid_token' && !retriedToken && replayable) {
      retriedToken = true
      await transport.discard(response)
      if (challenge.resourceMetadata !== undefined) await ctx.metadata.confirm(resource, challenge.resourceMetadata, signal)
      token = await tokens.token(resource, token.value)
      continue
    }
    if (status === 403 && challenge.error === 'insufficient_scope') {
      await transport.discard(response)
      throw new ResourceTokensError('insufficient_scope', `${hop.method} ${hop.url.origin}${hop.url.pathname} needs more scope than the ${resource.name} token has`, {
        status: 403,
        error: 'insufficient_scope',
        ...(challenge.scope === undefined ? {} : { scope: challenge.scope }),
        login: loginFor(resource, challenge.scope),
      })
    }
    if (status === 401 && challenge.error === 'insufficient_user_authentication') {
      await transport.discard(response)
      throw stepUpError(resource, hop, challenge)
    }
    return response
  }
}

/** One hop with a bearer token (or none), and the challenges of its answer (read only on 401 and 403). */
async function send<B, R>(transport: Transport<B, R>, hop: Hop<B>, authorization: string | undefined, signal: AbortSignal | undefined): Promise<Sent<R>> {
  const response = await transport.request(hop, authorization, signal)
  return { response, challenges: await transport.challenges(response) }
}

/** RFC 9110 section 5.6.2: a method is a token. */
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const REDIRECT_MODES: ReadonlySet<unknown> = new Set(['follow', 'manual', 'error'])

/** `client.request`'s options, checked before anything is sent: a bad one is `invalid_argument`, never a crash. */
function checkRequestOptions(options: unknown): asserts options is ResourceRequestOptions {
  if (typeof options !== 'object' || options === null) throw invalidOption('options must be an object')
  const { method, headers, body, signal, redirect } = options as Record<string, unknown>
  if (method !== undefined && (typeof method !== 'string' || !METHOD.test(method))) throw invalidOption('method must be an HTTP method name')
  if (redirect !== undefined && !REDIRECT_MODES.has(redirect)) throw invalidOption('redirect must be "follow", "manual" or "error"')
  if (headers !== undefined && !(headers instanceof Headers) && (typeof headers !== 'object' || headers === null || Array.isArray(headers))) {
    throw invalidOption('headers must be a Headers object or a record of header names to values')
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidOption('signal must be an AbortSignal')
  if (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Uint8Array) && !(body instanceof Readable)) {
    throw invalidOption('body must be a string, a Uint8Array (or Buffer), a stream.Readable, or null')
  }
}

function invalidOption(message: string): ResourceTokensError {
  return new ResourceTokensError('invalid_argument', `request(): ${message}`)
}

/**
 * `Bearer <token>`, built once per cached token: a cached token object lives as long as the grant snapshot that
 * holds it, and a string built per request is one more copy of the token for the transport to flatten and check.
 */
const BEARER_HEADERS = new WeakMap<CachedToken, string>()

function bearerHeader(token: CachedToken): string {
  let header = BEARER_HEADERS.get(token)
  if (header === undefined) {
    header = `Bearer ${token.value}`
    BEARER_HEADERS.set(token, header)
  }
  return header
}

/** `client.request`'s headers as Fetch `Headers` (repeated values appended), or `undefined` when none. */
function requestHeaders(headers: ResourceRequestOptions['headers']): Headers | undefined {
  if (headers === undefined) return undefined
  try {
    if (headers instanceof Headers) return new Headers(headers)
    const out = new Headers()
    for (const [name, value] of Object.entries(headers)) {
      if (typeof value === 'string') out.append(name, value)
      else if (Array.isArray(value)) for (const v of value as unknown[]) out.append(name, String(v))
      else if (value !== undefined) throw new TypeError(`header ${name}: not a string or an array of strings`)
    }
    return out
  } catch {
    // Names and values that HTTP does not allow (Headers checks them). The platform's message quotes the value,
    // which may be a credential of the caller's: not kept.
    throw new ResourceTokensError('invalid_argument', 'request(): headers hold a name or value that HTTP does not allow')
  }
}
