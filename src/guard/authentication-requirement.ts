import { ResourceTokensConfigError } from '../errors/resource-tokens-error.js'
import { GuardError, type GuardChallengeContext, type GuardScheme } from './guard-error.js'

/** RFC 9470 requirements of one verifier (one route): acceptable `acr` values, most seconds since authentication. */
export interface AuthenticationRequirement {
  readonly acrValues: readonly string[] | undefined
  readonly maxAgeSeconds: number | undefined
}

const ACR_VALUE = /^[\x21\x23-\x5b\x5d-\x7e]{1,256}$/

/** Validates the `acrValues` and `maxAgeSeconds` options; `undefined` when neither is set. */
export function resolveAuthenticationRequirement(options: { acrValues?: readonly string[] | undefined; maxAgeSeconds?: number | undefined }): AuthenticationRequirement | undefined {
  const { acrValues, maxAgeSeconds } = options
  if (acrValues === undefined && maxAgeSeconds === undefined) return undefined
  if (acrValues !== undefined && (!Array.isArray(acrValues) || acrValues.length === 0 || !acrValues.every((v) => typeof v === 'string' && ACR_VALUE.test(v)))) {
    throw new ResourceTokensConfigError('"acrValues" must be a non-empty array of acr values (no spaces or quotes)')
  }
  if (maxAgeSeconds !== undefined && (typeof maxAgeSeconds !== 'number' || !Number.isInteger(maxAgeSeconds) || maxAgeSeconds < 0)) {
    throw new ResourceTokensConfigError('"maxAgeSeconds" must be an integer of at least 0')
  }
  return { acrValues, maxAgeSeconds }
}

/**
 * RFC 9470 section 3: refuses a token whose `acr` is not one of those required, or whose `auth_time` is
 * older than allowed (or absent), with `insufficient_user_authentication` and a challenge that says what
 * would do. The client library turns that challenge into the login parameters of a step-up.
 */
export function checkAuthentication(claims: Record<string, unknown>, requirement: AuthenticationRequirement, nowMs: number, leewaySeconds: number, scheme: GuardScheme, challenge: GuardChallengeContext): void {
  const refusal = (description: string): GuardError =>
    new GuardError('insufficient_user_authentication', description, {
      scheme,
      challenge,
      ...(requirement.acrValues === undefined ? {} : { acrValues: requirement.acrValues.join(' ') }),
      ...(requirement.maxAgeSeconds === undefined ? {} : { maxAge: requirement.maxAgeSeconds }),
    })
  if (requirement.acrValues !== undefined) {
    const acr = claims['acr']
    if (typeof acr !== 'string' || !requirement.acrValues.includes(acr)) throw refusal('a stronger authentication is required')
  }
  if (requirement.maxAgeSeconds !== undefined) {
    const authTime = claims['auth_time']
    if (typeof authTime !== 'number' || nowMs / 1000 - authTime > requirement.maxAgeSeconds + leewaySeconds) throw refusal('a more recent authentication is required')
  }
}
