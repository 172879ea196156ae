import type * as client from 'openid-client'
import type { ResolvedOptions } from '../config/options.js'
import type { DPoPKeys, StoredDPoPKey } from '../dpop/dpop-keys.js'
import type { CachedToken } from '../grants/grant-record.js'
import type { TypedEmitter } from '../observability/events.js'
import { classifyProviderError, tokenEndpointError } from '../protocol/classify-error.js'
import type { ProviderClient } from '../protocol/provider-client.js'
import type { RegisteredResource } from '../resources/resource.js'
import { toCachedToken } from './cached-token.js'
import { restrictionTo } from './downscoping/downscoping.js'
import { tokenRefusal } from './token-check.js'
import type { TokenSource } from './token-source.js'
import { Renewals, tokenState } from './renewal.js'
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import type { Logger } from '../observability/logger.js'
import { NOOP_TELEMETRY, type Telemetry } from '../telemetry/telemetry.js'

/**
 * The app's own tokens, with no user: one per resource from the client_credentials grant (RFC 6749
 * section 4.4), with `scope` and `resource` as for users. Cached in this process, renewed before expiry,
 * single-flight per resource. There is no refresh token to protect, so no lock and no store: each process
 * holds its own service tokens. The DPoP key (for `dpop` resources) belongs to this client instance.
 */
export class ServiceTokens implements TokenSource {
  readonly #cache = new Map<string, CachedToken>()
  readonly #renewals: Renewals<CachedToken>
  #dpopKey: Promise<StoredDPoPKey> | undefined

  constructor(
    private readonly provider: ProviderClient,
    private readonly dpopKeys: DPoPKeys,
    private readonly events: TypedEmitter,
    private readonly logger: Logger,
    private readonly options: Pick<ResolvedOptions, 'now' | 'skewMs' | 'defaultTokenLifetimeMs'>,
    private readonly telemetry: Telemetry = NOOP_TELEMETRY,
  ) {
    // One key per resource: bounded by the registered resources.
    this.#renewals = new Renewals({ maxKeys: 10_000, now: options.now })
  }

  /** The cached token for `resource` if it can be used now (renewed in the background when due). */
  ready(resource: RegisteredResource): CachedToken | undefined {
    const token = this.#usable(resource, undefined)
    if (token !== undefined) this.telemetry.cacheLookup(resource.name, true)
    return token
  }

  async token(resource: RegisteredResource, rejected?: string): Promise<CachedToken> {
    const cached = this.#usable(resource, rejected)
    this.telemetry.cacheLookup(resource.name, cached !== undefined)
    if (cached !== undefined) return cached
    return this.#renewals.join(rejected === undefined ? resource.id : `${resource.id}\nretry`, () => this.#obtain(resource, rejected, false))
  }

  /** Resolves once the renewals in flight have finished (for `close`). */
  settled(): Promise<void> {
    return this.#renewals.settled()
  }

  #usable(resource: RegisteredResource, rejected: string | undefined): CachedToken | undefined {
    const token = this.#cache.get(resource.id)
    if (token === undefined || token.value === rejected) return undefined
    const state = tokenState(token, this.options.now())
    if (state === 'expired') return undefined
    if (state === 'renew') this.#renewals.ahead(resource.id, () => this.#obtain(resource, undefined, true), () => undefined)
    return token
  }

  async dpopHandle(): Promise<client.DPoPHandle | undefined> {
    return this.#dpopKey === undefined ? undefined : this.dpopKeys.handle(await this.#dpopKey)
  }

  async #obtain(resource: RegisteredResource, rejected: string | undefined, background: boolean): Promise<CachedToken> {
    // Renewed by another caller meanwhile (a retry after invalid_token waits for a pending renewal first).
    const current = this.#cache.get(resource.id)
    if (current !== undefined && current.value !== rejected && tokenState(current, this.options.now()) === 'fresh') return current
    try {
      return await this.#request(resource)
    } catch (err) {
      const code = err instanceof ResourceTokensError ? err.code : 'token_endpoint_unavailable'
      this.events.emit('refresh_failed', { grant: 'service', resource: resource.name, code, background })
      this.logger.warn?.(background ? 'service token renewal ahead of expiry failed; the current token is used until it expires' : 'service token request failed', { grant: 'service', resource: resource.name, code })
      throw err
    }
  }

  async #request(resource: RegisteredResource): Promise<CachedToken> {
    const parameters = restrictionTo(resource)
    let dpop: client.DPoPHandle | undefined
    if (resource.dpop) {
      this.#dpopKey ??= this.dpopKeys.generate()
      dpop = await this.dpopKeys.handle(await this.#dpopKey)
    }
    const startedAt = this.options.now()
    let response: client.TokenEndpointResponse
    try {
      response = await this.provider.clientCredentials(parameters, dpop, { resource: resource.name })
    } catch (err) {
      throw tokenEndpointError(classifyProviderError(err), err, `client_credentials for ${resource.name}`)
    }
    const { token } = toCachedToken(response, resource, startedAt, this.options)
    const refusal = tokenRefusal(token, resource)
    if (refusal !== undefined) throw refusal
    this.#cache.set(resource.id, token)
    this.events.emit('token', { grant: 'service', resource: resource.name, scope: token.scope, tokenType: token.type, expiresIn: response.expires_in, rotated: false })
    return token
  }
}
