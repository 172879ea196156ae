// @ts-nocheck
import { createRemoteJWKSet, customFetch, jwtVerify } from 'jose'
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import type { ProviderClient } from '../protocol/provider-client.js'

/**
 * Verifies an ID token handed to `importGrant`: signature against the provider's JWKS, `iss`, and `aud`
 * containing this client. Its age is not checked: it names the user of a grant obtained earlier.
 */
export async function verifyImportedIdToken(provider: ProviderClient, idToken: string, options: { clientId: string; timeoutSeconds: number; fetch: typeof fetch }): Promise<Record<string, unknown>> {
  const jwksUri = provider.metadata.jwks_uri
  if (typeof jwksUri !== 'string') throw new ResourceTokensError('invalid_id_token', 'the provider publishes no jwks_uri to verify the ID token with')
  try {
    const jwks = createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: options.timeoutSeconds * 1000, [customFetch]: options.fetch })
    const { payload } = await jwtVerify(idToken, jwks, {
      issuer: provider.metadata.issuer,
      audience: options.clientId,
      currentDate: new Date(0),
    })
    // OpenID Connect Core 3.1.3.7: with several audiences, azp must name this client.
    if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload['azp'] !== options.clientId) {
      throw new Error('several audiences and no azp naming this client')
    }
    return { ...payload }
  } catch (err) {
    throw new ResourceTokensError('invalid_id_token', `the imported ID token failed verification: ${err instanceof Error ? err.message : 'unknown error'}`)
  }
}
