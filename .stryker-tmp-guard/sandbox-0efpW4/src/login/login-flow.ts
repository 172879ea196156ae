// @ts-nocheck
import { createHash, randomUUID } from 'node:crypto'
import * as client from 'openid-client'
import * as oauth from 'oauth4webapi'
import type { ResolvedOptions } from '../config/options.js'
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import { refreshExpiresAt, type GrantRecord } from '../grants/grant-record.js'
import { guard } from '../grants/grant-repository.js'
import type { GrantWriter } from '../grants/grant-writer.js'
import type { GrantKeys, StoreKeys } from '../grants/store-keys.js'
import { classifyProviderError, safeCause, tokenEndpointError } from '../protocol/classify-error.js'
import type { ProviderClient } from '../protocol/provider-client.js'
import type { RegisteredResource } from '../resources/resource.js'
import type { TokenStore } from '../stores/token-store.js'
import { mergeGrants } from '../grants/grant-merge.js'
import { FULL_SCOPE_SLOT } from '../tokens/downscoping/downscoping.js'
import { checkAuthentication, isEmpty, resolveLoginAdditions, type LoginAdditions } from './login-additions.js'
import { checkReturnTo } from './return-to.js'
import { ATTR, SPAN } from '../telemetry/names.js'
import { NOOP_TELEMETRY, type Telemetry } from '../telemetry/telemetry.js'

/** Options of {@link ResourceClient.startLogin}. */
export interface StartLoginOptions {
  /** Where to send the user after login: a relative path on this app. Default `/`. */
  returnTo?: string
  /** OpenID Connect `prompt`. Default `consent` when `offline_access` is requested (OpenID Connect Core 11). */
  prompt?: string
  /** OpenID Connect `login_hint`. */
  loginHint?: string
  /**
   * RFC 8707 resource indicators to ask for besides the registered resources' (incremental authorization).
   * An error's `login` fills this in.
   */
  resources?: string[]
  /** Scope to ask for besides the configured scopes, space-separated. */
  scope?: string
  /**
   * OpenID Connect `acr_values`, space-separated in order of preference (step-up, RFC 9470). The ID token's
   * `acr` must be one of them, or `finishLogin` refuses the login (`insufficient_user_authentication`).
   */
  acrValues?: string
  /** OpenID Connect `max_age` in seconds: the ID token's `auth_time` must be at most this old. */
  maxAge?: number
}

/** What {@link ResourceClient.startLogin} returns. */
export interface StartLoginResult {
  /** The provider's authorization URL: redirect the browser here. */
  url: URL
}

/** What {@link ResourceClient.finishLogin} returns. */
export interface FinishLoginResult {
  /** The `returnTo` given to `startLogin`. */
  returnTo: string
  /** The validated ID token claims. */
  claims: Readonly<Record<string, unknown>>
}

/** Clock leeway for `auth_time` against `max_age`. */
const AUTH_TIME_LEEWAY_SECONDS = 30

/** How old (or how far in the future) an ID token's `iat` may be at login: the login's own lifetime bound. */
const MAX_ID_TOKEN_AGE_SECONDS = 600

interface Transaction {
  state: string
  nonce: string
  codeVerifier: string
  returnTo: string
  /** The resource indicators asked for (recorded in the grant: what it covers). */
  indicators?: string[]
  /** What was asked beyond the configuration. */
  additions?: LoginAdditions
}

/**
 * Authorization code flow with PKCE (S256), `state` and `nonce` bound to the grant key and single-use.
 * The code exchange, ID token validation and RFC 9207 `iss` check are openid-client's; this module decides
 * what is asked for and what is kept.
 */
/** What a {@link LoginFlow} works with. */
export interface LoginFlowParts {
  readonly provider: ProviderClient
  /** Holds the login transactions (single use, expiring). */
  readonly store: TokenStore
  readonly keys: StoreKeys
  readonly writer: GrantWriter
  readonly resources: readonly RegisteredResource[]
  readonly options: Pick<ResolvedOptions, 'loginScope' | 'offlineAccess' | 'redirectUri' | 'loginTtlSeconds' | 'logger' | 'now'>
  /** The callback's span and the logins counter. Default: none. */
  readonly telemetry?: Telemetry
}

export class LoginFlow {
  private readonly provider: ProviderClient
  private readonly store: TokenStore
  private readonly keys: StoreKeys
  private readonly writer: GrantWriter
  private readonly resources: readonly RegisteredResource[]
  private readonly options: LoginFlowParts['options']
  private readonly telemetry: Telemetry

  constructor(parts: LoginFlowParts) {
    this.telemetry = parts.telemetry ?? NOOP_TELEMETRY
    this.provider = parts.provider
    this.store = parts.store
    this.keys = parts.keys
    this.writer = parts.writer
    this.resources = parts.resources
    this.options = parts.options
  }

  /**
   * The scope asked for at login: `openid`, `offline_access` (unless `offlineAccess: false`; whether or not the
   * provider advertises it, since discovery may list only some scopes), extra login scopes, every resource scope.
   */
  get loginScope(): string {
    const scopes = new Set<string>(['openid'])
    if (this.options.offlineAccess) scopes.add('offline_access')
    for (const scope of this.options.loginScope) scopes.add(scope)
    for (const resource of this.resources) for (const scope of resource.scope.split(' ')) scopes.add(scope)
    return [...scopes].join(' ')
  }

  async start(key: string, options: StartLoginOptions = {}): Promise<StartLoginResult> {
    const keys = this.keys.of(key)
    const returnTo = options.returnTo === undefined ? '/' : checkReturnTo(options.returnTo)
    const additions = resolveLoginAdditions(options)
    const indicators = [...new Set([...this.resources.map((r) => r.indicator), ...additions.resources])].filter((i): i is string => i !== undefined)
    const transaction: Transaction = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      codeVerifier: client.randomPKCECodeVerifier(),
      returnTo,
      indicators,
      ...(isEmpty(additions) ? {} : { additions }),
    }
    const scope = [...new Set([...this.loginScope.split(' '), ...additions.scope])].join(' ')
    const parameters = new URLSearchParams({
      response_type: 'code',
      redirect_uri: this.options.redirectUri,
      scope,
      state: transaction.state,
      nonce: transaction.nonce,
      code_challenge: pkceChallenge(transaction.codeVerifier),
      code_challenge_method: 'S256',
    })
    const prompt = options.prompt ?? (scope.split(' ').includes('offline_access') ? 'consent' : undefined)
    if (prompt !== undefined) parameters.set('prompt', prompt)
    if (options.loginHint !== undefined) parameters.set('login_hint', options.loginHint)
    for (const indicator of indicators) parameters.append('resource', indicator)
    if (additions.acrValues !== undefined) parameters.set('acr_values', additions.acrValues.join(' '))
    if (additions.maxAge !== undefined) parameters.set('max_age', String(additions.maxAge))
    // Transient: a store that bounds its memory may drop pending logins, oldest first, in total and per grant key
    // (group), so a flood of abandoned starts cannot grow it; a dropped login fails cleanly at the callback.
    const written = JSON.stringify(transaction)
    await guard(() => this.store.set(keys.transaction(transaction.state), written, { ttlSeconds: this.options.loginTtlSeconds, transient: true, group: keys.grant }))
    let url: URL
    try {
      url = await this.provider.authorizationUrl(parameters)
    } catch (err) {
      await this.store.delete(keys.transaction(transaction.state)).catch(() => undefined)
      const failure = classifyProviderError(err)
      throw tokenEndpointError(failure, err, 'pushed authorization request')
    }
    this.options.logger.debug?.('login started', { grant: keys.ref, par: this.provider.usesPar })
    return { url }
  }

  async finish(key: string, callback: string | URL): Promise<FinishLoginResult> {
    const keys = this.keys.of(key)
    return this.telemetry.operation({ span: SPAN.loginCallback, attributes: { [ATTR.grant]: keys.ref }, count: 'logins' }, async (scope) => {
      const result = await this.#finish(keys, callback)
      scope.identity(result.claims['sub'], result.claims['sid'])
      return result
    })
  }

  async #finish(keys: GrantKeys, callback: string | URL): Promise<FinishLoginResult> {
    const url = this.#callbackUrl(callback)
    const state = url.searchParams.get('state')
    if (state === null || state === '') throw invalidCallback('the callback has no state')
    if (!wellFormedCallback(url.searchParams)) throw invalidCallback('the callback has repeated or unexpected parameters')
    // Single use: take the transaction atomically, before anything else can fail.
    const raw = await guard(() => this.store.take(keys.transaction(state)))
    if (raw === undefined) throw invalidCallback('the callback state is unknown, expired, already used, or belongs to another session')
    const transaction = JSON.parse(raw) as Transaction

    let response: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers
    try {
      response = await this.provider.exchangeCode(url, { codeVerifier: transaction.codeVerifier, state: transaction.state, nonce: transaction.nonce, maxAge: transaction.additions?.maxAge }, { grant: keys.ref })
    } catch (err) {
      throw callbackError(err)
    }
    const claims = response.claims()
    if (claims === undefined) throw new ResourceTokensError('invalid_id_token', 'the token response has no ID token')
    // openid-client checks that `iat` is a number; an ID token minted long before this login is a replay.
    if (Math.abs(this.options.now() / 1000 - claims.iat) > MAX_ID_TOKEN_AGE_SECONDS) {
      throw new ResourceTokensError('invalid_id_token', 'the ID token was issued too long ago (iat) for this login')
    }
    if (transaction.additions !== undefined) checkAuthentication(claims, transaction.additions, this.options.now(), AUTH_TIME_LEEWAY_SECONDS)
    if (response.refresh_token === undefined) {
      throw new ResourceTokensError('refresh_token_missing', this.#noRefreshToken())
    }
    const record: GrantRecord = {
      v: 1,
      grantId: randomUUID(),
      rev: 1,
      refreshToken: response.refresh_token,
      idToken: response.id_token,
      claims: { ...claims },
      scope: response.scope,
      refreshExpiresAt: refreshExpiresAt(response, this.options.now()),
      createdAt: this.options.now(),
      tokens: {},
      ...(transaction.indicators === undefined ? {} : { resources: transaction.indicators }),
      ...(transaction.additions === undefined ? {} : { extraScopes: extraScopes(this.resources, transaction.additions) }),
    }
    const drop = droppedSlots(this.resources, transaction.additions)
    // Only a login that asked for more merges; a plain login replaces the grant, as it always did.
    const merge = transaction.additions === undefined ? undefined : (previous: GrantRecord) => mergeGrants(previous, record, drop, this.options.now())
    await this.writer.install(keys, record, merge)
    this.options.logger.info?.('login finished', { grant: keys.ref })
    return { returnTo: transaction.returnTo, claims: record.claims }
  }

  /**
   * Why there is no refresh token, as facts: what was asked and what the provider's metadata says. No blame:
   * a provider may issue refresh tokens only to clients registered for them, or not list scopes it supports.
   */
  #noRefreshToken(): string {
    const asked = this.loginScope
    const offline = this.options.offlineAccess
      ? 'offline_access was asked for, with prompt=consent'
      : 'offline_access was not asked for (offlineAccess: false)'
    const listed = this.provider.supportsScope('offline_access')
    const metadata =
      listed === undefined
        ? 'the provider\'s discovery document has no scopes_supported'
        : listed
          ? 'the provider\'s scopes_supported lists offline_access'
          : 'the provider\'s scopes_supported does not list offline_access'
    const grant = this.provider.supportsGrant('refresh_token')
    const grants = grant === undefined ? '' : grant ? '; grant_types_supported lists refresh_token' : '; grant_types_supported does not list refresh_token'
    return `no refresh token came back from the login: asked for scope "${asked}"; ${offline}; ${metadata}${grants}. Per-resource tokens need one: check that this client may use refresh tokens (and offline_access) at the provider`
  }

  #callbackUrl(callback: string | URL): URL {
    let url: URL
    try {
      url = callback instanceof URL ? new URL(callback.href) : new URL(callback)
    } catch {
      throw invalidCallback('the callback URL is not an absolute URL')
    }
    const expected = new URL(this.options.redirectUri)
    if (url.origin !== expected.origin || url.pathname !== expected.pathname) {
      throw invalidCallback('the callback URL is not the configured redirect URI')
    }
    return url
  }
}

/**
 * RFC 7636 section 4.2 S256: BASE64URL(SHA256(ASCII(code_verifier))), as openid-client's calculatePKCECodeChallenge
 * computes it (a unit test compares the two), but synchronously: WebCrypto's digest costs a thread-pool round trip
 * and its algorithm normalisation per call, which every anonymous login start pays.
 */
export function pkceChallenge(codeVerifier: string): string {
  return createHash('sha256').update(codeVerifier, 'ascii').digest('base64url')
}

/** Parameters of an authorization response (RFC 6749 4.1.2, RFC 9207): none may repeat, no front-channel tokens. */
function wellFormedCallback(parameters: URLSearchParams): boolean {
  const seen = new Set<string>()
  for (const name of parameters.keys()) {
    if (seen.has(name) || name === 'id_token' || name === 'access_token' || name === 'token' || name === 'response') return false
    seen.add(name)
  }
  return true
}

/** An OAuth `error` value as RFC 6749 4.1.2.1 shapes it; anything else (CR/LF, huge) is not repeated back. */
function safeErrorValue(value: string): string {
  return /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(value) ? value : 'invalid_error_value'
}

function invalidCallback(message: string, cause?: unknown): ResourceTokensError {
  return new ResourceTokensError('invalid_callback', message, cause === undefined ? {} : { cause: safeCause(cause) })
}

function callbackError(err: unknown): ResourceTokensError {
  if (err instanceof oauth.AuthorizationResponseError) {
    const error = safeErrorValue(err.error)
    return new ResourceTokensError('authorization_error', `the provider answered the authorization request with ${error}`, { error })
  }
  const failure = classifyProviderError(err)
  switch (failure.kind) {
    case 'invalid_grant':
      return invalidCallback('the provider rejected the authorization code (replayed, expired, or issued for another PKCE challenge)', err)
    case 'transient':
    case 'id_token':
      return tokenEndpointError(failure, err, 'login')
    case 'oauth_error':
      return new ResourceTokensError('invalid_callback', `the token endpoint rejected the authorization code with ${failure.error}`, { error: failure.error, status: failure.status, cause: safeCause(err) })
    case 'invalid_response':
      return invalidCallback(`the authorization response failed validation: ${failure.reason}`, err)
  }
}

/**
 * Scope added for one resource: when a login adds scope for exactly one resource indicator (as an error's
 * `login` does), that resource's tokens are asked with it from then on.
 */
function extraScopes(resources: readonly RegisteredResource[], additions: LoginAdditions): Record<string, string> {
  const extra: Record<string, string> = {}
  if (additions.resources.length !== 1 || additions.scope.length === 0) return extra
  for (const resource of resources) {
    if (resource.indicator !== additions.resources[0]) continue
    const added = additions.scope.filter((s) => !resource.scope.split(' ').includes(s))
    if (added.length > 0) extra[resource.id] = added.join(' ')
  }
  return extra
}

/** Cached tokens a merging login makes stale: those of the resources it was about (and the full-scope token). */
function droppedSlots(resources: readonly RegisteredResource[], additions: LoginAdditions | undefined): Set<string> {
  const drop = new Set<string>()
  if (additions === undefined) return drop
  drop.add(FULL_SCOPE_SLOT)
  for (const resource of resources) if (resource.indicator !== undefined && additions.resources.includes(resource.indicator)) drop.add(resource.id)
  // Step-up without naming a resource: no token carries the new authentication, none is kept.
  if (additions.resources.length === 0 && (additions.acrValues !== undefined || additions.maxAge !== undefined)) for (const resource of resources) drop.add(resource.id)
  return drop
}
