// @ts-nocheck
// Finds the issuer's jwks_uri and introspection_endpoint from its discovery document, once, single-flight.
// oauth4webapi builds the well-known URLs (OpenID Connect Discovery 1.0 section 4, RFC 8414 section 3.1),
// fetches without following redirects and checks status, JSON and `issuer` (RFC 8414 section 3.3). Kept
// here because it does not do them: trying the RFC 8414 document when the OpenID one fails, refusing
// endpoint URLs that are not https (http only on loopback) before jose or the introspector use them, and
// not caching a failure.
import * as oauth from 'oauth4webapi'

import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import { isSecureOrLoopback } from '../resources/loopback.js'
import { failureStatus, issuerHttpOptions, processResponse } from './issuer-http.js'

export interface AuthorizationServerEndpoints {
  jwksUri: URL | undefined
  introspectionEndpoint: URL | undefined
}

/** The documents to try, in order: OpenID Connect Discovery, then RFC 8414. */
const ALGORITHMS = ['oidc', 'oauth2'] as const

function endpoint(metadata: oauth.AuthorizationServer, name: 'jwks_uri' | 'introspection_endpoint'): URL | undefined {
  const value = metadata[name]
  if (value === undefined) return undefined
  const url = typeof value === 'string' && URL.canParse(value) ? new URL(value) : undefined
  if (url === undefined || !isSecureOrLoopback(url)) {
    throw new ResourceTokensError('discovery_failed', `"${name}" in the discovery document of ${metadata.issuer} must be an https URL`)
  }
  return url
}

async function fetchMetadata(issuer: URL, algorithm: (typeof ALGORITHMS)[number], fetchImpl: typeof fetch): Promise<AuthorizationServerEndpoints> {
  let metadata: oauth.AuthorizationServer
  try {
    const response = await oauth.discoveryRequest(issuer, { ...issuerHttpOptions(issuer, fetchImpl), algorithm })
    metadata = await processResponse(response, (r) => oauth.processDiscoveryResponse(issuer, r))
  } catch (cause) {
    const status = failureStatus(cause)
    const document = algorithm === 'oidc' ? 'openid-configuration' : 'oauth-authorization-server'
    const reason = cause instanceof Error ? cause.message : 'unknown failure'
    throw new ResourceTokensError('discovery_failed', `${document} discovery of ${issuer.href} failed: ${reason}`, status === undefined ? { cause } : { cause, status })
  }
  return { jwksUri: endpoint(metadata, 'jwks_uri'), introspectionEndpoint: endpoint(metadata, 'introspection_endpoint') }
}

/**
 * Returns a function resolving the issuer's endpoints. The first success is kept for the life of the
 * verifier; a failure is not cached, so the next request tries again.
 */
export function createEndpointResolver(issuer: string, fetchImpl: typeof fetch): () => Promise<AuthorizationServerEndpoints> {
  const issuerUrl = new URL(issuer)
  let resolved: AuthorizationServerEndpoints | undefined
  let pending: Promise<AuthorizationServerEndpoints> | undefined
  const discover = async (): Promise<AuthorizationServerEndpoints> => {
    let lastError: unknown
    for (const algorithm of ALGORITHMS) {
      try {
        return await fetchMetadata(issuerUrl, algorithm, fetchImpl)
      } catch (err) {
        lastError = err
      }
    }
    throw lastError
  }
  return async () => {
    if (resolved !== undefined) return resolved
    pending ??= discover().then(
      (endpoints) => {
        resolved = endpoints
        pending = undefined
        return endpoints
      },
      (err: unknown) => {
        pending = undefined
        throw err
      },
    )
    return pending
  }
}
