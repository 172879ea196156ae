import { randomUUID } from 'node:crypto'
import { inspect } from 'node:util'
import type { ResolvedOptions } from '../config/options.js'
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import { ResourceMetadataCheck } from '../fetch/resource-metadata.js'
import { resourceFetch, type ResourceFetchContext } from '../fetch/resource-fetch.js'
import type { CachedToken, GrantRecord } from '../grants/grant-record.js'
import type { GrantRepository } from '../grants/grant-repository.js'
import type { GrantWriter } from '../grants/grant-writer.js'
import type { StoreKeys } from '../grants/store-keys.js'
import type { FinishLoginResult, LoginFlow, StartLoginOptions, StartLoginResult } from '../login/login-flow.js'
import type { ResourceClientEventName, ResourceClientEvents, TypedEmitter } from '../observability/events.js'
import { safeCause } from '../protocol/classify-error.js'
import type { ProviderClient } from '../protocol/provider-client.js'
import { verifyImportedIdToken } from '../login/import-grant.js'
import type { ResourceMatcher } from '../resources/matcher.js'
import type { RegisteredResource } from '../resources/resource.js'
import type { TokenStore } from '../stores/token-store.js'
import type { ServiceTokens } from '../tokens/service-tokens.js'
import type { TokenManager } from '../tokens/token-manager.js'

/** A grant obtained elsewhere (e.g. by Passport), handed to {@link ResourceClient.importGrant}. */
export interface ImportedGrant {
  refreshToken: string
  /** The ID token of the same login. Verified (signature, `iss`, `aud`; an expired one is accepted). */
  idToken?: string
}

/** What an access token looks like to the app: everything but the provider's raw response. */
export interface AccessTokenInfo {
  /** The token, exactly what `fetch` would send. */
  value: string
  /** `bearer` or `dpop`. */
  type: string
  /** The scope granted for this resource. */
  scope: string | undefined
  /** Expiry, ms since the epoch. */
  expiresAt: number
  /** The resource it belongs to (its name). */
  resource: string
}

/** What {@link ResourceClient.logout} did. */
export interface LogoutResult {
  /** The provider's RP-initiated logout URL (send the browser there), when the provider has an end-session endpoint. */
  endSessionUrl: URL | undefined
  /** Revocation outcome, for the app to log or show. Failures never stop a logout. */
  revocation: {
    refreshToken: 'revoked' | 'failed' | 'unsupported' | 'none'
    /** Access tokens the provider revoked, and those it would not (`unsupported_token_type` for JWT access tokens, or errors). */
    accessTokens: { revoked: number; notRevoked: number }
  }
}

/**
 * Keeps one refresh token per user server-side and one down-scoped, audience-restricted access token per
 * resource. Created by {@link createResourceClient}.
 */
export class ResourceClient {
  readonly #provider: ProviderClient
  readonly #grants: GrantRepository
  readonly #tokens: TokenManager
  readonly #service: ServiceTokens
  readonly #login: LoginFlow
  readonly #matcher: ResourceMatcher
  readonly #resources: readonly RegisteredResource[]
  readonly #events: TypedEmitter
  readonly #ownedStore: TokenStore | undefined
  readonly #metadata: ResourceMetadataCheck
  readonly #keys: StoreKeys
  readonly #writer: GrantWriter
  readonly #options: ClientFacingOptions
  #closed = false

  /** @internal use {@link createResourceClient} */
  constructor(parts: {
    provider: ProviderClient
    grants: GrantRepository
    keys: StoreKeys
    writer: GrantWriter
    tokens: TokenManager
    service: ServiceTokens
    login: LoginFlow
    matcher: ResourceMatcher
    resources: readonly RegisteredResource[]
    events: TypedEmitter
    ownedStore: TokenStore | undefined
    options: ClientFacingOptions
  }) {
    this.#provider = parts.provider
    this.#grants = parts.grants
    this.#keys = parts.keys
    this.#writer = parts.writer
    this.#options = parts.options
    this.#tokens = parts.tokens
    this.#service = parts.service
    this.#login = parts.login
    this.#matcher = parts.matcher
    this.#resources = parts.resources
    this.#events = parts.events
    this.#ownedStore = parts.ownedStore
    this.#metadata = new ResourceMetadataCheck({ issuer: parts.provider.metadata.issuer, fetch: parts.options.fetch, now: parts.options.now })
  }

  /** The configured redirect URI (adapters check their callback route against it). */
  get redirectUri(): string {
    return this.#options.redirectUri
  }

  /** The configured post-logout redirect URI, if any. */
  get postLogoutRedirectUri(): string | undefined {
    return this.#options.postLogoutRedirectUri
  }

  /** The provider's validated discovery metadata. */
  get serverMetadata(): Readonly<Record<string, unknown>> {
    return this.#provider.metadata
  }

  /** The registered resources, in configuration order (no secrets). */
  get resources(): ReadonlyArray<{ name: string; url: string; scope: string; indicator: string | undefined; dpop: boolean }> {
    return this.#resources.map((r) => ({ name: r.name, url: r.id, scope: r.scope, indicator: r.indicator, dpop: r.dpop }))
  }

  /**
   * Starts a login (authorization code flow with PKCE S256, RFC 7636; RFC 9126 PAR when the provider offers it).
   * Send the browser to the returned URL.
   *
   * @param key Names the user's grant: a session id, or a user id for background work.
   * @throws `ResourceTokensError` `invalid_argument` for a bad `returnTo`; `store_unavailable`.
   * @example
   * ```ts
   * const { url } = await client.startLogin(sessionId, { returnTo: '/inbox' })
   * res.redirect(url.href)
   * ```
   */
  async startLogin(key: string, options: StartLoginOptions = {}): Promise<StartLoginResult> {
    this.#check(key)
    return this.#login.start(key, options)
  }

  /**
   * Finishes a login from the full callback URL: checks `state` (single use, bound to `key`), `iss`
   * (RFC 9207), exchanges the code with the PKCE verifier, validates the ID token (nonce included) and stores the grant.
   *
   * @throws `invalid_callback` (unknown, replayed or foreign state, bad response), `authorization_error`
   * (the provider sent an error, e.g. `access_denied`), `invalid_id_token`, `refresh_token_missing`,
   * `token_endpoint_unavailable`. Nothing is stored when it throws.
   */
  async finishLogin(key: string, callbackUrl: string | URL): Promise<FinishLoginResult> {
    this.#check(key)
    return this.#login.finish(key, callbackUrl)
  }

  /**
   * `fetch` on behalf of the user: attaches the access token of the resource `input` belongs to (or none,
   * when it belongs to none). See the README for the redirect and retry rules.
   *
   * @throws `login_required`, `token_endpoint_unavailable`, `token_endpoint_error`, `insufficient_scope` (a 403
   * from the resource, with `scope`), `redirect_refused`, `ambiguous_path` (the URL or a redirect is within a resource
   * but its path hides a dot segment such as `..%2F`: refused, nothing sent), `invalid_token_response`,
   * `store_unavailable`; and whatever `fetch` throws.
   * @example
   * ```ts
   * const res = await client.fetch(sessionId, 'https://contacts.example.com/api/people')
   * ```
   */
  async fetch(key: string, input: string | URL | Request, init?: RequestInit): Promise<Response> {
    this.#check(key)
    return resourceFetch({ ...this.#fetchParts(), source: (resource) => this.#tokens.source(key, resource) }, input, init)
  }

  /**
   * `fetch` for the app itself, with no user: the resource's token comes from the client_credentials grant
   * (cached, renewed before expiry, single-flight per resource, DPoP when the resource says so). Same
   * matching, redirect and retry rules as {@link ResourceClient.fetch}.
   *
   * @throws `token_endpoint_unavailable`, `token_endpoint_error` (e.g. `unauthorized_client` when the provider
   * does not allow client_credentials for this client), and as {@link ResourceClient.fetch}.
   * @example
   * ```ts
   * const res = await client.serviceFetch('https://contacts.example.com/api/stats')
   * ```
   */
  async serviceFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    this.#check('service')
    return resourceFetch({ ...this.#fetchParts(), source: (resource) => this.#service.source(resource) }, input, init)
  }

  /**
   * The app's own access token for `url` (client_credentials), as {@link serviceFetch} would send it.
   *
   * @throws `unknown_resource` when `url` belongs to no registered resource; otherwise as {@link serviceFetch}.
   */
  async serviceAccessToken(url: string | URL): Promise<AccessTokenInfo> {
    this.#check('service')
    const resource = this.#resourceFor(url)
    return toInfo(await this.#service.accessToken(resource), resource)
  }

  /**
   * The access token `fetch` would send to `url`: cached, or obtained now.
   *
   * @throws `unknown_resource` when `url` belongs to no registered resource; `ambiguous_path` when its path hides a
   * dot segment (`..%2F`, `%2e%2e`, `..;`); otherwise as {@link ResourceClient.fetch}.
   */
  async accessToken(key: string, url: string | URL): Promise<AccessTokenInfo> {
    this.#check(key)
    const resource = this.#resourceFor(url)
    const token = await this.#tokens.accessToken(key, resource)
    return toInfo(token, resource)
  }

  /** The ID token claims of the user's grant, or `undefined` when there is no grant. */
  async claims(key: string): Promise<Readonly<Record<string, unknown>> | undefined> {
    this.#check(key)
    return (await this.#grants.read(this.#keys.of(key).grant))?.record.claims
  }

  /** True when a grant is stored for `key`. */
  async hasGrant(key: string): Promise<boolean> {
    this.#check(key)
    return (await this.#grants.read(this.#keys.of(key).grant)) !== undefined
  }

  /**
   * Stores a grant obtained elsewhere (e.g. by Passport). The ID token, when given, is verified against the
   * provider's keys, issuer and this client's id; an expired one is accepted, since it only names the user.
   *
   * @throws `invalid_argument` for a missing refresh token, `invalid_id_token`.
   */
  async importGrant(key: string, grant: ImportedGrant): Promise<void> {
    this.#check(key)
    if (typeof grant?.refreshToken !== 'string' || grant.refreshToken === '') {
      throw new ResourceTokensError('invalid_argument', '"refreshToken" must be a non-empty string')
    }
    const claims = grant.idToken === undefined ? {} : await verifyImportedIdToken(this.#provider, grant.idToken, this.#options)
    const record: GrantRecord = { v: 1, grantId: randomUUID(), rev: 1, refreshToken: grant.refreshToken, idToken: grant.idToken, claims, scope: undefined, createdAt: this.#options.now(), tokens: {} }
    // The same path as a login: the imported grant replaces the old one, whose refresh token is revoked.
    await this.#writer.install(this.#keys.of(key), record)
  }

  /**
   * Logs the user out: forgets the grant first (so no request can use it any more), then revokes the refresh
   * token and every cached access token (RFC 7009), and returns the RP-initiated logout URL. Revocation
   * failures are reported in the result, never thrown.
   *
   * @throws `store_unavailable` only when the grant could not be removed.
   */
  async logout(key: string, options: { state?: string } = {}): Promise<LogoutResult> {
    this.#check(key)
    const keys = this.#keys.of(key)
    // A record that does not decrypt is removed all the same: logout must always end the local session.
    const record = await this.#grants.take(keys.grant).catch((err: unknown) => {
      if (err instanceof ResourceTokensError && err.code === 'decryption_failed') return undefined
      throw err
    })
    const revocation: LogoutResult['revocation'] = { refreshToken: 'none', accessTokens: { revoked: 0, notRevoked: 0 } }
    if (record !== undefined) {
      this.#events.emit('grant_removed', { grant: keys.ref, reason: 'logout' })
      if (!this.#provider.canRevoke) {
        revocation.refreshToken = 'unsupported'
      } else {
        revocation.refreshToken = await this.#revoke(record.refreshToken, 'refresh_token')
        for (const token of Object.values(record.tokens)) {
          const outcome = await this.#revoke(token.value, 'access_token')
          if (outcome === 'revoked') revocation.accessTokens.revoked++
          else revocation.accessTokens.notRevoked++
        }
      }
      this.#options.logger.info?.('logged out', { grant: keys.ref, refreshToken: revocation.refreshToken, ...revocation.accessTokens })
    }
    const parameters: Record<string, string> = { client_id: this.#options.clientId }
    if (record?.idToken !== undefined) parameters['id_token_hint'] = record.idToken
    if (this.#options.postLogoutRedirectUri !== undefined) parameters['post_logout_redirect_uri'] = this.#options.postLogoutRedirectUri
    if (options.state !== undefined) parameters['state'] = options.state
    return { endSessionUrl: this.#provider.endSessionUrl(parameters), revocation }
  }

  /** Subscribes to an event (see {@link ResourceClientEvents}). */
  on<E extends ResourceClientEventName>(event: E, listener: (payload: ResourceClientEvents[E]) => void): this {
    this.#events.on(event, listener)
    return this
  }

  /** Unsubscribes from an event. */
  off<E extends ResourceClientEventName>(event: E, listener: (payload: ResourceClientEvents[E]) => void): this {
    this.#events.off(event, listener)
    return this
  }

  /** Stops listening to the store and closes it when the client created it. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#grants.close()
    await this.#ownedStore?.close?.()
  }

  /** Never print internals: `util.inspect(client)` shows the configuration's public parts only. */
  [inspect.custom](): string {
    return `ResourceClient { issuer: '${this.#options.issuer.href}', clientId: '${this.#options.clientId}', resources: [${this.#resources.map((r) => `'${r.name}'`).join(', ')}] }`
  }

  toJSON(): Record<string, unknown> {
    return { issuer: this.#options.issuer.href, clientId: this.#options.clientId, resources: this.#resources.map((r) => r.name) }
  }

  async #revoke(token: string, hint: 'refresh_token' | 'access_token'): Promise<'revoked' | 'failed'> {
    try {
      await this.#provider.revoke(token, hint)
      return 'revoked'
    } catch (err) {
      this.#options.logger.debug?.('revocation refused', { hint, reason: safeCause(err).message })
      return 'failed'
    }
  }

  #fetchParts(): Omit<ResourceFetchContext, 'source'> {
    return { matcher: this.#matcher, fetch: this.#options.fetch, metadata: this.#metadata }
  }

  #resourceFor(url: string | URL): RegisteredResource {
    const resource = this.#matcher.resolve(url)
    if (resource === undefined) throw new ResourceTokensError('unknown_resource', 'the URL belongs to no registered resource')
    return resource
  }

  #check(key: unknown): void {
    if (this.#closed) throw new ResourceTokensError('invalid_argument', 'the client is closed')
    if (typeof key !== 'string' || key === '') throw new ResourceTokensError('invalid_argument', 'the grant key must be a non-empty string')
  }
}

function toInfo(token: CachedToken, resource: RegisteredResource): AccessTokenInfo {
  return { value: token.value, type: token.type, scope: token.scope, expiresAt: token.expiresAt, resource: resource.name }
}

/** The part of the options the client object itself reads. */
export type ClientFacingOptions = Pick<ResolvedOptions, 'issuer' | 'clientId' | 'redirectUri' | 'postLogoutRedirectUri' | 'fetch' | 'now' | 'logger' | 'timeoutSeconds'>
