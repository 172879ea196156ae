/**
 * Every stable error code this library throws. Match on `error.code`, never on the message.
 *
 * - `invalid_config`: bad options at construction (thrown by {@link createResourceClient} and store constructors).
 * - `discovery_failed`: the issuer's discovery document could not be fetched or did not validate.
 * - `login_required`: there is no usable grant for this key (never logged in, logged out, or the provider
 *   rejected the refresh token). Send the user through login again.
 * - `invalid_callback`: the authorization callback is bad: unknown, missing or replayed `state`, wrong `iss`,
 *   or a response that fails validation.
 * - `authorization_error`: the provider answered the authorization request with an error (`error` holds it).
 * - `invalid_id_token`: an ID token failed validation (at login, import or refresh).
 * - `refresh_token_missing`: the provider issued no refresh token at login.
 * - `token_endpoint_unavailable`: a transient failure at the token endpoint (network error, timeout, 5xx).
 *   The refresh token is kept; the next call tries again.
 * - `token_endpoint_error`: the token endpoint answered with an OAuth error other than `invalid_grant`
 *   (`error` holds it, e.g. `invalid_scope`, `invalid_target`).
 * - `scope_broadened`: in strict mode, the provider granted a resource more scope than was asked.
 * - `unknown_resource`: {@link ResourceClient.accessToken} was asked for a URL that no resource matches.
 * - `insufficient_scope`: a resource answered 403 `insufficient_scope` (`scope` holds what it asked for).
 * - `redirect_refused`: a redirect was met while `redirect: 'error'` was set, or there were too many.
 * - `store_unavailable`: the token store failed (e.g. Redis is down or frozen). The outcome of the write is unknown
 *   (a frozen Redis may still apply it when it wakes); reads are safe to retry.
 * - `lock_timeout`: the per-grant refresh lock could not be won in time.
 * - `decryption_failed`: a stored record did not decrypt (tampered, moved to another key, or an unknown secret).
 * - `refresh_token_narrowed`: the provider narrowed the refresh token to the last scope asked for, so another
 *   resource's refresh was refused. Use `downscoping: 'token-exchange'` or `'none'`, or fix the provider.
 * - `ambiguous_path`: the request URL (or a redirect) belongs to a resource but its path holds a dot segment hidden
 *   by encoding (`..%2F`, `%2e%2e`, `..;`, `..%5C`) that a server or proxy may resolve outside the resource. Nothing
 *   was sent and no token was handed out.
 * - `invalid_token_response`: the token endpoint returned an access token that is not a valid RFC 6750 `b64token`
 *   (e.g. a newline, NUL or space in it), or a plain Bearer token for a resource with `dpop: 'required'`. The token is
 *   not used, cached or repeated; the refresh token is kept.
 * - `resource_metadata_mismatch`: a resource answered 401 with RFC 9728 metadata that names another resource
 *   identifier or another authorization server; no new token was sent to it.
 * - `resource_not_allowed`: discovery (RFC 9728) was asked for a URL whose origin the app did not allow
 *   (`discovery.origins`), or that is not https.
 * - `too_many_resources`: `addResource` or discovery would register more run-time resources than `maxRuntimeResources`.
 * - `insufficient_user_authentication`: a resource answered 401 `insufficient_user_authentication` (RFC 9470),
 *   or a login came back with an `acr` or `auth_time` short of what was asked. `login` says what to ask for.
 * - `introspection_failed`: (guard) the introspection endpoint gave no usable answer (network, 5xx, OAuth error, not JSON).
 * - `invalid_logout_token`: a back-channel logout token failed validation (signature, `iss`, `aud`, age, `events`,
 *   `nonce`, `sid`/`sub`) or was used before (`jti`). Nothing was removed.
 * - `invalid_argument`: a bad argument at call time (an empty key, a `returnTo` that is not a local path, a URL that is not absolute).
 */
// @ts-nocheck

export type ResourceTokensErrorCode =
  | 'invalid_config'
  | 'discovery_failed'
  | 'login_required'
  | 'invalid_callback'
  | 'authorization_error'
  | 'invalid_id_token'
  | 'refresh_token_missing'
  | 'token_endpoint_unavailable'
  | 'token_endpoint_error'
  | 'scope_broadened'
  | 'unknown_resource'
  | 'insufficient_scope'
  | 'redirect_refused'
  | 'store_unavailable'
  | 'lock_timeout'
  | 'decryption_failed'
  | 'invalid_argument'
  | 'introspection_failed'
  | 'refresh_token_narrowed'
  | 'resource_metadata_mismatch'
  | 'resource_not_allowed'
  | 'too_many_resources'
  | 'insufficient_user_authentication'
  | 'invalid_logout_token'
  | 'ambiguous_path'
  | 'invalid_token_response'

/**
 * The parameters of {@link ResourceClient.startLogin} that would give the grant what a failed call needed:
 * another resource, more scope, a stronger or fresher authentication (RFC 9470). Spread them into
 * `startLogin`: `client.startLogin(key, { returnTo, ...err.login })`.
 */
export interface LoginParameters {
  /** RFC 8707 resource indicators to add to the grant. */
  resources?: string[]
  /** Scope to add to the grant, space-separated. */
  scope?: string
  /** Authentication context class references, space-separated, in order of preference (OpenID Connect `acr_values`). */
  acrValues?: string
  /** The authentication must be at most this many seconds old (OpenID Connect `max_age`). */
  maxAge?: number
}

/** Extra, non-secret facts an error may carry. */
export interface ResourceTokensErrorDetails {
  /** The underlying error. Library code never puts a token or secret in a cause it creates. */
  cause?: unknown
  /** The OAuth 2.0 `error` value from the provider or the resource, when there was one. */
  error?: string
  /** The scope a resource asked for (`insufficient_scope`), or the scope in question. */
  scope?: string
  /** The HTTP status that led to this error, when there was one. */
  status?: number
  /** What a new login should ask for to make the failed call succeed. */
  login?: LoginParameters
}

/**
 * The one error base of this library: everything it throws at a caller is one (or a subclass). `code` is
 * stable and is what callers should branch on; `message` is for people, lowercase, and never contains a
 * token, code, verifier or secret.
 *
 * Subclasses may narrow `code` to a union of their own through the type parameter (the guard's errors carry
 * RFC 6750 `error` values), so `instanceof ResourceTokensError` catches every error of the library.
 *
 * @typeParam C The codes an error of this class can carry.
 * @example
 * ```ts
 * try {
 *   await client.fetch(key, url)
 * } catch (err) {
 *   if (err instanceof ResourceTokensError && err.code === 'login_required') redirectToLogin()
 *   else throw err
 * }
 * ```
 */
export class ResourceTokensError<C extends string = ResourceTokensErrorCode> extends Error {
  override readonly name: string = 'ResourceTokensError'
  readonly code: C
  /** OAuth 2.0 `error` value, when the failure came with one. */
  readonly error: string | undefined
  /** Scope involved in the failure (e.g. what a resource asked for with `insufficient_scope`). */
  readonly scope: string | undefined
  /** HTTP status involved in the failure, when there was one. */
  readonly status: number | undefined
  /**
   * When set, a login with these parameters would satisfy what failed (a resource the grant does not cover,
   * more scope, step-up authentication): `client.startLogin(key, { returnTo, ...err.login })`.
   */
  readonly login: LoginParameters | undefined

  constructor(code: C, message: string, details: ResourceTokensErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.code = code
    this.error = details.error
    this.scope = details.scope
    this.status = details.status
    this.login = details.login
  }
}

/**
 * Thrown at construction time for bad options; `code` is always `invalid_config`.
 * A subclass so that `instanceof ResourceTokensError` still holds.
 */
export class ResourceTokensConfigError extends ResourceTokensError<'invalid_config'> {
  override readonly name: string = 'ResourceTokensConfigError'
  constructor(message: string, details: ResourceTokensErrorDetails = {}) {
    super('invalid_config', message, details)
  }
}
