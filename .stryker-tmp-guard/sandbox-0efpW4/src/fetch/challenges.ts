// @ts-nocheck
import type { WWWAuthenticateChallenge } from 'oauth4webapi'

/** The `error` parameter of the first Bearer or DPoP challenge that has one. */
export function challengeError(challenges: readonly WWWAuthenticateChallenge[]): ChallengeFacts | undefined {
  for (const challenge of challenges) {
    if (challenge.scheme !== 'bearer' && challenge.scheme !== 'dpop') continue
    const error = challenge.parameters.error
    if (typeof error === 'string') {
      const { scope, resource_metadata: resourceMetadata, acr_values: acrValues, max_age: maxAge } = challenge.parameters
      return { error, scope, resourceMetadata, acrValues, maxAge }
    }
  }
  return undefined
}

/** What a Bearer or DPoP challenge says (RFC 6750 section 3, RFC 9728 section 5.1, RFC 9470 section 3). */
export interface ChallengeFacts {
  error: string
  scope: string | undefined
  resourceMetadata: string | undefined
  /** RFC 9470: the authentication context classes the resource accepts. */
  acrValues: string | undefined
  /** RFC 9470: the most seconds since the user authenticated that the resource accepts (a string, as sent). */
  maxAge: string | undefined
}
