// @ts-nocheck
// Checks a DPoP proof against the request and the token it accompanies (RFC 9449 sections 4.3 and 7.1),
// with a jti replay cache (in memory, and in a shared store when given) and stateless HMAC nonces (RFC 9449
// sections 9 and 11.1).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

import { EmbeddedJWK, calculateJwkThumbprint, errors, jwtVerify, type JWK, type JWTPayload } from 'jose'

import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import { BoundedMap } from '../lib/bounded-map.js'
import type { TokenStore } from '../stores/token-store.js'
import { GuardError, type GuardChallengeContext } from './guard-error.js'
import type { ResolvedDpop } from './resolve-options.js'

/** At most this many proofs are remembered; beyond it the oldest are forgotten first. */
const REPLAY_CACHE_SIZE = 100_000
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv']

export interface ProofContext {
  /** The request method, upper case. */
  method: string
  /** The request URL in {@link normalizeHtu} form. */
  htu: string
  token: string
  jkt: string
}

export function sha256Base64url(input: string): string {
  return createHash('sha256').update(input).digest('base64url')
}

/**
 * The `htu` comparison form (RFC 9449 section 4.3, RFC 3986 section 6.2): no query or fragment, scheme
 * and host lowercased, default port dropped, dot-segments removed, empty path as `/`, percent-encodings
 * in upper case and unreserved characters decoded. `undefined` when not an http(s) URL.
 */
export function normalizeHtu(value: string): string | undefined {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return undefined
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined
  const path = url.pathname.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16))
    return /[A-Za-z0-9\-._~]/.test(char) ? char : `%${hex.toUpperCase()}`
  })
  return `${url.protocol}//${url.host}${path}`
}

/** Issues and checks stateless nonces: an HMAC of the current time window, valid for two windows. */
export class DpopNonces {
  readonly #key: Uint8Array
  readonly #windowMs: number

  constructor(key: Uint8Array, windowMs: number) {
    this.#key = key
    this.#windowMs = windowMs
  }

  #forWindow(window: number): string {
    return createHmac('sha256', this.#key).update(`dpop-nonce:${window}`).digest('base64url')
  }

  /** The nonce to hand out now. */
  current(now: number): string {
    return this.#forWindow(Math.floor(now / this.#windowMs))
  }

  /** True for a nonce of the current or the previous window. */
  isValid(nonce: string, now: number): boolean {
    const window = Math.floor(now / this.#windowMs)
    const given = Buffer.from(nonce)
    return [window, window - 1].some((w) => {
      const expected = Buffer.from(this.#forWindow(w))
      return expected.length === given.length && timingSafeEqual(expected, given)
    })
  }
}

export class DpopProofVerifier {
  readonly #config: ResolvedDpop
  readonly #context: GuardChallengeContext
  readonly #nonces: DpopNonces | undefined
  readonly #seen = new BoundedMap<true>(REPLAY_CACHE_SIZE)
  readonly #store: TokenStore | undefined
  readonly #audience: string

  constructor(config: ResolvedDpop, context: GuardChallengeContext, shared: { store?: TokenStore | undefined; audience?: string } = {}) {
    this.#config = config
    this.#context = context
    this.#store = shared.store
    this.#audience = shared.audience ?? ''
    this.#nonces = config.nonce === undefined ? undefined : new DpopNonces(config.nonce.key, config.nonce.windowMs)
  }

  /** The nonce to advertise now, when nonces are configured. */
  currentNonce(now: number): string | undefined {
    return this.#nonces?.current(now)
  }

  #invalid(description: string, cause?: unknown): GuardError {
    return new GuardError('invalid_dpop_proof', description, { challenge: this.#context, scheme: 'DPoP', cause })
  }

  /**
   * Checks the proof(s) in `values` (the `DPoP` header values) for the request and token. Throws a
   * {@link GuardError} `invalid_dpop_proof` or `use_dpop_nonce`.
   */
  async verify(values: readonly string[], request: ProofContext, now: number): Promise<void> {
    const { payload, jwk } = await this.#verifySignature(values, now)
    const { jti, htm, htu, iat, ath, nonce } = payload as Record<string, unknown>
    if (typeof jti !== 'string' || jti.length === 0) throw this.#invalid('dpop proof jti must be a non-empty string')
    if (htm !== request.method) throw this.#invalid('dpop proof htm does not match the request method')
    if (typeof htu !== 'string' || normalizeHtu(htu) !== request.htu) {
      throw this.#invalid('dpop proof htu does not match the request url')
    }
    if (typeof ath !== 'string' || ath !== sha256Base64url(request.token)) {
      throw this.#invalid('dpop proof ath does not match the access token')
    }
    let thumbprint: string
    try {
      thumbprint = await calculateJwkThumbprint(jwk, 'sha256')
    } catch (cause) {
      throw this.#invalid('dpop proof jwk is invalid', cause)
    }
    if (thumbprint !== request.jkt) throw this.#invalid('dpop proof key does not match the access token binding')
    this.#checkNonce(nonce, now)

    const window = this.#config.iatWindowSeconds
    const nowSeconds = now / 1000
    if (typeof iat !== 'number' || Math.abs(nowSeconds - iat) > window) {
      throw this.#invalid('dpop proof iat is outside the acceptable window')
    }

    // A proof outlives its acceptance window by nothing: iat + window bounds how long to remember it.
    const replayKey = sha256Base64url(`${request.jkt} ${jti}`)
    const forgetAt = (iat + window) * 1000 + 1000
    if (!this.#seen.addIfAbsent(replayKey, true, forgetAt, now)) {
      throw this.#invalid('dpop proof has already been used')
    }
    if (this.#store !== undefined && !(await this.#firstUseAcrossInstances(replayKey, forgetAt - now))) {
      throw this.#invalid('dpop proof has already been used')
    }
  }

  /**
   * Records the proof in the shared store with an atomic insert-if-absent (compare-and-set against nothing): of
   * all instances, only the first to see a proof gets `true`. A store failure refuses the request (fail closed).
   */
  async #firstUseAcrossInstances(replayKey: string, ttlMs: number): Promise<boolean> {
    const key = `dpop-jti:${sha256Base64url(`${this.#audience} ${replayKey}`)}`
    try {
      return await (this.#store as TokenStore).compareAndSet(key, undefined, '1', { ttlSeconds: Math.max(1, Math.ceil(ttlMs / 1000)) })
    } catch (err) {
      throw new ResourceTokensError('store_unavailable', 'the shared dpop replay cache is unavailable: the proof could not be checked', { cause: err })
    }
  }

  /** The one proof in `values`, its signature checked with its own embedded public key. */
  async #verifySignature(values: readonly string[], now: number): Promise<{ payload: JWTPayload; jwk: JWK }> {
    // A Fetch Headers joins repeated fields with ", "; a compact JWS never contains a comma.
    if (values.length === 0) throw this.#invalid('dpop proof required')
    const proof = values[0]?.trim() ?? ''
    if (values.length > 1 || proof.includes(',')) throw this.#invalid('more than one dpop proof')
    if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(proof)) throw this.#invalid('malformed dpop proof')
    try {
      const result = await jwtVerify(
        proof,
        async (header, token) => {
          const embedded = header.jwk
          if (typeof embedded !== 'object' || embedded === null) throw this.#invalid('dpop proof has no jwk header')
          if (embedded.kty === 'oct' || PRIVATE_JWK_MEMBERS.some((member) => Object.hasOwn(embedded, member))) {
            throw this.#invalid('dpop proof jwk must be a public key')
          }
          return EmbeddedJWK(header, token)
        },
        {
          typ: 'dpop+jwt',
          algorithms: this.#config.algorithms,
          requiredClaims: ['jti', 'htm', 'htu', 'iat'],
          currentDate: new Date(now),
        },
      )
      return { payload: result.payload, jwk: result.protectedHeader.jwk as JWK }
    } catch (err) {
      if (err instanceof GuardError) throw err
      throw this.#invalid(describeProofFailure(err), err)
    }
  }

  /** With nonces on, the proof must carry one of the current or the previous window. */
  #checkNonce(nonce: unknown, now: number): void {
    if (this.#nonces === undefined) return
    if (typeof nonce === 'string' && this.#nonces.isValid(nonce, now)) return
    throw new GuardError(
      'use_dpop_nonce',
      nonce === undefined ? 'resource server requires a nonce in the dpop proof' : 'dpop proof nonce is stale or invalid',
      { challenge: this.#context, scheme: 'DPoP', dpopNonce: this.#nonces.current(now) },
    )
  }
}

function describeProofFailure(err: unknown): string {
  if (err instanceof errors.JOSEAlgNotAllowed) return 'dpop proof alg is not allowed'
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'dpop proof signature is invalid'
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'typ') return 'dpop proof typ must be dpop+jwt'
    if (err.reason === 'missing') return `dpop proof is missing the "${err.claim}" claim`
    return `dpop proof "${err.claim}" claim is invalid`
  }
  if (err instanceof errors.JWTExpired) return 'dpop proof has expired'
  return 'malformed dpop proof'
}
