// @ts-nocheck
// Opaque access tokens, judged by RFC 7662 introspection: the answer must be active, current, from our
// issuer, for this audience and about an access token. Fail-closed: a missing `aud` is a refusal unless
// `introspection.requireAudience` is false.
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import type { AuthorizationServerEndpoints } from './authorization-server-metadata.js'
import type { GuardScheme, TokenRefusal } from './guard-error.js'
import { Introspector, type IntrospectionResponse } from './introspection.js'
import type { ResolvedIntrospection, ResolvedOptions } from './resolve-options.js'

const TOKEN_TYPES = new Set(['bearer', 'dpop', 'access_token'])

export class OpaqueAccessTokens {
  readonly #config: ResolvedOptions
  readonly #resolveEndpoints: () => Promise<AuthorizationServerEndpoints>
  readonly #refuse: TokenRefusal
  readonly #introspection: { config: ResolvedIntrospection; introspector: Introspector } | undefined

  constructor(config: ResolvedOptions, resolveEndpoints: () => Promise<AuthorizationServerEndpoints>, refuse: TokenRefusal) {
    this.#config = config
    this.#resolveEndpoints = resolveEndpoints
    this.#refuse = refuse
    const introspection = config.introspection
    this.#introspection = introspection === undefined
      ? undefined
      : { config: introspection, introspector: new Introspector(introspection, config.issuer, config.fetch) }
  }

  /** The introspection response for `token`. Throws a refusal, or `introspection_failed` / `discovery_failed`. */
  async verify(token: string, scheme: GuardScheme): Promise<Record<string, unknown>> {
    if (this.#introspection === undefined) throw this.#refuse('invalid_token', 'opaque access tokens are not accepted', scheme)
    const { config, introspector } = this.#introspection
    const endpoint = config.endpoint ?? (await this.#resolveEndpoints()).introspectionEndpoint
    if (endpoint === undefined) {
      throw new ResourceTokensError('discovery_failed', `the discovery document of ${this.#config.issuer} has no "introspection_endpoint"`)
    }
    const response = await introspector.introspect(token, endpoint, this.#config.now)
    const problem = this.#problem(response, config.requireAudience)
    if (problem !== undefined) throw this.#refuse('invalid_token', problem, scheme)
    return response
  }

  /** Why `response` does not describe a token for us, or `undefined` when it does. */
  #problem(response: IntrospectionResponse, requireAudience: boolean): string | undefined {
    const { issuer, audience, leewaySeconds } = this.#config
    const nowSeconds = this.#config.now() / 1000
    const { exp, nbf, iss, aud } = response
    const tokenType = response['token_type']
    if (!response.active) return 'access token is not active'
    if (exp !== undefined && (typeof exp !== 'number' || exp <= nowSeconds - leewaySeconds)) return 'access token expired'
    if (nbf !== undefined && (typeof nbf !== 'number' || nbf > nowSeconds + leewaySeconds)) return 'access token is not yet valid'
    if (iss !== undefined && iss !== issuer) return 'access token has an unexpected issuer'
    // Without `aud`, any active token of this authorization server would pass (refresh tokens and other
    // clients' tokens introspect so at some providers): refused unless `requireAudience: false`.
    if (aud === undefined && requireAudience) return 'introspected token names no audience'
    if (aud !== undefined && !(aud === audience || (Array.isArray(aud) && aud.includes(audience)))) {
      return 'access token is not intended for this resource'
    }
    if (tokenType !== undefined && (typeof tokenType !== 'string' || !TOKEN_TYPES.has(tokenType.toLowerCase()))) {
      return 'introspected token is not an access token'
    }
    return undefined
  }
}
