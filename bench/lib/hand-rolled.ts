// What people hand-roll instead of the library: openid-client v6's refreshTokenGrant with `scope` and
// `resource` per resource, a Map of access tokens keyed by resource, and the global fetch with the header.
// It renews by the library's rule (renewal-rule.ts), so the comparison is about what it lacks: no
// single-flight (every request that finds no fresh token refreshes), no care for a rotating refresh token.
import * as oidc from 'openid-client'
import type { ResourceDefinition } from 'resource-tokens'
import { renewalSchedule } from './renewal-rule.js'
import { consume } from './requests.js'
import type { ResourceGroup, World } from './world.js'

interface CachedToken {
  value: string
  renewAt: number
}

export class HandRolledClient {
  readonly #config: oidc.Configuration
  readonly #tokens = new Map<string, CachedToken>()
  #refreshToken: string

  private constructor(config: oidc.Configuration, refreshToken: string) {
    this.#config = config
    this.#refreshToken = refreshToken
  }

  /** Discovery, then a login (code + PKCE, `offline_access`, both resources) at the test provider. */
  static async login(world: World, group: ResourceGroup): Promise<HandRolledClient> {
    const { op } = world
    // http on 127.0.0.1 only: the test provider's issuer.
    const config = await oidc.discovery(new URL(op.issuer), op.clientId, undefined, oidc.ClientSecretBasic(op.clientSecret), { execute: [oidc.allowInsecureRequests] })
    const verifier = oidc.randomPKCECodeVerifier()
    const state = oidc.randomState()
    const scope = ['openid', 'offline_access', ...group.definitions.map((d) => d.scope)].join(' ')
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: op.redirectUri,
      scope,
      prompt: 'consent',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    })
    for (const definition of group.definitions) url.searchParams.append('resource', definition.indicator!)
    const callback = new URL(await op.login(url))
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state })
    if (tokens.refresh_token === undefined) throw new Error('hand-rolled login: no refresh token')
    return new HandRolledClient(config, tokens.refresh_token)
  }

  /** The cached access token for `resource`, or a new one from the refresh-token grant. */
  async accessToken(resource: ResourceDefinition): Promise<string> {
    const cached = this.#tokens.get(resource.indicator!)
    if (cached !== undefined && Date.now() < cached.renewAt) return cached.value
    const startedAt = Date.now()
    const response = await oidc.refreshTokenGrant(this.#config, this.#refreshToken, { scope: resource.scope, resource: resource.indicator! })
    if (response.refresh_token !== undefined) this.#refreshToken = response.refresh_token
    const lifetimeS = response.expires_in ?? 300
    const token = { value: response.access_token, renewAt: startedAt + renewalSchedule(lifetimeS).renewAfterS * 1000 }
    this.#tokens.set(resource.indicator!, token)
    return token.value
  }

  /** GET `url` of `resource` with its token, read to the end; rejects unless the answer is 200. */
  async fetch(resource: ResourceDefinition, url: string): Promise<void> {
    const token = await this.accessToken(resource)
    await consume(await fetch(url, { headers: { authorization: `Bearer ${token}` } }), url)
  }

  /**
   * Whether the provider still honours this client's grant: one more refresh with the newest refresh token
   * it holds. `false` when the provider answers `invalid_grant` (it revokes the whole grant when a rotated
   * refresh token comes back).
   */
  async grantAlive(resource: ResourceDefinition): Promise<boolean> {
    try {
      const response = await oidc.refreshTokenGrant(this.#config, this.#refreshToken, { scope: resource.scope, resource: resource.indicator! })
      if (response.refresh_token !== undefined) this.#refreshToken = response.refresh_token
      return true
    } catch (err) {
      if ((err as { error?: unknown }).error === 'invalid_grant') return false
      throw err
    }
  }
}
