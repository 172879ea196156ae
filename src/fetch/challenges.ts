import type { WWWAuthenticateChallenge } from 'oauth4webapi'

/** The `error` parameter of the first Bearer or DPoP challenge that has one. */
export function challengeError(challenges: readonly WWWAuthenticateChallenge[]): { error: string; scope: string | undefined; resourceMetadata: string | undefined } | undefined {
  for (const challenge of challenges) {
    if (challenge.scheme !== 'bearer' && challenge.scheme !== 'dpop') continue
    const error = challenge.parameters.error
    if (typeof error === 'string') return { error, scope: challenge.parameters.scope, resourceMetadata: challenge.parameters['resource_metadata'] }
  }
  return undefined
}
