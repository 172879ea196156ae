// @ts-nocheck
import * as client from 'openid-client'
import type { ResolvedOptions } from '../config/options.js'
import { ResourceTokensConfigError, ResourceTokensError } from '../errors/resource-tokens-error.js'
import { isLoopbackHost } from '../resources/loopback.js'
import { ATTR, SPAN } from '../telemetry/names.js'
import { NOOP_TELEMETRY, type OperationScope, type Telemetry } from '../telemetry/telemetry.js'
import { classifyProviderError, safeCause, tokenEndpointError } from './classify-error.js'
import { RevocationCapture } from './revocation-capture.js'
import type { RevocationVerdict } from './revocation-outcome.js'

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
  readonly #revocations: RevocationCapture
  readonly #telemetry: Telemetry
  /** `server.address` and `server.port` of the token endpoint, for token request spans. */
  readonly #tokenEndpoint: Readonly<Record<string, string | number | undefined>>
  /** openid-client copies its metadata on every `serverMetadata()` call; it never changes after discovery. */
  readonly #metadata: Readonly<client.ServerMetadata>

  private constructor(
    config: client.Configuration,
    pushedAuthorizationRequests: ResolvedOptions['pushedAuthorizationRequests'],
    revocations: RevocationCapture,
    telemetry: Telemetry,
  ) {
    this.config = config
    this.#pushedAuthorizationRequests = pushedAuthorizationRequests
    this.#revocations = revocations
    this.#telemetry = telemetry
    this.#tokenEndpoint = serverAttributes(config.serverMetadata().token_endpoint)
    this.#metadata = Object.freeze(config.serverMetadata())
  }

  /** Reads discovery and builds the client configuration. Rejects with `discovery_failed`. */
  static async discover(options: ProviderOptions, telemetry: Telemetry = NOOP_TELEMETRY): Promise<ProviderClient> {
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
    // Every request goes through the app's fetch; revocations also keep their answer (see RevocationCapture).
    const revocations = new RevocationCapture()
    const fetchImpl = revocations.wrap(options.fetch) as client.CustomFetch
    let config: client.Configuration
    try {
      config = await client.discovery(options.issuer, options.clientId, metadata, clientAuth(options), {
        execute,
        timeout: options.timeoutSeconds,
        [client.customFetch]: fetchImpl,
      })
    } catch (err) {
      throw new ResourceTokensError('discovery_failed', `discovery of ${options.issuer.href} failed: ${discoveryProblem(err)}`, { cause: safeCause(err) })
    }
    if (Object.keys(options.endpoints).length > 0) {
      // Endpoints missing from discovery: a new configuration over the merged metadata, set up the same way.
      config = new client.Configuration({ ...config.serverMetadata(), ...options.endpoints }, options.clientId, metadata, clientAuth(options))
      for (const apply of execute) apply(config)
      config.timeout = options.timeoutSeconds
      config[client.customFetch] = fetchImpl
    }
    return new ProviderClient(config, options.pushedAuthorizationRequests, revocations, telemetry)
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
  async exchange(subjectToken: string, parameters: URLSearchParams, dpop?: client.DPoPHandle, context: TokenRequestContext = {}): Promise<client.TokenEndpointResponse & client.TokenEndpointResponseHelpers> {
    const body = new URLSearchParams(parameters)
    body.set('subject_token', subjectToken)
    body.set('subject_token_type', 'urn:ietf:params:oauth:token-type:access_token')
    body.set('requested_token_type', 'urn:ietf:params:oauth:token-type:access_token')
    return this.#tokenRequest('token_exchange', context, () => client.genericGrantRequest(this.config, TOKEN_EXCHANGE, body, dpop === undefined ? undefined : { DPoP: dpop }))
  }

  async authorizationUrl(parameters: URLSearchParams): Promise<URL> {
    if (this.usesPar) return client.buildAuthorizationUrlWithPAR(this.config, parameters)
    return client.buildAuthorizationUrl(this.config, parameters)
  }

  async exchangeCode(
    callbackUrl: URL,
    checks: { codeVerifier: string; state: string; nonce: string; maxAge?: number | undefined },
    context: TokenRequestContext = {},
  ): Promise<client.TokenEndpointResponse & client.TokenEndpointResponseHelpers> {
    return this.#tokenRequest('authorization_code', context, () =>
      client.authorizationCodeGrant(this.config, callbackUrl, {
        pkceCodeVerifier: checks.codeVerifier,
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        idTokenExpected: true,
        // openid-client requires auth_time and checks it against max_age (OpenID Connect Core 3.1.2.1).
        ...(checks.maxAge === undefined ? {} : { maxAge: checks.maxAge }),
      }),
    )
  }

  async refresh(refreshToken: string, parameters: URLSearchParams, dpop?: client.DPoPHandle, context: TokenRequestContext = {}): Promise<client.TokenEndpointResponse & client.TokenEndpointResponseHelpers> {
    return this.#tokenRequest(
      'refresh',
      context,
      () => client.refreshTokenGrant(this.config, refreshToken, parameters, dpop === undefined ? undefined : { DPoP: dpop }),
      (response) => response.refresh_token !== undefined && response.refresh_token !== refreshToken,
    )
  }

  async clientCredentials(parameters: URLSearchParams, dpop?: client.DPoPHandle, context: TokenRequestContext = {}): Promise<client.TokenEndpointResponse> {
    return this.#tokenRequest('client_credentials', context, () => client.clientCredentialsGrant(this.config, parameters, dpop === undefined ? undefined : { DPoP: dpop }))
  }

  /**
   * One request to the token endpoint as a span with its count and duration. A failure is recorded with the
   * code it becomes for the caller (the raw error is rethrown: the caller's own classification needs it).
   */
  #tokenRequest<T extends client.TokenEndpointResponse>(kind: TokenRequestKind, context: TokenRequestContext, request: () => Promise<T>, rotated?: (response: T) => boolean): Promise<T> {
    return this.#telemetry.operation(
      {
        span: SPAN.tokenRequest,
        attributes: { [ATTR.grant]: context.grant, ...this.#tokenEndpoint },
        dimensions: { [ATTR.tokenRequestKind]: kind, [ATTR.resource]: context.resource },
        duration: 'tokenRequestDuration',
        count: 'tokenRequests',
      },
      async (scope) => {
        let response: T
        try {
          response = await request()
        } catch (err) {
          recordFailure(scope, err)
          throw err
        }
        scope.set({ [ATTR.tokenType]: response.token_type?.toLowerCase(), [ATTR.rotated]: rotated?.(response) })
        return response
      },
    )
  }

  /**
   * Revokes a token (RFC 7009) and says what the provider's answer means: `revoked` only for a 200 with an empty
   * or JSON body, `unsupported` for `unsupported_token_type`, `failed` otherwise (an HTML page with 200 included).
   * Never throws.
   */
  async revoke(token: string, hint: 'refresh_token' | 'access_token'): Promise<RevocationVerdict> {
    const { outcome, reason } = await this.#revocations.judge(() => client.tokenRevocation(this.config, token, { token_type_hint: hint }))
    return reason === undefined ? { outcome } : { outcome, reason }
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

/** Which grant a token request uses (the `resource_tokens.token_request.kind` attribute). */
export type TokenRequestKind = 'refresh' | 'token_exchange' | 'client_credentials' | 'authorization_code'

/** Non-secret facts a caller adds to a token request's span: the resource's name and the grant reference. */
export interface TokenRequestContext {
  resource?: string
  grant?: string
}

/** The code a failed token request becomes for the caller, with the provider's `error` and the HTTP status. */
function recordFailure(scope: OperationScope, err: unknown): void {
  const failure = classifyProviderError(err)
  scope.fail(tokenEndpointError(failure, err, 'token request').code)
  scope.set({
    [ATTR.oauthError]: 'error' in failure ? failure.error : undefined,
    [ATTR.httpStatus]: 'status' in failure ? failure.status : undefined,
  })
}

/** `server.address` and `server.port` of an endpoint URL (OpenTelemetry conventions), when it parses. */
function serverAttributes(endpoint: string | undefined): Record<string, string | number | undefined> {
  let url: URL
  try {
    url = new URL(endpoint ?? '')
  } catch {
    return {}
  }
  return { [ATTR.serverAddress]: url.hostname, [ATTR.serverPort]: url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port) }
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
