import type { CryptoKey } from 'openid-client'
import type { Dispatcher } from 'undici'
import type { Logger } from '../observability/logger.js'
import type { LoggerInput } from '../observability/logger-shapes.js'
import type { DiscoveryOptions } from './runtime-resources.js'
import type { ResourceDefinition } from '../resources/resource.js'
import type { TokenStore } from '../stores/token-store.js'
import type { ResolvedTelemetryOptions, TelemetryOptions } from '../telemetry/options.js'

/** How the client authenticates at the token, revocation and introspection endpoints. */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'client_secret_jwt' | 'private_key_jwt'

/**
 * How each resource's token is obtained from the user's grant.
 * - `scope` (default): refresh_token grant with the resource's `scope` (and `resource` when it has an indicator).
 * - `token-exchange`: one full-scope token from the refresh token, exchanged (RFC 8693) for a token per resource.
 *   For providers whose refresh tokens shrink to the scope asked for. The provider must offer token exchange.
 * - `none`: no down-scoping; one token for every resource. An explicit opt-in that defeats audience restriction,
 *   logged as a warning at start-up. For providers that cannot down-scope at all.
 */
export type DownscopingStrategy = 'scope' | 'token-exchange' | 'none'

/** Endpoints to use where discovery omits them (or to override what it says). Absolute URLs. */
export interface EndpointOverrides {
  revocation?: string
  introspection?: string
  endSession?: string
  token?: string
  pushedAuthorizationRequest?: string
}

/**
 * Options of {@link createResourceClient}. Validated once, at construction; a bad value throws
 * `ResourceTokensConfigError` (`code: 'invalid_config'`) naming the option.
 */
export interface ResourceClientOptions extends TelemetryOptions {
  /** The provider's issuer identifier; discovery is read from it. https, or http on loopback only. */
  issuer: string
  /** The client's `client_id`. */
  clientId: string
  /** The client's secret, for `client_secret_basic` (default), `client_secret_post` or `client_secret_jwt`. */
  clientSecret?: string
  /** Client authentication method. Default `client_secret_basic` with a secret, `private_key_jwt` with a key. */
  clientAuth?: ClientAuthMethod
  /** Private key for `private_key_jwt` (a `CryptoKey`, or `{ key, kid }`). */
  clientPrivateKey?: CryptoKey | { key: CryptoKey; kid?: string }
  /** The registered redirect URI that the provider sends the browser back to. Built from config, never from request headers. */
  redirectUri: string
  /** Where the provider sends the browser after RP-initiated logout. */
  postLogoutRedirectUri?: string
  /** The protected APIs, each with its own token. At least one. */
  resources: readonly ResourceDefinition[]
  /** Where grants live. Default: a new {@link MemoryStore}. A store that is not in-process requires `encryption`. */
  store?: TokenStore
  /** Encryption at rest for stores that are not in-process memory: AES-256-GCM keys derived from these secrets. */
  encryption?: { secrets: ReadonlyArray<string | Uint8Array> }
  /**
   * Send RFC 8707 `resource` for every resource (its `indicator`, or its `url`). Default `false`: only resources
   * that set `indicator` send one, the others are down-scoped by `scope` alone.
   */
  resourceIndicators?: boolean
  /** How resource tokens are obtained. Default `scope`. See {@link DownscopingStrategy}. */
  downscoping?: DownscopingStrategy
  /** Endpoints missing from the provider's discovery document. */
  endpoints?: EndpointOverrides
  /** Send the authorization request through PAR (RFC 9126): `auto` (default) when the provider offers it, or never. */
  pushedAuthorizationRequests?: 'auto' | 'never'
  /** Extra scopes to request at login besides `openid`, `offline_access` and the resources' scopes (e.g. `'profile email'`). */
  loginScope?: string
  /**
   * Ask for `offline_access` at login (with `prompt=consent`), whether or not the provider lists it in
   * `scopes_supported` (OpenID Connect Discovery lets a provider leave scopes out). Default `true`. Set `false` for a
   * provider that issues refresh tokens without it and refuses the scope.
   */
  offlineAccess?: boolean
  /**
   * Renew a token this many seconds before it expires (capped at half its lifetime). Default 30. The renewal runs
   * in the background while requests keep using the token; see the README's "Renewal" section.
   */
  skewSeconds?: number
  /** Lifetime assumed for a token whose response has no `expires_in`. Default 60 seconds. */
  defaultTokenLifetimeSeconds?: number
  /**
   * Refuse a token that is broader than asked (`scope_broadened`): more scope in the response's `scope` or in a JWT
   * access token's own `scope` claim, or a JWT `aud` beyond the resource's indicator. Default `true`. With `false`
   * such a token is used, with the `scope_broadened` event and a warning.
   */
  strictScopes?: boolean
  /** Timeout for each request to the provider, in seconds. Default 10. */
  timeoutSeconds?: number
  /** How long a refresh may wait for the per-grant lock, in milliseconds. Default 10000. */
  lockTimeoutMs?: number
  /** Expiry of the per-grant lock, in milliseconds: a crashed holder blocks the grant for at most this long; a live one renews it every third. Default 3000. */
  lockTtlMs?: number
  /** How long a started login may wait for its callback, in seconds. Default 600. */
  loginTtlSeconds?: number
  /** Grants unused for this long expire from the store, in seconds. Default 30 days. */
  grantTtlSeconds?: number
  /**
   * Absolute session lifetime, in seconds: a grant this old (since login or import) is revoked and removed when
   * next used, and `login_required` follows. Default: none, the provider's refresh-token lifetime is the limit.
   */
  absoluteSessionSeconds?: number
  /**
   * Idle session lifetime, in seconds: a grant that obtained no token for this long is revoked and removed when
   * next used, and `login_required` follows. Activity is counted per token renewal, so make it longer than the
   * longest access-token lifetime. Default: none (`grantTtlSeconds` still drops grants unused for 30 days).
   */
  idleSessionSeconds?: number
  /** In-process cache size (grants). Default 10000. */
  cacheSize?: number
  /**
   * Where to write what happens: a pino or winston logger, `console`, a function `(level, message, fields)`,
   * or `{ debug?, info?, warn?, error? }` called as `(message, fields)` (see {@link LoggerInput}). `{}` is
   * silence. Default: warnings and errors to the console.
   */
  logger?: LoggerInput
  /** The Fetch API used for every outbound request. Default: the global `fetch`. */
  fetch?: typeof fetch
  /**
   * An undici dispatcher (`Agent`, `Pool`, ... of the `undici` package) for requests to resources: `fetch` and
   * `serviceFetch` hand it to the Fetch implementation (Node's `fetch` honours it), `request` and
   * `serviceRequest` send on it. Use it to size connection pools or enable pipelining. Requests to the provider
   * are not sent on it. Default: none (`fetch` uses its own; `request` uses undici's global dispatcher).
   */
  dispatcher?: Dispatcher
  /** Clock in milliseconds, for tests. Default `Date.now`. */
  now?: () => number
  /** RFC 9728 discovery of resources at run time, for the origins listed. Off by default. */
  discovery?: DiscoveryOptions
  /** How many resources may be registered at run time (`addResource`, discovery), per client. Default 100. */
  maxRuntimeResources?: number
}

/** Options after validation and defaults. */
export interface ResolvedOptions {
  readonly issuer: URL
  readonly clientId: string
  readonly clientSecret: string | undefined
  readonly clientAuth: ClientAuthMethod
  readonly clientPrivateKey: { key: CryptoKey; kid?: string } | undefined
  readonly redirectUri: string
  readonly postLogoutRedirectUri: string | undefined
  readonly resourceIndicators: boolean
  readonly downscoping: DownscopingStrategy
  readonly endpoints: Readonly<Record<string, string>>
  readonly pushedAuthorizationRequests: 'auto' | 'never'
  readonly loginScope: readonly string[]
  readonly offlineAccess: boolean
  readonly skewMs: number
  readonly defaultTokenLifetimeMs: number
  readonly strictScopes: boolean
  readonly timeoutSeconds: number
  readonly lockTimeoutMs: number
  readonly lockTtlMs: number
  readonly loginTtlSeconds: number
  readonly grantTtlSeconds: number
  readonly absoluteSessionMs: number | undefined
  readonly idleSessionMs: number | undefined
  readonly cacheSize: number
  readonly logger: Logger
  readonly telemetry: ResolvedTelemetryOptions
  readonly fetch: typeof fetch
  readonly dispatcher: Dispatcher | undefined
  readonly now: () => number
  /** Separates this client's records from other clients' in a shared store: issuer and client id. */
  readonly keyNamespace: string
  readonly encryptionSecrets: ReadonlyArray<string | Uint8Array> | undefined
}
