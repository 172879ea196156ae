import * as client from 'openid-client'
import type { ResolvedOptions } from '../config/options.js'
import { ResourceTokensConfigError, ResourceTokensError } from '../errors/resource-tokens-error.js'
import { isLoopbackHost } from '../resources/loopback.js'
import { safeCause } from './classify-error.js'

/** The options the provider client is built from: who we are at the provider, and how to reach it. */
export type ProviderOptions = Pick<
  ResolvedOptions,
  'issuer' | 'clientId' | 'clientSecret' | 'clientAuth' | 'clientPrivateKey' | 'redirectUri' | 'postLogoutRedirectUri' | 'endpoints' | 'pushedAuthorizationRequests' | 'timeoutSeconds' | 'fetch'
>

/**
 * The one place that talks OAuth 2.0 / OpenID Connect to the provider, through openid-client. Everything
 * above works with plain results and our typed errors; nothing above parses a protocol message.
 */
export class ProviderClient {
  readonly config: client.Configuration
  readonly #pushedAuthorizationRequests: ResolvedOptions['pushedAuthorizationRequests']
  /** openid-client copies its metadata on every `serverMetadata()` call; it never changes after discovery. */
  readonly #metadata: Readonly<client.ServerMetadata>

  private constructor(config: client.Configuration, pushedAuthorizationRequests: ResolvedOptions['pushedAuthorizationRequests']) {
    this.config = config
    this.#pushedAuthorizationRequests = pushedAuthorizationRequests
    this.#metadata = Object.freeze(config.serverMetadata())
  }

  /** Reads discovery and builds the client configuration. Rejects with `discovery_failed`. */
  static async discover(options: ProviderOptions): Promise<ProviderClient> {
    const metadata: Partial<client.ClientMetadata> = {
      client_id: options.clientId,
      redirect_uris: [options.redirectUri],
      response_types: ['code'],
    }
    if (options.clientSecret !== undefined) metadata.client_secret = options.clientSecret
    if (options.postLogoutRedirectUri !== undefined) metadata.post_logout_redirect_uris = [options.postLogoutRedirectUri]
    // openid-client trusts ID tokens from the token endpoint over TLS without checking their signature unless
    // asked; we ask, so that a forged, unsigned or wrongly keyed ID token is refused (RFC 8725 section 3.1).
    const execute: Array<(config: client.Configuration) => void> = [client.enableNonRepudiationChecks]
    if (options.issuer.protocol === 'http:' && isLoopbackHost(options.issuer.hostname)) execute.push(client.allowInsecureRequests)
    let config: client.Configuration
    try {
      config = await client.discovery(options.issuer, options.clientId, metadata, clientAuth(options), {
        execute,
        timeout: options.timeoutSeconds,
        [client.customFetch]: options.fetch as client.CustomFetch,
      })
    } catch (err) {
      throw new ResourceTokensError('discovery_failed', `discovery of ${options.issuer.href} failed: ${discoveryProblem(err)}`, { cause: safeCause(err) })
    }
    if (Object.keys(options.endpoints).length > 0) {
      // Endpoints missing from discovery: a new configuration over the merged metadata, set up the same way.
      config = new client.Configuration({ ...config.serverMetadata(), ...options.endpoints }, options.clientId, metadata, clientAuth(options))
      for (const apply of execute) apply(config)
      config.timeout = options.timeoutSeconds
      config[client.customFetch] = options.fetch as client.CustomFetch
    }
    return new ProviderClient(config, options.pushedAuthorizationRequests)
  }

  get metadata(): Readonly<client.ServerMetadata> {
    return this.#metadata
  }

  /** Scopes the provider advertises, or undefined when it does not say. */
  supportsScope(scope: string): boolean | undefined {
    const supported = this.metadata.scopes_supported
    return Array.isArray(supported) ? supported.includes(scope) : undefined
  }

  /** Whether to send the authorization request through PAR (RFC 9126): whenever the provider offers it. */
  get usesPar(): boolean {
    if (this.metadata.require_pushed_authorization_requests === true) return true
    return this.#pushedAuthorizationRequests === 'auto' && typeof this.metadata.pushed_authorization_request_endpoint === 'string'
  }

  /** Whether the provider advertises a grant type (undefined when it does not list any). */
  supportsGrant(grantType: string): boolean | undefined {
    const supported = this.metadata.grant_types_supported
    return Array.isArray(supported) ? supported.includes(grantType) : undefined
  }

  /** RFC 8693 token exchange of `subjectToken` (an access token) for a token for one resource. */
  async exchange(subjectToken: string, parameters: URLSearchParams, dpop?: client.DPoPHandle): Promise<client.TokenEndpointResponse & client.TokenEndpointResponseHelpers> {
    const body = new URLSearchParams(parameters)
    body.set('subject_token', subjectToken)
    body.set('subject_token_type', 'urn:ietf:params:oauth:token-type:access_token')
    body.set('requested_token_type', 'urn:ietf:params:oauth:token-type:access_token')
    return client.genericGrantRequest(this.config, TOKEN_EXCHANGE, body, dpop === undefined ? undefined : { DPoP: dpop })
  }

  async authorizationUrl(parameters: URLSearchParams): Promise<URL> {
    if (this.usesPar) return client.buildAuthorizationUrlWithPAR(this.config, parameters)
    return client.buildAuthorizationUrl(this.config, parameters)
  }

  async exchangeCode(callbackUrl: URL, checks: { codeVerifier: string; state: string; nonce: string }): Promise<client.TokenEndpointResponse & client.TokenEndpointResponseHelpers> {
    return client.authorizationCodeGrant(this.config, callbackUrl, {
      pkceCodeVerifier: checks.codeVerifier,
      expectedState: checks.state,
      expectedNonce: checks.nonce,
      idTokenExpected: true,
    })
  }

  async refresh(refreshToken: string, parameters: URLSearchParams, dpop?: client.DPoPHandle): Promise<client.TokenEndpointResponse & client.TokenEndpointResponseHelpers> {
    return client.refreshTokenGrant(this.config, refreshToken, parameters, dpop === undefined ? undefined : { DPoP: dpop })
  }

  async clientCredentials(parameters: URLSearchParams, dpop?: client.DPoPHandle): Promise<client.TokenEndpointResponse> {
    return client.clientCredentialsGrant(this.config, parameters, dpop === undefined ? undefined : { DPoP: dpop })
  }

  async revoke(token: string, hint: 'refresh_token' | 'access_token'): Promise<void> {
    await client.tokenRevocation(this.config, token, { token_type_hint: hint })
  }

  get canRevoke(): boolean {
    return typeof this.metadata.revocation_endpoint === 'string'
  }

  endSessionUrl(parameters: Record<string, string>): URL | undefined {
    if (typeof this.metadata.end_session_endpoint !== 'string') return undefined
    return client.buildEndSessionUrl(this.config, parameters)
  }
}

/** What went wrong at discovery, naming the URL tried and its HTTP status when there was a response. */
function discoveryProblem(err: unknown): string {
  for (let current: unknown = err, depth = 0; current instanceof Error && depth < 4; current = current.cause, depth++) {
    if (current.cause instanceof Response) {
      return `${current.cause.url} answered HTTP ${current.cause.status} (${current.message})`
    }
  }
  return err instanceof Error ? err.message : 'unknown error'
}

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'

function clientAuth(options: ProviderOptions): client.ClientAuth {
  switch (options.clientAuth) {
    case 'client_secret_post':
      return client.ClientSecretPost(options.clientSecret)
    case 'client_secret_jwt':
      return client.ClientSecretJwt(options.clientSecret)
    case 'private_key_jwt': {
      const key = options.clientPrivateKey
      if (key === undefined) throw new ResourceTokensConfigError('"clientPrivateKey" is required for private_key_jwt')
      return client.PrivateKeyJwt(key.kid === undefined ? key.key : { key: key.key, kid: key.kid })
    }
    case 'client_secret_basic':
      return client.ClientSecretBasic(options.clientSecret)
  }
}
