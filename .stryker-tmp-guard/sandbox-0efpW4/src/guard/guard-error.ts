// @ts-nocheck
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import { formatChallenge, type ChallengeParam } from './www-authenticate.js'

/**
 * The `error` values a resource server answers with (RFC 6750 section 3.1, RFC 9449 section 12.2).
 *
 * - `invalid_request` (400): the request is malformed, e.g. two `Authorization` headers or a token with
 *   characters outside the token68 syntax. Also used, with status 401 and {@link GuardError.missingToken}
 *   set, when the request carries no access token at all.
 * - `invalid_token` (401): the access token is expired, revoked, malformed, for another audience or issuer,
 *   or presented with the wrong scheme.
 * - `insufficient_scope` (403): the token is valid but lacks a required scope ({@link GuardError.scope}).
 * - `invalid_dpop_proof` (401): the DPoP proof is missing, malformed or does not match the request or token.
 * - `use_dpop_nonce` (401): the DPoP proof must carry the nonce sent in the `DPoP-Nonce` header.
 * - `insufficient_user_authentication` (401, RFC 9470): the token is valid but the user's authentication is
 *   not strong enough (`acr`) or too old (`auth_time`); the challenge carries `acr_values` and/or `max_age`.
 */
export type GuardErrorCode =
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'insufficient_user_authentication'

/** HTTP status of a {@link GuardError}. */
export type GuardErrorStatus = 400 | 401 | 403

/** The authentication scheme a challenge is about. */
export type GuardScheme = 'Bearer' | 'DPoP'

/**
 * What the resource server supports, so that {@link GuardError.challenge} can advertise it.
 * The verifier fills this in; pass it yourself only when you construct a `GuardError` by hand.
 */
export interface GuardChallengeContext {
  /** Whether the `Bearer` scheme is accepted. Default `true`. */
  bearer?: boolean
  /** DPoP proof algorithms accepted; when set, a `DPoP` challenge with `algs` is included (RFC 9449 section 7.1). */
  dpopAlgorithms?: readonly string[]
  /** URL of this resource's metadata document, advertised as `resource_metadata` (RFC 9728 section 5.1). */
  resourceMetadataUrl?: string
}

/** Optional facts for a {@link GuardError}. */
export interface GuardErrorOptions {
  /** HTTP status; defaults by code (400 `invalid_request`, 403 `insufficient_scope`, otherwise 401). */
  status?: GuardErrorStatus
  /** The scope needed, space-separated (for `insufficient_scope`). */
  scope?: string
  /** The scheme the client used; the challenge for it carries the error. */
  scheme?: GuardScheme
  /** A fresh DPoP nonce to send in the `DPoP-Nonce` header (for `use_dpop_nonce`). */
  dpopNonce?: string
  /** The request carried no access token: the challenge then has no `error` (RFC 6750 section 3.1). */
  missingToken?: boolean
  /** What the resource server supports. */
  challenge?: GuardChallengeContext
  /** The underlying error. Never contains the token. */
  cause?: unknown
  /** RFC 9470: the acceptable authentication context classes, space-separated (for `insufficient_user_authentication`). */
  acrValues?: string
  /** RFC 9470: the most seconds since the user authenticated (for `insufficient_user_authentication`). */
  maxAge?: number
}

/** An HTTP answer to a rejected request: status plus headers (`WWW-Authenticate`, maybe `DPoP-Nonce`). */
export interface GuardChallenge {
  status: GuardErrorStatus
  headers: Record<string, string>
}

const DEFAULT_STATUS: Record<GuardErrorCode, GuardErrorStatus> = {
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  invalid_dpop_proof: 401,
  use_dpop_nonce: 401,
  insufficient_user_authentication: 401,
}

/**
 * A request was refused by the resource-server guard. A {@link ResourceTokensError} whose `code` (equal to
 * `error`) is one of the RFC 6750 / RFC 9449 values in {@link GuardErrorCode}; `description` (also the
 * `message`) is for people and never contains the token or the proof.
 *
 * Call {@link GuardError.challenge} to get the status and `WWW-Authenticate` header to answer with
 * (RFC 6750 section 3, RFC 9449 section 7.1, RFC 9728 section 5.1).
 *
 * @example
 * ```ts
 * try {
 *   const token = await verify({ method: req.method, url, headers: req.headers })
 * } catch (err) {
 *   if (!(err instanceof GuardError)) throw err
 *   const { status, headers } = err.challenge()
 *   res.writeHead(status, { ...headers, 'content-type': 'application/json' })
 *   res.end(JSON.stringify(err.toJSON()))
 * }
 * ```
 */
export class GuardError extends ResourceTokensError<GuardErrorCode> {
  override readonly name: string = 'GuardError'
  /** The OAuth 2.0 `error` value sent to the client; same as `code`. */
  declare readonly error: GuardErrorCode
  /** The HTTP status to answer with. */
  declare readonly status: GuardErrorStatus
  /** Human-readable `error_description`; never contains a token. */
  readonly description: string
  /** The scheme whose challenge carries the error. */
  readonly scheme: GuardScheme
  /** A fresh DPoP nonce for the `DPoP-Nonce` header, for `use_dpop_nonce`. */
  readonly dpopNonce: string | undefined
  /** True when the request had no access token (the challenge then carries no `error`). */
  readonly missingToken: boolean
  /** RFC 9470 `acr_values` of the challenge, for `insufficient_user_authentication`. */
  readonly acrValues: string | undefined
  /** RFC 9470 `max_age` of the challenge, for `insufficient_user_authentication`. */
  readonly maxAge: number | undefined
  readonly #context: GuardChallengeContext

  /**
   * @param error - the OAuth 2.0 error code
   * @param description - a lowercase, human-readable explanation without any token in it
   * @param options - status, scope, scheme, nonce and what to advertise in the challenge
   */
  constructor(error: GuardErrorCode, description: string, options: GuardErrorOptions = {}) {
    const status = options.status ?? (options.missingToken === true ? 401 : DEFAULT_STATUS[error])
    const details = { cause: options.cause, error, status }
    super(error, description, options.scope === undefined ? details : { ...details, scope: options.scope })
    this.description = description
    this.dpopNonce = options.dpopNonce
    this.missingToken = options.missingToken ?? false
    this.acrValues = options.acrValues
    this.maxAge = options.maxAge
    this.#context = options.challenge ?? {}
    const dpopOnly = this.#context.bearer === false && this.#context.dpopAlgorithms !== undefined
    const dpopError = error === 'invalid_dpop_proof' || error === 'use_dpop_nonce'
    this.scheme = dpopError || dpopOnly ? 'DPoP' : (options.scheme ?? 'Bearer')
  }

  /**
   * The status and headers to answer with: one `WWW-Authenticate` value holding a `Bearer` challenge
   * (unless Bearer is disabled) and, when DPoP is enabled, a `DPoP` challenge with `algs`; the error,
   * its description and `scope` go on the challenge for the scheme the client used. A `DPoP-Nonce`
   * header is added for `use_dpop_nonce`.
   *
   * @returns `{ status, headers }`; header names are in canonical case.
   * @see RFC 6750 section 3, RFC 9449 sections 7.1 and 9, RFC 9728 section 5.1
   * @example
   * ```ts
   * const { status, headers } = err.challenge()
   * // 401, { 'WWW-Authenticate': 'Bearer error="invalid_token", error_description="access token expired"' }
   * ```
   */
  challenge(): GuardChallenge {
    const context = this.#context
    const common: ChallengeParam[] = []
    if (context.resourceMetadataUrl !== undefined) common.push(['resource_metadata', context.resourceMetadataUrl])
    const errorParams: ChallengeParam[] = []
    if (!this.missingToken) {
      errorParams.push(['error', this.error])
      errorParams.push(['error_description', this.description])
      if (this.scope !== undefined && this.error === 'insufficient_scope') errorParams.push(['scope', this.scope])
      if (this.error === 'insufficient_user_authentication') {
        if (this.acrValues !== undefined) errorParams.push(['acr_values', this.acrValues])
        if (this.maxAge !== undefined) errorParams.push(['max_age', String(this.maxAge)])
      }
    }
    const dpop = context.dpopAlgorithms !== undefined
    // The error rides on the challenge for the scheme the client used, if that challenge is offered at all.
    const errorOnDpop = dpop && this.scheme === 'DPoP'
    const challenges: string[] = []
    if (context.bearer !== false || !dpop) {
      challenges.push(formatChallenge('Bearer', errorOnDpop ? common : [...common, ...errorParams]))
    }
    if (context.dpopAlgorithms !== undefined) {
      const params: ChallengeParam[] = [['algs', context.dpopAlgorithms.join(' ')], ...common]
      challenges.push(formatChallenge('DPoP', errorOnDpop ? [...params, ...errorParams] : params))
    }
    const headers: Record<string, string> = { 'WWW-Authenticate': challenges.join(', ') }
    if (this.dpopNonce !== undefined) headers['DPoP-Nonce'] = this.dpopNonce
    return { status: this.status, headers }
  }

  /**
   * The JSON body to answer with: `{ error, error_description }` (plus `scope` for `insufficient_scope`).
   *
   * @example
   * ```ts
   * res.status(err.status).json(err.toJSON())
   * ```
   */
  toJSON(): { error: GuardErrorCode; error_description: string; scope?: string } {
    const body: { error: GuardErrorCode; error_description: string; scope?: string } = {
      error: this.error,
      error_description: this.description,
    }
    if (this.scope !== undefined && this.error === 'insufficient_scope') body.scope = this.scope
    return body
  }
}

/** @internal Builds the refusal of a token (not of its proof or the request's syntax) for one verifier. */
export type TokenRefusal = (
  error: 'invalid_token' | 'insufficient_scope',
  description: string,
  scheme: GuardScheme,
  extra?: { scope?: string; cause?: unknown },
) => GuardError

/** @internal A {@link TokenRefusal} that advertises `challenge`. */
export function tokenRefusal(challenge: GuardChallengeContext): TokenRefusal {
  return (error, description, scheme, extra = {}) => new GuardError(error, description, { ...extra, scheme, challenge })
}
