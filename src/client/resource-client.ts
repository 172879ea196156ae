import { randomUUID } from 'node:crypto'
import { inspect } from 'node:util'
import type { ResolvedOptions } from '../config/options.js'
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import { ResourceMetadataCheck } from '../fetch/resource-metadata.js'
import type { Dispatcher } from 'undici'
import { FetchTransport } from '../fetch/fetch-transport.js'
import { fetchOnLane, resourceFetch, resourceRequest, type ResourceFetchContext, type ResourceRequestOptions } from '../fetch/resource-fetch.js'
import { UndiciTransport } from '../fetch/undici-transport.js'
import type { CachedToken, GrantRecord } from '../grants/grant-record.js'
import type { GrantRepository } from '../grants/grant-repository.js'
import type { GrantTermination } from '../grants/grant-termination.js'
import type { GrantWriter } from '../grants/grant-writer.js'
import type { SessionIndex } from '../grants/session-index.js'
import type { SessionLifetime } from '../grants/session-lifetime.js'
import type { StoreKeys } from '../grants/store-keys.js'
import type { FinishLoginResult, LoginFlow, StartLoginOptions, StartLoginResult } from '../login/login-flow.js'
import type { LogoutTokenVerifier } from '../login/logout-token.js'
import type { ResourceClientEventName, ResourceClientEvents, TypedEmitter } from '../observability/events.js'
import type { ProviderClient } from '../protocol/provider-client.js'
import { verifyImportedIdToken } from '../login/import-grant.js'
import type { ResourceRegistration, ResourceRegistry } from '../resources/resource-registry.js'
import type { RegisteredResource, ResourceDefinition } from '../resources/resource.js'
import type { TokenStore } from '../stores/token-store.js'
import type { ServiceTokens } from '../tokens/service-tokens.js'
import type { TokenManager } from '../tokens/token-manager.js'
import { info, type RuntimeResourceInfo, type RuntimeResources } from './runtime-resources.js'

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
    /**
     * `revoked` only when the provider answered as RFC 7009 says (200 with an empty or JSON body): a 200 with an
     * HTML page is `failed`. `unsupported`: no revocation endpoint, or `unsupported_token_type`. `none`: no grant.
     */
    refreshToken: 'revoked' | 'failed' | 'unsupported' | 'none'
    /** Access tokens the provider revoked, and those it would not (`unsupported_token_type` for JWT access tokens, or errors). */
    accessTokens: { revoked: number; notRevoked: number }
  }
}

/** What {@link ResourceClient.handleBackchannelLogout} and {@link ResourceClient.logoutAll} did. */
export interface SessionsEndedResult {
  /** How many grants were removed (on every instance sharing the store); their refresh tokens were revoked. */
  removed: number
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
  readonly #registry: ResourceRegistry
  readonly #runtime: RuntimeResources
  readonly #events: TypedEmitter
  readonly #ownedStore: TokenStore | undefined
  readonly #metadata: ResourceMetadataCheck
  /** What `fetch` and `request` share, built once (nothing is allocated for it per call). */
  readonly #fetchContext: ResourceFetchContext
  readonly #keys: StoreKeys
  readonly #writer: GrantWriter
  readonly #index: SessionIndex
  readonly #termination: GrantTermination
  readonly #sessions: SessionLifetime
  readonly #logoutTokens: LogoutTokenVerifier
  readonly #options: ClientFacingOptions
  #closed = false

  /** @internal use {@link createResourceClient} */
  constructor(parts: {
    provider: ProviderClient
    grants: GrantRepository
    keys: StoreKeys
    writer: GrantWriter
    index: SessionIndex
    termination: GrantTermination
    sessions: SessionLifetime
    logoutTokens: LogoutTokenVerifier
    tokens: TokenManager
    service: ServiceTokens
    login: LoginFlow
    registry: ResourceRegistry
    runtime: RuntimeResources
    events: TypedEmitter
    ownedStore: TokenStore | undefined
    options: ClientFacingOptions
  }) {
    this.#provider = parts.provider
    this.#grants = parts.grants
    this.#keys = parts.keys
    this.#writer = parts.writer
    this.#index = parts.index
    this.#termination = parts.termination
    this.#sessions = parts.sessions
    this.#logoutTokens = parts.logoutTokens
    this.#options = parts.options
    this.#tokens = parts.tokens
    this.#service = parts.service
    this.#login = parts.login
    this.#registry = parts.registry
    this.#runtime = parts.runtime
    this.#events = parts.events
    this.#ownedStore = parts.ownedStore
    this.#metadata = new ResourceMetadataCheck({ issuer: parts.provider.metadata.issuer, fetch: parts.options.fetch, now: parts.options.now })
    this.#fetchContext = this.#newFetchContext()
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

  /**
   * The registered resources (no secrets): configured ones in configuration order, then those registered at
   * run time. `registration` says which: `configured`, `added` ({@link addResource}) or `discovered`.
   */
  get resources(): ReadonlyArray<{ name: string; url: string; scope: string; indicator: string | undefined; dpop: boolean; registration: ResourceRegistration }> {
    return this.#registry.all.map((r) => ({ name: r.name, url: r.id, scope: r.scope, indicator: r.indicator, dpop: r.dpop, registration: this.#registry.registrationOf(r) }))
  }

  /**
   * Registers the resource `url` belongs to from its RFC 9728 protected-resource metadata, read from its own
   * origin: the metadata's `resource` must be `url` or a path-boundary prefix of it, and its
   * `authorization_servers` must name this client's issuer. From then on `fetch` attaches that resource's
   * own token (audience-restricted by its `resource` indicator) to its URLs. Only for origins listed in the
   * `discovery.origins` option. Per client (every user), bounded by `maxRuntimeResources`, removable.
   *
   * @throws `resource_not_allowed` (discovery off, or an origin not allowed), `resource_metadata_mismatch`
   * (metadata missing, unreadable, too large, redirected, or naming another resource or issuer),
   * `too_many_resources`, `invalid_argument`. Nothing is registered when it throws.
   * @example
   * ```ts
   * const tools = await client.discoverResource('https://tools.example.com/mcp')
   * // { url: 'https://tools.example.com/mcp', indicator: 'https://tools.example.com/mcp', scope: 'tools:call', name: 'Tools' }
   * ```
   */
  async discoverResource(url: string | URL): Promise<RuntimeResourceInfo> {
    this.#check('discovery')
    return info(await this.#runtime.discover(url))
  }

  /**
   * Registers a resource at run time, without discovery: the app vouches for it. Validated as the `resources`
   * option is; the same matching, redirect, single-flight and DPoP rules apply. Registering the same base
   * URL again replaces the earlier run-time registration; a configured resource cannot be replaced.
   *
   * @throws `invalid_argument` for a bad definition or a configured base URL, `too_many_resources`.
   */
  addResource(definition: ResourceDefinition): RuntimeResourceInfo {
    this.#check('runtime')
    return this.#runtime.add(definition)
  }

  /**
   * Forgets a resource registered at run time (by its base URL): no token is attached to its URLs any more.
   *
   * @returns `false` when no run-time resource has that base URL.
   * @throws `invalid_argument` for a configured resource or a bad URL.
   */
  removeResource(url: string | URL): boolean {
    this.#check('runtime')
    return this.#runtime.remove(url)
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
  fetch(key: string, input: string | URL | Request, init?: RequestInit): Promise<Response> {
    if (init === undefined && typeof input === 'string' && !this.#closed) {
      // The same URL again for the same grant, its token still fresh: straight out (see ready-tokens.ts, lanes).
      const lane = this.#tokens.lane(key, input)
      if (lane !== undefined) return fetchOnLane(this.#fetchContext, this.#tokens.source(key), lane)
    }
    const refused = this.#refused(key)
    return refused ?? resourceFetch(this.#fetchContext, this.#tokens.source(key), input, init)
  }

  /**
   * The fast path for server-to-server calls: `undici.request` on behalf of the user, with the token rules of
   * {@link ResourceClient.fetch} (the resource is picked by URL; redirects are followed here, a hop that leaves the
   * resource carries no token; one retry on 401 `invalid_token` when the body can be sent again; DPoP). Sent on the
   * `dispatcher` option, or undici's global dispatcher. Resolves undici's `ResponseData`: read or dump its `body`.
   * URLs of no registered resource are sent without a token (no automatic discovery here: see `fetch`).
   *
   * @throws as {@link ResourceClient.fetch}, and whatever `undici.request` throws.
   * @example
   * ```ts
   * const { statusCode, body } = await client.request(sessionId, 'https://contacts.example.com/api/people')
   * const people = await body.json()
   * ```
   */
  request(key: string, url: string | URL, options?: ResourceRequestOptions): Promise<Dispatcher.ResponseData> {
    const refused = this.#refused(key)
    return refused ?? resourceRequest(this.#fetchContext, this.#tokens.source(key), url, options)
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
  serviceFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const refused = this.#refused('service')
    return refused ?? resourceFetch(this.#fetchContext, this.#service, input, init)
  }

  /**
   * {@link ResourceClient.request} for the app itself, with no user: the tokens of {@link ResourceClient.serviceFetch}.
   *
   * @throws as {@link ResourceClient.serviceFetch}, and whatever `undici.request` throws.
   */
  serviceRequest(url: string | URL, options?: ResourceRequestOptions): Promise<Dispatcher.ResponseData> {
    const refused = this.#refused('service')
    return refused ?? resourceRequest(this.#fetchContext, this.#service, url, options)
  }

  /**
   * The app's own access token for `url` (client_credentials), as {@link serviceFetch} would send it.
   *
   * @throws `unknown_resource` when `url` belongs to no registered resource; otherwise as {@link serviceFetch}.
   */
  async serviceAccessToken(url: string | URL): Promise<AccessTokenInfo> {
    this.#check('service')
    const resource = this.#resourceFor(url)
    return toInfo(await this.#service.token(resource), resource)
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

  /** The ID token claims of the user's grant, or `undefined` when there is no grant (or its session lifetime is over). */
  async claims(key: string): Promise<Readonly<Record<string, unknown>> | undefined> {
    this.#check(key)
    return (await this.#liveGrant(key))?.claims
  }

  /** True when a grant is stored for `key` and its session lifetime is not over. */
  async hasGrant(key: string): Promise<boolean> {
    this.#check(key)
    return (await this.#liveGrant(key)) !== undefined
  }

  /**
   * OpenID Connect Back-Channel Logout 1.0: validates a logout token the provider sent (section 2.6: signature,
   * `iss`, `aud`, `iat`, `exp`, `typ`, `events`, `sid`/`sub`, no `nonce`, `jti` used once across every instance)
   * and removes every grant it names: those of its session (`sid`), or every grant of its subject when it has no
   * `sid`. Their refresh tokens are revoked; every instance sharing the store drops them. Adapters mount it at
   * `POST <mountPath>/backchannel-logout`; see `backchannelLogoutResponse` to mount it elsewhere.
   *
   * @throws `invalid_logout_token` (nothing is removed); `store_unavailable` (the provider may send it again).
   * @example
   * ```ts
   * const { removed } = await client.handleBackchannelLogout(body.logout_token)
   * ```
   */
  async handleBackchannelLogout(logoutToken: string): Promise<SessionsEndedResult> {
    if (this.#closed) throw new ResourceTokensError('invalid_argument', 'the client is closed')
    const claims = await this.#logoutTokens.verify(logoutToken)
    try {
      const removed = claims.sid !== undefined
        ? await this.#endSession('sid', claims.sid, claims.sub)
        : await this.#termination.endAll('sub', claims.sub as string, 'backchannel_logout')
      this.#options.logger.info?.('back-channel logout', { removed, by: claims.sid === undefined ? 'sub' : 'sid' })
      return { removed }
    } catch (err) {
      // Not acted on: the provider may retry with the same token.
      await claims.release()
      throw err
    }
  }

  /**
   * Signs a user out everywhere: removes every grant whose ID token names `sub`, on every instance that shares the
   * store, revoking their refresh tokens. For an administrator's "sign out everywhere" or a disabled account.
   *
   * @throws `invalid_argument` for an empty `sub`; `store_unavailable`.
   * @example
   * ```ts
   * const { removed } = await client.logoutAll({ sub: user.oidcSubject })
   * ```
   */
  async logoutAll(subject: { sub: string }): Promise<SessionsEndedResult> {
    if (this.#closed) throw new ResourceTokensError('invalid_argument', 'the client is closed')
    const sub = subject?.sub
    if (typeof sub !== 'string' || sub === '') throw new ResourceTokensError('invalid_argument', '"sub" must be a non-empty string')
    const removed = await this.#termination.endAll('sub', sub, 'logout_all')
    this.#options.logger.info?.('logged out everywhere', { removed })
    return { removed }
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
      this.#index.removeGrant(keys.digest, record).catch(() => undefined)
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

  /** Waits for token renewals in flight (background ones included), then stops listening to the store and closes it when the client created it. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    // A renewal in flight (one ahead of need, say) finishes writing before the store goes away.
    await Promise.all([this.#tokens.settled(), this.#service.settled()])
    this.#grants.close()
    await this.#ownedStore?.close?.()
  }

  /** Never print internals: `util.inspect(client)` shows the configuration's public parts only. */
  [inspect.custom](): string {
    return `ResourceClient { issuer: '${this.#options.issuer.href}', clientId: '${this.#options.clientId}', resources: [${this.#registry.all.map((r) => `'${r.name}'`).join(', ')}] }`
  }

  toJSON(): Record<string, unknown> {
    return { issuer: this.#options.issuer.href, clientId: this.#options.clientId, resources: this.#registry.all.map((r) => r.name) }
  }

  /** One revocation, reported as the provider's answer says (never thrown: logout goes on). */
  async #revoke(token: string, hint: 'refresh_token' | 'access_token'): Promise<'revoked' | 'failed' | 'unsupported'> {
    const { outcome, reason } = await this.#provider.revoke(token, hint)
    if (outcome !== 'revoked') this.#options.logger.debug?.('revocation not done', { hint, outcome, reason })
    return outcome
  }

  /** The grants of provider session `sid`; with `sub` too, only those of that subject (section 2.7: sid is per issuer, not global). */
  async #endSession(kind: 'sid', sid: string, sub: string | undefined): Promise<number> {
    if (sub === undefined) return this.#termination.endAll(kind, sid, 'backchannel_logout')
    return this.#termination.endAll(kind, sid, 'backchannel_logout', (record) => record.claims['sub'] === sub)
  }

  /** The stored grant for `key`, ended first when its session lifetime is over. */
  async #liveGrant(key: string): Promise<GrantRecord | undefined> {
    const keys = this.#keys.of(key)
    const snapshot = await this.#grants.read(keys.grant)
    if (snapshot === undefined || (await this.#sessions.endIfOver(keys, snapshot.record))) return undefined
    return snapshot.record
  }

  #newFetchContext(): ResourceFetchContext {
    const discovery = this.#runtime.discovery
    return {
      matcher: this.#registry,
      transport: new FetchTransport(this.#options.fetch, this.#options.dispatcher),
      undici: new UndiciTransport(this.#options.dispatcher),
      metadata: this.#metadata,
      discovery: discovery === undefined || !this.#options.automaticDiscovery ? undefined : { allows: (url) => discovery.allows(url), discover: (url, hints, signal) => this.#runtime.discover(url, hints, signal) },
    }
  }

  #resourceFor(url: string | URL): RegisteredResource {
    const resource = this.#registry.resolve(url)
    if (resource === undefined) throw new ResourceTokensError('unknown_resource', 'the URL belongs to no registered resource')
    return resource
  }

  /**
   * {@link #check} as a rejected promise, or `undefined` when the call may go ahead. The request methods are not
   * `async`: the caller awaits the promise of the request itself, without the extra hops of an async wrapper,
   * and a refused call still rejects rather than throws.
   */
  #refused(key: unknown): Promise<never> | undefined {
    try {
      this.#check(key)
      return undefined
    } catch (err) {
      return Promise.reject(err)
    }
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
export type ClientFacingOptions = Pick<ResolvedOptions, 'issuer' | 'clientId' | 'redirectUri' | 'postLogoutRedirectUri' | 'fetch' | 'dispatcher' | 'now' | 'logger' | 'timeoutSeconds'> & {
  /** Discover resources from `fetch` (`discovery.automatic`). */
  readonly automaticDiscovery: boolean
}
