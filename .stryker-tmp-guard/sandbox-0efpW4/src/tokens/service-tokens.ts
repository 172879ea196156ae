// @ts-nocheck
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
import { NOOP_TELEMETRY, type Telemetry } from '../telemetry/telemetry.js'

/**
 * The app's own tokens, with no user: one per resource from the client_credentials grant (RFC 6749
 * section 4.4), with `scope` and `resource` as for users. Cached in this process, renewed before expiry,
 * single-flight per resource. There is no refresh token to protect, so no lock and no store: each process
 * holds its own service tokens. The DPoP key (for `dpop` resources) belongs to this client instance.
 */
export class ServiceTokens {
  readonly #cache = new Map<string, CachedToken>()
  readonly #pending = new Map<string, Promise<CachedToken>>()
  #dpopKey: Promise<StoredDPoPKey> | undefined

  constructor(
    private readonly provider: ProviderClient,
    private readonly dpopKeys: DPoPKeys,
    private readonly events: TypedEmitter,
    private readonly options: Pick<ResolvedOptions, 'now' | 'skewMs' | 'defaultTokenLifetimeMs'>,
    private readonly telemetry: Telemetry = NOOP_TELEMETRY,
  ) {}

  /** The token source `serviceFetch` uses for `resource`. */
  source(resource: RegisteredResource): TokenSource {
    return {
      token: (rejected) => this.accessToken(resource, rejected),
      dpopHandle: () => this.dpopHandle(),
    }
  }

  async accessToken(resource: RegisteredResource, rejected?: string): Promise<CachedToken> {
    const cached = this.#cache.get(resource.id)
    const hit = cached !== undefined && cached.value !== rejected && this.options.now() < cached.refreshAt
    this.telemetry.cacheLookup(resource.name, hit)
    if (hit) return cached
    let flight = this.#pending.get(resource.id)
    if (flight === undefined) {
      flight = this.#obtain(resource).finally(() => this.#pending.delete(resource.id))
      this.#pending.set(resource.id, flight)
    }
    return flight
  }

  async dpopHandle(): Promise<client.DPoPHandle | undefined> {
    return this.#dpopKey === undefined ? undefined : this.dpopKeys.handle(await this.#dpopKey)
  }

  async #obtain(resource: RegisteredResource): Promise<CachedToken> {
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
