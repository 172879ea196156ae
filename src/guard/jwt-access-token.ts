// RFC 9068 JWT access tokens: signature by the issuer's JWKS (jose, with its refetch cooldown), `typ`,
// `iss`, `aud`, `exp`, `nbf`. A failure to reach the issuer is a ResourceTokensError, never a refusal.
import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTVerifyOptions, type JWTVerifyResult } from 'jose'

import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import type { AuthorizationServerEndpoints } from './authorization-server-metadata.js'
import type { GuardScheme, TokenRefusal } from './guard-error.js'
import type { ResolvedOptions } from './resolve-options.js'

type JwksFunction = ReturnType<typeof createRemoteJWKSet>

// Marks a failure to reach the issuer while resolving a key, so it is not mistaken for a bad token.
class KeySourceUnavailable extends Error {}

export class JwtAccessTokens {
  readonly #config: ResolvedOptions
  readonly #resolveEndpoints: () => Promise<AuthorizationServerEndpoints>
  readonly #refuse: TokenRefusal
  #jwks: Promise<JwksFunction> | undefined

  constructor(config: ResolvedOptions, resolveEndpoints: () => Promise<AuthorizationServerEndpoints>, refuse: TokenRefusal) {
    this.#config = config
    this.#resolveEndpoints = resolveEndpoints
    this.#refuse = refuse
  }

  /** The verified claims of `token`. Throws a refusal, or `discovery_failed` when the keys cannot be fetched. */
  async verify(token: string, scheme: GuardScheme): Promise<Record<string, unknown>> {
    const config = this.#config
    const verifyOptions: JWTVerifyOptions = {
      issuer: config.issuer,
      audience: config.audience,
      algorithms: config.algorithms,
      typ: 'at+jwt', // jose compares media types, so `application/at+jwt` passes too
      clockTolerance: config.leewaySeconds,
      requiredClaims: ['exp'],
      currentDate: new Date(config.now()),
    }
    try {
      return (await this.#verifyWithJwks(token, verifyOptions)).payload
    } catch (err) {
      if (!(err instanceof KeySourceUnavailable)) throw this.#refuse('invalid_token', describeJwtFailure(err), scheme, { cause: err })
      const cause = err.cause
      if (cause instanceof ResourceTokensError) throw cause
      throw new ResourceTokensError('discovery_failed', `could not fetch the json web key set of ${config.issuer}`, { cause })
    }
  }

  async #verifyWithJwks(token: string, options: JWTVerifyOptions): Promise<JWTVerifyResult> {
    try {
      return await jwtVerify(token, (header, jws) => this.#key(header, jws), options)
    } catch (err) {
      // Several keys fit a token without `kid`: try each (see jose's createRemoteJWKSet docs).
      if (!(err instanceof errors.JWKSMultipleMatchingKeys)) throw err
      return verifyWithAnyKey(token, err, options)
    }
  }

  async #key(...args: Parameters<JwksFunction>): ReturnType<JwksFunction> {
    let keys: JwksFunction
    try {
      keys = await this.#getJwks()
    } catch (cause) {
      throw new KeySourceUnavailable('jwks unavailable', { cause })
    }
    try {
      return await keys(...args)
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) throw err
      throw new KeySourceUnavailable('jwks unavailable', { cause: err })
    }
  }

  #getJwks(): Promise<JwksFunction> {
    const config = this.#config
    this.#jwks ??= (async () => {
      const url = config.jwksUri ?? (await this.#resolveEndpoints()).jwksUri
      if (url === undefined) throw new ResourceTokensError('discovery_failed', `the discovery document of ${config.issuer} has no "jwks_uri"`)
      return createRemoteJWKSet(url, {
        cooldownDuration: config.jwksCooldownMs,
        [customFetch]: (input, init) => config.fetch(input, init),
      })
    })().catch((err: unknown) => {
      this.#jwks = undefined
      throw err
    })
    return this.#jwks
  }
}

async function verifyWithAnyKey(
  token: string,
  candidates: errors.JWKSMultipleMatchingKeys,
  options: JWTVerifyOptions,
): Promise<JWTVerifyResult> {
  let lastError: unknown = candidates
  for await (const key of candidates) {
    try {
      return await jwtVerify(token, key, options)
    } catch (err) {
      lastError = err
      if (!(err instanceof errors.JWSSignatureVerificationFailed)) break
    }
  }
  throw lastError
}

function describeJwtFailure(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'access token expired'
  if (err instanceof errors.JOSEAlgNotAllowed) return 'access token alg is not allowed'
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'access token signature is invalid'
  if (err instanceof errors.JWKSNoMatchingKey) return 'no key of the issuer matches the access token'
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return `access token is missing the "${err.claim}" claim`
    switch (err.claim) {
      case 'typ':
        return 'access token typ must be at+jwt'
      case 'iss':
        return 'access token has an unexpected issuer'
      case 'aud':
        return 'access token is not intended for this resource'
      case 'nbf':
        return 'access token is not yet valid'
      default:
        return `access token "${err.claim}" claim is invalid`
    }
  }
  return 'malformed access token'
}
