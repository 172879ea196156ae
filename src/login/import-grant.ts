import { createRemoteJWKSet, jwtVerify } from 'jose'
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import type { ProviderClient } from '../protocol/provider-client.js'

/**
 * Verifies an ID token handed to `importGrant`: signature against the provider's JWKS, `iss`, and `aud`
 * containing this client. Its age is not checked: it names the user of a grant obtained earlier.
 */
export async function verifyImportedIdToken(provider: ProviderClient, idToken: string): Promise<Record<string, unknown>> {
  const jwksUri = provider.metadata.jwks_uri
  if (typeof jwksUri !== 'string') throw new ResourceTokensError('invalid_id_token', 'the provider publishes no jwks_uri to verify the ID token with')
  try {
    const { payload } = await jwtVerify(idToken, createRemoteJWKSet(new URL(jwksUri)), {
      issuer: provider.metadata.issuer,
      audience: provider.options.clientId,
      currentDate: new Date(0),
    })
    return { ...payload }
  } catch (err) {
    throw new ResourceTokensError('invalid_id_token', `the imported ID token failed verification: ${err instanceof Error ? err.message : 'unknown error'}`)
  }
}
