// The verifier: reads the token from the request, has it checked as a JWT or by introspection, checks
// its DPoP binding and the required scopes. The options and result types of the guard's public API.
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import { readTokenFacts, type TokenFacts } from './access-token-claims.js'
import { checkAuthentication, resolveAuthenticationRequirement } from './authentication-requirement.js'
import { createEndpointResolver } from './authorization-server-metadata.js'
import { DpopProofVerifier, normalizeHtu } from './dpop-proof.js'
import { tokenRefusal, type GuardScheme } from './guard-error.js'
import { JwtAccessTokens } from './jwt-access-token.js'
import { OpaqueAccessTokens } from './opaque-access-token.js'
import { headerValues, readAuthorization, type RequestHeaders } from './request-credentials.js'
import { resolveOptions } from './resolve-options.js'
import { LazyTelemetry } from '../telemetry/create-telemetry.js'
import { ATTR, SPAN } from '../telemetry/names.js'
import { resolveTelemetryOptions, type TelemetryOptions } from '../telemetry/options.js'
import { NOOP_SCOPE, type OperationScope } from '../telemetry/telemetry.js'
import type { TokenStore } from '../stores/token-store.js'

/**
 * How a resource server checks access tokens. Validated once, when the verifier is created.
 *
 * @see RFC 9068 section 4 (JWT access tokens), RFC 7662 (introspection), RFC 9449 (DPoP)
 */
export interface VerifyAccessTokenOptions extends TelemetryOptions {
  /**
   * The authorization server's issuer identifier; JWT `iss` must equal it. The JWKS URL and the
   * introspection endpoint come from its discovery document (`/.well-known/openid-configuration`, then
   * RFC 8414 `/.well-known/oauth-authorization-server`) unless given. https outside loopback.
   */
  issuer: string
  /** This resource's identifier (RFC 8707 resource indicator); `aud` must contain it. */
  audience: string
  /** Scopes that must all be present in the token's `scope`. Default none. */
  scopes?: string[]
  /**
   * Step-up (RFC 9470): the token's `acr` must be one of these, or the request is refused with
   * `insufficient_user_authentication` and a challenge carrying `acr_values`. Default: any. One verifier per
   * route gives per-route requirements.
   */
  acrValues?: string[]
  /**
   * Step-up (RFC 9470): the token's `auth_time` must be at most this many seconds ago (plus `leewaySeconds`),
   * or the request is refused with `insufficient_user_authentication` and `max_age`. Default: any age.
   */
  maxAgeSeconds?: number
  /** JWT signature algorithms accepted (asymmetric only). Default `['RS256', 'PS256', 'ES256', 'EdDSA']`. */
  algorithms?: string[]
  /** Clock tolerance for `exp` and `nbf`, in seconds. Default 5. */
  leewaySeconds?: number
  /** The issuer's JWKS URL, skipping discovery for it. */
  jwksUri?: string
  /**
   * Minimum seconds between JWKS refetches triggered by an unknown `kid` (a refetch on every unknown
   * `kid` would let anyone make this server hammer the issuer). Default 30.
   */
  jwksCooldownSeconds?: number
  /**
   * Enables opaque (non-JWT) access tokens, checked by RFC 7662 introspection with client_secret_basic.
   * Without it, opaque tokens are refused. `endpoint` defaults to the discovered `introspection_endpoint`;
   * answers are cached `cacheSeconds` (default 30, 0 disables) and never beyond the token's `exp`.
   */
  introspection?: { endpoint?: string; clientId: string; clientSecret: string; cacheSeconds?: number; requireAudience?: boolean }
  /**
   * Enables DPoP (RFC 9449): DPoP-bound tokens (`cnf.jkt`) are accepted with the `DPoP` scheme and a
   * valid proof. Without it, bound tokens are refused. `required` refuses unbound tokens. `nonce`
   * turns on stateless server nonces derived from `secret` (at least 32 bytes) in windows of
   * `windowSeconds` (default 300; a nonce stays valid for two windows). `iatWindowSeconds` (default 60)
   * is how far a proof's `iat` may be from now. `algorithms` are the proof algorithms accepted
   * (default `['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256']`).
   */
  dpop?: {
    required?: boolean
    algorithms?: string[]
    nonce?: { secret: string | Uint8Array; windowSeconds?: number }
    iatWindowSeconds?: number
  }
  /**
   * A store shared by every instance of this resource server (e.g. the `RedisStore` the client side uses), for the
   * DPoP proof replay cache: a proof is then accepted at most once across all instances (RFC 9449 section 11.1),
   * not once per instance. Entries are a hash and expire with the proof's `iat` window. A store failure refuses
   * the request with `store_unavailable` (fail closed). Without it the cache is per process. DPoP nonces need no
   * store: they are stateless, valid on every instance configured with the same `dpop.nonce.secret`.
   */
  store?: TokenStore
  /** URL of this resource's RFC 9728 metadata, advertised as `resource_metadata` in challenges. */
  resourceMetadataUrl?: string
  /** The fetch used for discovery, JWKS and introspection. Default the global `fetch`. */
  fetch?: typeof fetch
  /** Clock in milliseconds since the epoch, for tests. Default `Date.now`. */
  now?: () => number
}

/** The request being authorized, as the resource server sees it. */
export interface AccessTokenRequest {
  /** HTTP method, e.g. `GET`. Compared with a DPoP proof's `htm`. */
  method: string
  /**
   * Absolute URL of the request as clients address it (public scheme, host and path), compared with a
   * DPoP proof's `htu`. Build it from configuration, not from `Host` or `X-Forwarded-*` you do not control.
   */
  url: string
  /** Request headers: a Fetch `Headers`, or Node's `IncomingHttpHeaders` / `headersDistinct`. */
  headers: RequestHeaders
}

/** An access token that passed every check. */
export interface VerifiedAccessToken {
  /** `jwt` for an RFC 9068 JWT, `opaque` for a token checked by introspection. */
  token: 'jwt' | 'opaque'
  /** The JWT claims, or the introspection response. */
  claims: Record<string, unknown>
  /** `sub`, when present. */
  subject?: string
  /** The granted scopes (from the space-separated `scope`). */
  scopes: string[]
  /** `client_id` (or, failing that, `azp`), when present. */
  clientId?: string
  /** The DPoP key binding, when the token is sender-constrained (RFC 9449 section 6). */
  bound?: { jkt: string }
}

/** Verifies the access token on one request. Rejects with {@link GuardError}. */
export type AccessTokenVerifier = (request: AccessTokenRequest) => Promise<VerifiedAccessToken>

/** Internals shared with the Express adapter. */
export interface VerifierInternals {
  verify: AccessTokenVerifier
  /** The DPoP nonce to advertise now, when nonces are configured. */
  currentDpopNonce: () => string | undefined
}

/** @internal */
export function createVerifierInternals(options: VerifyAccessTokenOptions): VerifierInternals {
  const config = resolveOptions(options)
  const authentication = resolveAuthenticationRequirement(options)
  const resolveEndpoints = createEndpointResolver(config.issuer, config.fetch)
  const refuse = tokenRefusal(config.challenge)
  const jwts = new JwtAccessTokens(config, resolveEndpoints, refuse)
  const opaque = new OpaqueAccessTokens(config, resolveEndpoints, refuse)
  const proofs = config.dpop === undefined ? undefined : new DpopProofVerifier(config.dpop, config.challenge, { store: config.store, audience: config.audience })
  const telemetry = new LazyTelemetry(resolveTelemetryOptions(options))

  const check = async (request: AccessTokenRequest, scope: OperationScope): Promise<VerifiedAccessToken> => {
    checkRequest(request)
    const { scheme: presentedScheme, token } = readAuthorization(request.headers, config.challenge)
    const scheme: GuardScheme = presentedScheme === 'dpop' ? 'DPoP' : 'Bearer'
    const kind = token.split('.').length === 3 ? 'jwt' : 'opaque'
    scope.tag({ [ATTR.guardScheme]: scheme, [ATTR.guardMethod]: kind === 'jwt' ? 'jwt' : 'introspection' })
    if (scheme === 'Bearer' && config.dpop?.required === true) {
      throw refuse('invalid_token', 'this resource requires dpop-bound access tokens', 'DPoP')
    }
    const claims = kind === 'jwt' ? await jwts.verify(token, scheme) : await opaque.verify(token, scheme)
    const facts = readTokenFacts(claims, scheme, refuse)
    const { jkt } = facts
    if (jkt !== undefined) {
      if (proofs === undefined) throw refuse('invalid_token', 'dpop-bound access tokens are not accepted', scheme)
      if (scheme === 'Bearer') throw refuse('invalid_token', 'dpop-bound access token presented as bearer', 'Bearer')
      const htu = normalizeHtu(request.url)
      if (htu === undefined) throw badRequest('"request.url" must be an absolute http(s) URL')
      await proofs.verify(headerValues(request.headers, 'dpop'), { method: request.method.toUpperCase(), htu, token, jkt }, config.now())
    } else if (scheme === 'DPoP') {
      throw refuse('invalid_token', 'access token is not dpop-bound', 'DPoP')
    }
    const missing = config.scopes.filter((required) => !facts.scopes.includes(required))
    if (missing.length > 0) {
      throw refuse('insufficient_scope', `access token lacks scope ${missing.join(' ')}`, scheme, { scope: config.scopes.join(' ') })
    }
    if (authentication !== undefined) checkAuthentication(claims, authentication, config.now(), config.leewaySeconds, scheme, config.challenge)
    return verifiedToken(kind, claims, facts)
  }

  const verify: AccessTokenVerifier = async (request) => {
    const loaded = telemetry.get()
    const current = loaded instanceof Promise ? await loaded : loaded
    if (!current.enabled) return check(request, NOOP_SCOPE)
    return current.operation({ span: SPAN.guardVerify, count: 'guardVerifications', duration: 'guardVerificationDuration' }, (scope) => check(request, scope))
  }

  return { verify, currentDpopNonce: () => proofs?.currentNonce(config.now()) }
}

function verifiedToken(kind: 'jwt' | 'opaque', claims: Record<string, unknown>, facts: TokenFacts): VerifiedAccessToken {
  const verified: VerifiedAccessToken = { token: kind, claims, scopes: facts.scopes }
  if (facts.subject !== undefined) verified.subject = facts.subject
  if (facts.clientId !== undefined) verified.clientId = facts.clientId
  if (facts.jkt !== undefined) verified.bound = { jkt: facts.jkt }
  return verified
}

/** A caller's mistake, not the client's: `invalid_argument`, never a {@link GuardError}. */
function badRequest(message: string): ResourceTokensError {
  return new ResourceTokensError('invalid_argument', message)
}

function checkRequest(request: AccessTokenRequest): void {
  if (typeof request !== 'object' || request === null) throw badRequest('request must be an object')
  if (typeof request.method !== 'string' || request.method.length === 0) throw badRequest('"request.method" must be a non-empty string')
  if (typeof request.url !== 'string') throw badRequest('"request.url" must be a string')
  if (typeof request.headers !== 'object' || request.headers === null) throw badRequest('"request.headers" must be an object')
}

/**
 * Creates a verifier for a resource server: it reads the access token from `Authorization`, checks a JWT
 * (RFC 9068: `typ` `at+jwt`, signature by the issuer's JWKS, `iss`, `aud`, `exp`, `nbf`) or introspects an
 * opaque token (RFC 7662), checks a DPoP proof for sender-constrained tokens (RFC 9449 section 7), then the
 * required scopes. Keys, discovery and introspection answers are cached in the verifier: create it once.
 *
 * @param options - see {@link VerifyAccessTokenOptions}
 * @returns a function verifying one request, resolving to the {@link VerifiedAccessToken}
 * @throws {ResourceTokensConfigError} at once, for bad options
 * @throws {GuardError} (rejection) when the request is refused; answer with `err.challenge()`
 * @throws {ResourceTokensError} (rejection) `discovery_failed` when the issuer's discovery document or JWKS
 *   cannot be fetched, `introspection_failed` when introspection fails: the
 *   request could not be judged, answer 503; `invalid_argument` when `request` itself is malformed (a bug
 *   in the caller, answer 500)
 * @see RFC 6750 section 2.1 and 3, RFC 9068 section 4, RFC 7662 section 2, RFC 9449 sections 4.3 and 7
 * @example
 * ```ts
 * const verify = createAccessTokenVerifier({
 *   issuer: 'https://as.example.com',
 *   audience: 'https://api.example.com',
 *   scopes: ['orders:read'],
 *   dpop: {},
 * })
 * const token = await verify({ method: 'GET', url: 'https://api.example.com/orders', headers: request.headers })
 * console.log(token.subject, token.scopes)
 * ```
 */
export function createAccessTokenVerifier(options: VerifyAccessTokenOptions): AccessTokenVerifier {
  return createVerifierInternals(options).verify
}

const verifiers = new WeakMap<VerifyAccessTokenOptions, AccessTokenVerifier>()

/**
 * Verifies the access token on one request, like a verifier from {@link createAccessTokenVerifier}
 * that is cached per `options` object (so JWKS, discovery and introspection caches persist): pass the
 * same object every time. Options are read on the first call; later changes to the object are ignored.
 *
 * @param request - method, absolute URL and headers of the request
 * @param options - see {@link VerifyAccessTokenOptions}
 * @returns the {@link VerifiedAccessToken}
 * @throws {ResourceTokensConfigError} for bad options
 * @throws {GuardError} when the request is refused
 * @throws {ResourceTokensError} when the issuer or its introspection endpoint cannot be reached
 * @see RFC 9068 section 4, RFC 6750 section 2.1, RFC 9449 section 7
 * @example
 * ```ts
 * const options = { issuer: 'https://as.example.com', audience: 'https://api.example.com' }
 * const token = await verifyAccessToken({ method: 'GET', url, headers }, options)
 * ```
 */
export async function verifyAccessToken(request: AccessTokenRequest, options: VerifyAccessTokenOptions): Promise<VerifiedAccessToken> {
  let verify = verifiers.get(options)
  if (verify === undefined) {
    verify = createAccessTokenVerifier(options) // validates options (throws for a non-object) before caching
    verifiers.set(options, verify)
  }
  return verify(request)
}
