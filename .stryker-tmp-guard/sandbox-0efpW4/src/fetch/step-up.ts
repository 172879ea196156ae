// @ts-nocheck
import { ResourceTokensError, type LoginParameters } from '../errors/resource-tokens-error.js'
import type { RegisteredResource } from '../resources/resource.js'
import { loginFor } from '../tokens/grant-coverage.js'
import type { ChallengeFacts } from './challenges.js'

const ACR_VALUES = /^[\x21\x23-\x5b\x5d-\x7e]{1,256}( [\x21\x23-\x5b\x5d-\x7e]{1,256}){0,9}$/

/**
 * RFC 9470 section 3: the resource wants a stronger (`acr_values`) or fresher (`max_age`) authentication than
 * the token's. The error carries the login that would give it: the resource again, with those values. Values
 * that are not well formed are left out (a resource must not write into the authorization request).
 */
export function stepUpError(resource: RegisteredResource, hop: { method: string; url: URL }, challenge: ChallengeFacts): ResourceTokensError {
  const login: LoginParameters = loginFor(resource)
  if (challenge.acrValues !== undefined && ACR_VALUES.test(challenge.acrValues)) login.acrValues = challenge.acrValues
  if (challenge.maxAge !== undefined && /^\d{1,9}$/.test(challenge.maxAge)) login.maxAge = Number(challenge.maxAge)
  return new ResourceTokensError('insufficient_user_authentication', `${hop.method} ${hop.url.origin}${hop.url.pathname} needs a stronger or more recent sign-in than the ${resource.name} token carries (RFC 9470)`, {
    status: 401,
    error: 'insufficient_user_authentication',
    login,
  })
}
