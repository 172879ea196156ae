/**
 * Every span name, metric name and attribute key this library emits, in one place (docs/TELEMETRY.md
 * has the table). Names follow the OpenTelemetry conventions where one exists (`error.type`,
 * `http.response.status_code`, `server.address`, `enduser.id`, `session.id`); the rest live under
 * `resource_tokens.`. Attribute values are never a token, code, verifier, secret or the raw grant key.
 */
// @ts-nocheck


/** Span names: low cardinality, one per kind of operation. */
export const SPAN = {
  /** A request to the token endpoint (refresh, token exchange, client credentials, authorization code). */
  tokenRequest: 'resource_tokens.token_request',
  /** Waiting for the per-grant refresh lock (in-process queue, then the store lock). */
  lockAcquire: 'resource_tokens.lock.acquire',
  /** Holding the per-grant refresh lock while a token is obtained and stored. */
  lockHold: 'resource_tokens.lock.hold',
  /** The login callback: state check, code exchange, ID token validation, grant stored. */
  loginCallback: 'resource_tokens.login.callback',
  /** A back-channel logout token received and applied. */
  backchannelLogout: 'resource_tokens.logout.backchannel',
  /** The resource server's guard verifying an access token. */
  guardVerify: 'resource_tokens.guard.verify',
} as const

/** A store operation span: `resource_tokens.store.<operation>`. */
export function storeSpanName(operation: StoreOperation): string {
  return STORE_SPAN_NAMES[operation]
}

export type StoreOperation = 'get' | 'set' | 'delete' | 'take' | 'compare_and_set' | 'try_lock' | 'unlock'

const STORE_SPAN_NAMES: Readonly<Record<StoreOperation, string>> = {
  get: 'resource_tokens.store.get',
  set: 'resource_tokens.store.set',
  delete: 'resource_tokens.store.delete',
  take: 'resource_tokens.store.take',
  compare_and_set: 'resource_tokens.store.compare_and_set',
  try_lock: 'resource_tokens.store.try_lock',
  unlock: 'resource_tokens.store.unlock',
}

/** Metric names. Durations are histograms in seconds, as the OpenTelemetry conventions ask. */
export const METRIC = {
  tokenRequests: 'resource_tokens.token_requests',
  tokenRequestDuration: 'resource_tokens.token_request.duration',
  lockWaitDuration: 'resource_tokens.lock.wait.duration',
  lockHoldDuration: 'resource_tokens.lock.hold.duration',
  cacheLookups: 'resource_tokens.cache.lookups',
  storeOperationDuration: 'resource_tokens.store.operation.duration',
  storeFailures: 'resource_tokens.store.failures',
  refreshFailures: 'resource_tokens.refresh.failures',
  grantsRemoved: 'resource_tokens.grants.removed',
  logins: 'resource_tokens.logins',
  guardVerifications: 'resource_tokens.guard.verifications',
  guardVerificationDuration: 'resource_tokens.guard.verification.duration',
} as const

/** Attribute keys. */
export const ATTR = {
  /** The registered resource's name (e.g. `contacts`). */
  resource: 'resource_tokens.resource',
  /** The grant's short, non-secret reference: the same hash log lines and events carry. */
  grant: 'resource_tokens.grant',
  /** `ok`, or the `ResourceTokensError` code the operation ended with. */
  outcome: 'resource_tokens.outcome',
  /** `refresh`, `token_exchange`, `client_credentials` or `authorization_code`. */
  tokenRequestKind: 'resource_tokens.token_request.kind',
  /** The OAuth 2.0 `error` value the provider answered with. */
  oauthError: 'resource_tokens.oauth.error',
  /** Whether the token request rotated the refresh token. */
  rotated: 'resource_tokens.refresh_token.rotated',
  /** `bearer` or `dpop`. */
  tokenType: 'resource_tokens.token.type',
  /** `hit` or `miss`. */
  cacheResult: 'resource_tokens.cache.result',
  /** A store operation: `get`, `set`, `delete`, `take`, `compare_and_set`, `try_lock`, `unlock`. */
  storeOperation: 'resource_tokens.store.operation',
  /** How many times the store lock was tried before it was won or given up. */
  lockAttempts: 'resource_tokens.lock.attempts',
  /** Why a grant was removed: `logout`, `invalid_grant`, `invalid_id_token`, `backchannel_logout`. */
  removalReason: 'resource_tokens.grant.removal_reason',
  /** Guard: `jwt` or `introspection`. */
  guardMethod: 'resource_tokens.guard.method',
  /** Guard: `Bearer` or `DPoP`. */
  guardScheme: 'resource_tokens.guard.scheme',
  /** OpenTelemetry semantic conventions. */
  errorType: 'error.type',
  httpStatus: 'http.response.status_code',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  /** Opt-in only (`telemetry.identity`): the ID token's `sub`. */
  enduserId: 'enduser.id',
  /** Opt-in only (`telemetry.identity`): the provider's session id (`sid`). */
  sessionId: 'session.id',
} as const

/** Instrumentation scope name (the tracer's and the meter's). */
export const SCOPE_NAME = 'resource-tokens'
