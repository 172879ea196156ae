import { createHash, randomUUID } from 'node:crypto'
import * as client from 'openid-client'
import * as oauth from 'oauth4webapi'
import type { ResolvedOptions } from '../config/options.js'
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import { refreshExpiresAt, type GrantRecord } from '../grants/grant-record.js'
import { guard } from '../grants/grant-repository.js'
import type { GrantWriter } from '../grants/grant-writer.js'
import type { StoreKeys } from '../grants/store-keys.js'
import { classifyProviderError, safeCause, tokenEndpointError } from '../protocol/classify-error.js'
import type { ProviderClient } from '../protocol/provider-client.js'
import type { RegisteredResource } from '../resources/resource.js'
import type { TokenStore } from '../stores/token-store.js'
import { checkReturnTo } from './return-to.js'

/** Options of {@link ResourceClient.startLogin}. */
export interface StartLoginOptions {
  /** Where to send the user after login: a relative path on this app. Default `/`. */
  returnTo?: string
  /** OpenID Connect `prompt`. Default `consent` when `offline_access` is requested (OpenID Connect Core 11). */
  prompt?: string
  /** OpenID Connect `login_hint`. */
  loginHint?: string
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

/** How old (or how far in the future) an ID token's `iat` may be at login: the login's own lifetime bound. */
const MAX_ID_TOKEN_AGE_SECONDS = 600

interface Transaction {
  state: string
  nonce: string
  codeVerifier: string
  returnTo: string
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
  readonly options: Pick<ResolvedOptions, 'loginScope' | 'redirectUri' | 'loginTtlSeconds' | 'logger' | 'now'>
}

export class LoginFlow {
  private readonly provider: ProviderClient
  private readonly store: TokenStore
  private readonly keys: StoreKeys
  private readonly writer: GrantWriter
  private readonly resources: readonly RegisteredResource[]
  private readonly options: LoginFlowParts['options']

  constructor(parts: LoginFlowParts) {
    this.provider = parts.provider
    this.store = parts.store
    this.keys = parts.keys
    this.writer = parts.writer
    this.resources = parts.resources
    this.options = parts.options
  }

  /** The scope asked for at login: `openid`, `offline_access` when offered, extra login scopes, every resource scope. */
  get loginScope(): string {
    const scopes = new Set<string>(['openid'])
    if (this.provider.supportsScope('offline_access') !== false) scopes.add('offline_access')
    for (const scope of this.options.loginScope) scopes.add(scope)
    for (const resource of this.resources) for (const scope of resource.scope.split(' ')) scopes.add(scope)
    return [...scopes].join(' ')
  }

  async start(key: string, options: StartLoginOptions = {}): Promise<StartLoginResult> {
    const keys = this.keys.of(key)
    const returnTo = options.returnTo === undefined ? '/' : checkReturnTo(options.returnTo)
    const transaction: Transaction = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      codeVerifier: client.randomPKCECodeVerifier(),
      returnTo,
    }
    const scope = this.loginScope
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
    for (const indicator of new Set(this.resources.map((r) => r.indicator))) {
      if (indicator !== undefined) parameters.append('resource', indicator)
    }
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
      response = await this.provider.exchangeCode(url, { codeVerifier: transaction.codeVerifier, state: transaction.state, nonce: transaction.nonce })
    } catch (err) {
      throw callbackError(err)
    }
    const claims = response.claims()
    if (claims === undefined) throw new ResourceTokensError('invalid_id_token', 'the token response has no ID token')
    // openid-client checks that `iat` is a number; an ID token minted long before this login is a replay.
    if (Math.abs(this.options.now() / 1000 - claims.iat) > MAX_ID_TOKEN_AGE_SECONDS) {
      throw new ResourceTokensError('invalid_id_token', 'the ID token was issued too long ago (iat) for this login')
    }
    if (response.refresh_token === undefined) {
      throw new ResourceTokensError('refresh_token_missing', 'the provider issued no refresh token: it must allow offline_access (with prompt=consent) or refresh tokens for this client')
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
    }
    await this.writer.install(keys, record)
    this.options.logger.info?.('login finished', { grant: keys.ref })
    return { returnTo: transaction.returnTo, claims: record.claims }
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
