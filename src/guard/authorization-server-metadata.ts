// Finds the issuer's jwks_uri and introspection_endpoint from its discovery document (OpenID Connect
// Discovery 1.0 section 4, falling back to RFC 8414 section 3), once, single-flight.
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import { isSecureOrLoopback } from '../resources/loopback.js'

const TIMEOUT_MS = 5000

export interface AuthorizationServerEndpoints {
  jwksUri: URL | undefined
  introspectionEndpoint: URL | undefined
}

/** The two well-known URLs to try, in order (RFC 8414 section 3.1 inserts its suffix before the path). */
export function discoveryUrls(issuer: string): URL[] {
  const url = new URL(issuer)
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '')
  return [
    new URL(`${url.origin}${path}/.well-known/openid-configuration`),
    new URL(`${url.origin}/.well-known/oauth-authorization-server${path}`),
  ]
}

function endpoint(metadata: Record<string, unknown>, name: string, source: URL): URL | undefined {
  const value = metadata[name]
  if (value === undefined) return undefined
  let url: URL | undefined
  try {
    if (typeof value === 'string') url = new URL(value)
  } catch {
    url = undefined
  }
  if (url === undefined || !isSecureOrLoopback(url)) {
    throw new ResourceTokensError('discovery_failed', `"${name}" in ${source.href} must be an https URL`)
  }
  return url
}

async function fetchMetadata(url: URL, issuer: string, fetchImpl: typeof fetch): Promise<AuthorizationServerEndpoints> {
  let response: Response
  try {
    response = await fetchImpl(url.href, {
      headers: { accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    })
  } catch (cause) {
    throw new ResourceTokensError('discovery_failed', `could not fetch ${url.href}`, { cause })
  }
  if (response.status !== 200) {
    await response.body?.cancel()
    throw new ResourceTokensError('discovery_failed', `${url.href} answered ${response.status}`, { status: response.status })
  }
  let metadata: unknown
  try {
    metadata = await response.json()
  } catch (cause) {
    throw new ResourceTokensError('discovery_failed', `${url.href} did not return JSON`, { cause })
  }
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new ResourceTokensError('discovery_failed', `${url.href} did not return a JSON object`)
  }
  const record = metadata as Record<string, unknown>
  // RFC 8414 section 3.3: the issuer in the document must be identical to the one we asked about.
  if (record['issuer'] !== issuer) {
    throw new ResourceTokensError('discovery_failed', `"issuer" in ${url.href} does not match the configured issuer`)
  }
  return {
    jwksUri: endpoint(record, 'jwks_uri', url),
    introspectionEndpoint: endpoint(record, 'introspection_endpoint', url),
  }
}

/**
 * Returns a function resolving the issuer's endpoints. The first success is kept for the life of the
 * verifier; a failure is not cached, so the next request tries again.
 */
export function createEndpointResolver(issuer: string, fetchImpl: typeof fetch): () => Promise<AuthorizationServerEndpoints> {
  let resolved: AuthorizationServerEndpoints | undefined
  let pending: Promise<AuthorizationServerEndpoints> | undefined
  const discover = async (): Promise<AuthorizationServerEndpoints> => {
    let lastError: unknown
    for (const url of discoveryUrls(issuer)) {
      try {
        return await fetchMetadata(url, issuer, fetchImpl)
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
