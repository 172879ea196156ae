// @ts-nocheck
import { createRemoteJWKSet, customFetch, jwtVerify, type JWTPayload } from 'jose'
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import { sha256 } from '../lib/hash.js'
import type { TokenStore } from '../stores/token-store.js'
import { guard } from '../grants/grant-repository.js'

/** The event a logout token must carry (Back-Channel Logout 1.0 section 2.4). */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout'

/** How old (or how far in the future) a logout token's `iat` may be. The provider sends it at once. */
export const MAX_LOGOUT_TOKEN_AGE_SECONDS = 300
/** Clock tolerance for `iat` in the future and `exp`. */
const CLOCK_TOLERANCE_SECONDS = 60
/** Logout tokens are small; anything larger is refused before it is decoded. */
const MAX_LOGOUT_TOKEN_LENGTH = 16 * 1024

/** What a valid logout token names: a session (`sid`), a subject (`sub`), or both. */
export interface LogoutTokenClaims {
  readonly sid: string | undefined
  readonly sub: string | undefined
  /** Forgets the spent `jti`, for when acting on the token failed and the provider should be able to retry. */
  readonly release: () => Promise<void>
}

/**
 * Validates logout tokens as Back-Channel Logout 1.0 section 2.6 says, with jose: the signature against the
 * provider's JWKS (fetched again on an unknown `kid`, at most every 30 s, jose's cooldown), `iss`, `aud`
 * containing this client, `iat` within {@link MAX_LOGOUT_TOKEN_AGE_SECONDS}, `exp` when present, `typ`
 * `logout+jwt` (or the generic `JWT`) when present, the back-channel logout `events` member, `sid` and/or `sub`,
 * no `nonce` (so an ID token is never taken for one), and a `jti` used only once across every instance of the
 * shared store (set-if-absent with compare-and-set, kept for as long as the token could be accepted).
 */
export class LogoutTokenVerifier {
  readonly #issuer: string
  readonly #clientId: string
  readonly #store: TokenStore
  readonly #namespace: string
  readonly #now: () => number
  readonly #algorithms: string[] | undefined
  readonly #jwks: ReturnType<typeof createRemoteJWKSet> | undefined

  constructor(options: {
    metadata: Readonly<Record<string, unknown>>
    clientId: string
    store: TokenStore
    namespace: string
    now: () => number
    timeoutSeconds: number
    fetch: typeof fetch
  }) {
    const { metadata } = options
    this.#issuer = String(metadata['issuer'])
    this.#clientId = options.clientId
    this.#store = options.store
    this.#namespace = options.namespace
    this.#now = options.now
    const jwksUri = metadata['jwks_uri']
    this.#jwks =
      typeof jwksUri === 'string'
        ? createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: options.timeoutSeconds * 1000, [customFetch]: options.fetch })
        : undefined
    // Asymmetric algorithms the provider signs ID tokens with; never `none` or a MAC (the JWKS holds public keys only).
    const advertised = metadata['id_token_signing_alg_values_supported']
    const asymmetric = Array.isArray(advertised) ? advertised.filter((a): a is string => typeof a === 'string' && a !== 'none' && !a.startsWith('HS')) : []
    this.#algorithms = asymmetric.length > 0 ? asymmetric : undefined
  }

  /**
   * Validates `logoutToken` and spends its `jti`.
   *
   * @throws `invalid_logout_token` for anything that is not a fresh, valid logout token for this client;
   * `store_unavailable` when the `jti` could not be recorded (the token is not acted on then).
   */
  async verify(logoutToken: unknown): Promise<LogoutTokenClaims> {
    if (typeof logoutToken !== 'string' || logoutToken === '' || logoutToken.length > MAX_LOGOUT_TOKEN_LENGTH) {
      throw invalid('the logout token is missing, not a string, or too large')
    }
    if (this.#jwks === undefined) throw invalid('the provider publishes no jwks_uri to verify logout tokens with')
    let payload: JWTPayload
    let typ: string | undefined
    try {
      const verified = await jwtVerify(logoutToken, this.#jwks, {
        issuer: this.#issuer,
        audience: this.#clientId,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        maxTokenAge: MAX_LOGOUT_TOKEN_AGE_SECONDS,
        requiredClaims: ['iat', 'jti'],
        currentDate: new Date(this.#now()),
        ...(this.#algorithms === undefined ? {} : { algorithms: this.#algorithms }),
      })
      payload = verified.payload
      typ = verified.protectedHeader.typ
    } catch (err) {
      throw invalid(`the logout token failed verification (${reasonOf(err)})`)
    }
    if (typ !== undefined && !acceptedType(typ)) throw invalid('the logout token is explicitly typed as something else (typ)')
    const events = payload['events']
    if (typeof events !== 'object' || events === null || Array.isArray(events)) throw invalid('the logout token has no events claim')
    const event = (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT]
    if (typeof event !== 'object' || event === null || Array.isArray(event)) throw invalid('the logout token\'s events claim has no back-channel logout event')
    if (payload['nonce'] !== undefined) throw invalid('the logout token has a nonce (an ID token is not a logout token)')
    // OpenID Connect Core 3.1.3.7, applied as to ID tokens: with several audiences, azp must name this client.
    if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload['azp'] !== undefined && payload['azp'] !== this.#clientId) {
      throw invalid('the logout token is for another authorized party (azp)')
    }
    const sid = nonEmpty(payload['sid'])
    const sub = nonEmpty(payload.sub)
    if (payload['sid'] !== undefined && sid === undefined) throw invalid('the logout token\'s sid is not a non-empty string')
    if (payload.sub !== undefined && sub === undefined) throw invalid('the logout token\'s sub is not a non-empty string')
    if (sid === undefined && sub === undefined) throw invalid('the logout token names neither a session (sid) nor a subject (sub)')
    const jti = nonEmpty(payload.jti)
    if (jti === undefined) throw invalid('the logout token\'s jti is not a non-empty string')
    const jtiKey = await this.#spend(jti, payload.exp)
    return { sid, sub, release: () => this.#store.delete(jtiKey).catch(() => undefined) }
  }

  /** Records `jti` as used, atomically across every instance; a second use is refused. */
  async #spend(jti: string, exp: number | undefined): Promise<string> {
    const nowSeconds = this.#now() / 1000
    // Long enough to outlive every moment the token could still pass the checks above.
    const acceptedUntil = Math.min(exp ?? Infinity, nowSeconds + MAX_LOGOUT_TOKEN_AGE_SECONDS) + CLOCK_TOLERANCE_SECONDS
    const ttlSeconds = Math.max(1, Math.ceil(acceptedUntil - nowSeconds + MAX_LOGOUT_TOKEN_AGE_SECONDS))
    const key = `jti:logout:${sha256(this.#namespace, this.#issuer, jti)}`
    const first = await guard(() => this.#store.compareAndSet(key, undefined, '1', { ttlSeconds }))
    if (!first) throw invalid('the logout token was used before (jti)')
    return key
  }
}

/** `logout+jwt` (RFC 8725 explicit typing, optionally with the `application/` prefix), or the generic `JWT` many providers put on every token. */
function acceptedType(typ: string): boolean {
  const t = typ.toLowerCase().replace(/^application\//, '')
  return t === 'logout+jwt' || t === 'jwt'
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

/** jose's error code and claim, never the token. */
function reasonOf(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    const claim = (err as { claim?: unknown }).claim
    return [typeof code === 'string' ? code : err.name, typeof claim === 'string' ? `claim ${claim}` : undefined].filter(Boolean).join(', ')
  }
  return 'unknown error'
}

export function invalid(message: string): ResourceTokensError {
  return new ResourceTokensError('invalid_logout_token', message)
}
