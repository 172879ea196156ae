// @ts-nocheck
// The options a test gives, and the oidc-provider configuration they become.
import { TEST_SIGNING_KEYS } from '../keys.js'
import { sha256 } from './instrumentation.js'
import type { OidcErrors } from './oidc-provider-module.js'
import type { ProviderQuirks } from './quirks.js'
import { ROUTES } from './routes.js'
import { resourceServerInfo, type TestResource } from './resources.js'
import type { Storage } from './storage.js'
import { TOKEN_EXCHANGE_GRANT } from './token-exchange.js'

/** Options of {@link startTestProvider}; every one has a default that suits most tests. */
export interface TestProviderOptions {
  /** default true (features.resourceIndicators) */
  resourceIndicators?: boolean
  /** default true: rotate on EVERY use */
  rotateRefreshToken?: boolean
  /** default 'jwt' (for resource-indicator tokens) */
  accessTokenFormat?: 'jwt' | 'opaque'
  /** seconds, default 300 */
  accessTokenTTL?: number
  idTokenTTL?: number
  resources?: TestResource[]
  /** scopes to list in `scopes` (needed when resourceIndicators is false, e.g. contacts:read) */
  extraScopes?: string[]
  /** extra oidc-provider client metadata; a default confidential client is always registered */
  clients?: object[]
  /** default true */
  pkceRequired?: boolean
  /** demand DPoP nonces at the token endpoint (features.dPoP.requireNonce) */
  dpopNonce?: boolean
  /** Behaviours of real providers, off by default; see ProviderQuirks. */
  quirks?: ProviderQuirks
  /**
   * features.backchannelLogout: the app client gets this `backchannel_logout_uri` (with
   * `backchannel_logout_session_required`, so logout tokens carry `sid`), and signing out at the provider
   * POSTs a logout token there. A function is asked when the provider is built (the issuer is known then).
   */
  backchannelLogoutUri?: string | ((issuer: string) => string)
  /** Offer RFC 8693 token exchange of an access token for a resource-restricted one (advertised in discovery). */
  tokenExchange?: boolean
}

/** Credentials of the resource-server client allowed to introspect every client's tokens. */
export const RS_CLIENT = { clientId: 'rs', clientSecret: 'rs-secret-for-tests-only-0123456789' } as const

/** The confidential client every test provider registers. */
export const APP_CLIENT = { clientId: 'app', clientSecret: 'app-secret-for-tests-only-0123456789' } as const

/** The options with their defaults applied, and what follows from the issuer; shared by the parts. */
export interface ProviderSettings {
  options: TestProviderOptions
  quirks: ProviderQuirks
  issuer: string
  /** Served by nothing on purpose: login() captures the callback instead of requesting it. */
  redirectUri: string
  postLogoutRedirectUri: string
  /** seconds */
  accessTokenTTL: number
  /** The resource indicators the provider knows; tests may add to it while it runs. */
  registry: Map<string, TestResource>
}

/** Applies the defaults to `options` for a provider at `issuer`. */
export function resolveSettings(options: TestProviderOptions, issuer: string): ProviderSettings {
  return {
    options,
    quirks: options.quirks ?? {},
    issuer,
    redirectUri: `${issuer}/cb-app`,
    postLogoutRedirectUri: `${issuer}/logged-out-app`,
    accessTokenTTL: options.accessTokenTTL ?? 300,
    registry: new Map((options.resources ?? []).map((r) => [r.indicator, r])),
  }
}

/** The complete oidc-provider configuration for `settings`, over `storage`. */
export function providerConfiguration(settings: ProviderSettings, storage: Storage, errors: OidcErrors): Record<string, unknown> {
  const { options, quirks } = settings
  return {
    jwks: { keys: TEST_SIGNING_KEYS.map((k) => ({ ...k })) },
    routes: ROUTES,
    adapter: storage.adapter,
    cookies: { keys: ['test-cookie-key-0123456789'] },
    clients: clientMetadata(settings),
    responseTypes: ['code'],
    scopes: ['openid', 'offline_access', 'email', 'profile', ...(options.extraScopes ?? [])],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    findAccount: async (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: async () => ({ sub, email: `${sub}@example.test`, email_verified: true, name: `Test ${sub}` }),
    }),
    pkce: { required: () => options.pkceRequired ?? true },
    rotateRefreshToken: options.rotateRefreshToken ?? quirks.narrowRefreshToken !== 'same',
    ...(quirks.opaqueSub === true ? pairwiseSubjects() : {}),
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(t: string): boolean }, code: { scopes: Set<string> }) =>
      client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    // Defaults print "you SHOULD change it" notices; this is the same policy, stated.
    clientBasedCORS: () => true,
    ttl: lifetimes(settings),
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    // Step-up (RFC 9470): the classes a login may report, and acr/auth_time in JWT access tokens (RFC 9470 section 5).
    acrValues: ACR_VALUES,
    extraTokenClaims: authenticationClaims,
    features: features(settings, errors),
    ...(options.backchannelLogoutUri === undefined ? {} : { fetch: loopbackFetch }),
  }
}

/**
 * oidc-provider's outgoing requests (back-channel logout tokens) with its SSRF guard lifted: it refuses special-use
 * addresses, and the test app listens on 127.0.0.1. Only loopback URLs get through; nothing else is allowed out.
 */
async function loopbackFetch(url: string | URL, options: RequestInit & { dispatcher?: unknown }): Promise<Response> {
  if (new URL(url).hostname !== '127.0.0.1') throw new Error('the test provider only calls loopback URLs')
  const { dispatcher: _guard, ...rest } = options
  return fetch(url, rest)
}

/** The app client (with the quirks that are client metadata), the introspecting resource server, and the test's own. */
function clientMetadata({ options, quirks, redirectUri, postLogoutRedirectUri }: ProviderSettings): object[] {
  const app = {
    client_id: APP_CLIENT.clientId,
    client_secret: APP_CLIENT.clientSecret,
    redirect_uris: [redirectUri],
    post_logout_redirect_uris: [postLogoutRedirectUri],
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials', ...(options.tokenExchange === true ? [TOKEN_EXCHANGE_GRANT] : [])],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    ...(quirks.opaqueSub === true ? { subject_type: 'pairwise' } : {}),
    ...(quirks.authTimeZero === true ? { require_auth_time: true } : {}),
    ...backchannelMetadata(options, redirectUri),
  }
  // Plays the resource servers' part at the introspection endpoint; cannot obtain tokens.
  const rs = { client_id: RS_CLIENT.clientId, client_secret: RS_CLIENT.clientSecret, redirect_uris: [], response_types: [], grant_types: [] }
  return [app, rs, ...(options.clients ?? [])]
}

/** The app client's back-channel logout metadata, when the test asks for it. */
function backchannelMetadata(options: TestProviderOptions, redirectUri: string): Record<string, unknown> {
  const uri = options.backchannelLogoutUri
  if (uri === undefined) return {}
  const issuer = new URL(redirectUri).origin
  return { backchannel_logout_uri: typeof uri === 'string' ? uri : uri(issuer), backchannel_logout_session_required: true }
}

/** Quirk opaqueSub: pairwise subject identifiers, stable per sector and account. */
function pairwiseSubjects(): Record<string, unknown> {
  return {
    subjectTypes: ['public', 'pairwise'],
    pairwiseIdentifier: async (_ctx: unknown, accountId: string, client: { sectorIdentifier: string }) =>
      sha256(`${client.sectorIdentifier}:${accountId}:pairwise-salt`).slice(0, 40),
  }
}

/** Token and session lifetimes in seconds. */
function lifetimes({ options, accessTokenTTL }: ProviderSettings): Record<string, unknown> {
  // A resource's own TTL (registerResource) wins; oidc-provider's default reads it only without a number here.
  const accessToken = (_ctx: unknown, token: { resourceServer?: { accessTokenTTL?: number } }) => token.resourceServer?.accessTokenTTL ?? accessTokenTTL
  const day = 24 * 60 * 60
  return {
    AccessToken: accessToken,
    ClientCredentials: accessToken,
    IdToken: options.idTokenTTL ?? 3600,
    RefreshToken: day,
    AuthorizationCode: 60,
    Interaction: 600,
    Session: day,
    Grant: day,
  }
}

/** oidc-provider's `features`: no dev interactions; revocation, introspection, logout, DPoP and resource indicators on. */
function features(settings: ProviderSettings, errors: OidcErrors): Record<string, unknown> {
  const { options, registry, accessTokenTTL } = settings
  return {
    devInteractions: { enabled: false },
    revocation: { enabled: true, allowedPolicy: revocationAllowed },
    introspection: { enabled: true, allowedPolicy: introspectionAllowed },
    rpInitiatedLogout: { enabled: true },
    backchannelLogout: { enabled: true },
    clientCredentials: { enabled: true },
    dPoP: {
      enabled: true,
      ...(options.dpopNonce === true ? { nonceSecret: Buffer.alloc(32, 7), requireNonce: () => true } : {}),
    },
    resourceIndicators: {
      enabled: options.resourceIndicators ?? true,
      // No resource parameter: no resource-server token (opaque, userinfo only).
      defaultResource: () => undefined,
      // Code exchange without `resource` must not silently pick a granted resource.
      useGrantedResource: () => false,
      getResourceServerInfo: (_ctx: unknown, indicator: string) => {
        const resource = registry.get(indicator)
        if (!resource) throw new errors.InvalidTarget(`unknown resource indicator: ${indicator}`)
        return resourceServerInfo(resource, options.accessTokenFormat ?? 'jwt', accessTokenTTL)
      },
    },
  }
}

// Allows the 'rs' client to introspect anyone's tokens; other clients only their own.
function introspectionAllowed(_ctx: unknown, client: { clientId: string }, token: { clientId?: string }): boolean {
  return client.clientId === RS_CLIENT.clientId || token.clientId === client.clientId
}

function revocationAllowed(_ctx: unknown, client: { clientId: string }, token: { clientId?: string }): boolean {
  return token.clientId === client.clientId
}

/** Authentication context classes of the test provider: a password, and a password with a second factor. */
export const ACR_VALUES = ['urn:test:loa:1', 'urn:test:loa:2'] as const

/** RFC 9470 section 5: the access token says how and when the user authenticated, as its grant does. */
function authenticationClaims(ctx: { oidc: { entities: Record<string, { acr?: string; authTime?: number } | undefined> } }): Record<string, unknown> | undefined {
  const source = ctx.oidc.entities['RefreshToken'] ?? ctx.oidc.entities['AuthorizationCode']
  if (source === undefined) return undefined
  const claims: Record<string, unknown> = {}
  if (source.acr !== undefined) claims['acr'] = source.acr
  if (source.authTime !== undefined) claims['auth_time'] = source.authTime
  return claims
}
