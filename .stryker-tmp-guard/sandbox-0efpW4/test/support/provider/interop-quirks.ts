// @ts-nocheck
// Provider quirks of issue 13 (interop, second round), as small rewrites the test provider applies in front of
// oidc-provider. Each is off by default; tests using one say "(simulated provider quirk: ...)". The token
// endpoint, the discovery handler and the router call these functions; ProviderQuirks includes InteropQuirks.
import type { RewrittenResponse } from './interpose.js'

/** Switches for the second round of provider behaviours seen in the wild (issue 13). */
export interface InteropQuirks {
  /**
   * Successful refresh responses leave out `scope` (RFC 6749 section 5.1 allows it only when the scope is exactly
   * what was asked). With `ignoreRefreshScope` this is the provider of issue 13: a broader token, and silence.
   */
  omitRefreshScope?: boolean
  /**
   * A refresh token the provider no longer knows (unknown, expired, revoked, reused) is answered with
   * `400 invalid_request` instead of `invalid_grant` (RFC 6749 section 5.2).
   */
  unknownRefreshToken?: 'invalid_request'
  /** Scopes left out of `scopes_supported` in discovery (still supported: OpenID Connect Discovery allows this). */
  unadvertisedScopes?: string[]
  /** The revocation endpoint answers every request with an HTML page and HTTP 200, and revokes nothing. */
  revocationHtml?: boolean
  /**
   * `resource` on refresh is ignored: every refreshed token is for the first registered resource (a provider with
   * one default audience). Pair with `ignoreRefreshScope`, or the provider refuses the other resources' scopes.
   */
  refreshResource?: 'first-registered'
}

/**
 * The refresh request as the provider treats it (quirk refreshResource): `resource` replaced by `firstIndicator`.
 * Undefined: the request is used as sent.
 */
export function rewriteRefreshRequest(quirks: InteropQuirks, body: URLSearchParams, firstIndicator: string | undefined): URLSearchParams | undefined {
  if (quirks.refreshResource !== 'first-registered' || firstIndicator === undefined || body.get('grant_type') !== 'refresh_token' || !body.has('resource')) return undefined
  const rewritten = new URLSearchParams(body)
  rewritten.delete('resource')
  rewritten.set('resource', firstIndicator)
  return rewritten
}

/** Whether any quirk here needs to see token-endpoint responses. */
export function rewritesTokenResponses(quirks: InteropQuirks): boolean {
  return quirks.omitRefreshScope === true || quirks.unknownRefreshToken !== undefined
}

/**
 * Rewrites what the token endpoint is about to answer to a `grantType` request: `scope` dropped from successful
 * refresh responses; `invalid_grant` on refresh turned into `invalid_request`. Undefined: leave it as is.
 */
export function rewriteTokenResponse(quirks: InteropQuirks, grantType: string, status: number, body: string): RewrittenResponse | undefined {
  if (grantType !== 'refresh_token') return undefined
  const json = parseObject(body)
  if (json === undefined) return undefined
  if (status === 200 && quirks.omitRefreshScope === true && 'scope' in json) {
    delete json['scope']
    return { status, body: JSON.stringify(json), contentType: 'application/json; charset=utf-8' }
  }
  if (status === 400 && quirks.unknownRefreshToken === 'invalid_request' && json['error'] === 'invalid_grant') {
    return { status: 400, body: JSON.stringify({ error: 'invalid_request', error_description: 'refresh token not found' }), contentType: 'application/json; charset=utf-8' }
  }
  return undefined
}

/** Discovery metadata as this provider publishes it (mutates and returns `metadata`). */
export function rewriteDiscovery(quirks: InteropQuirks, metadata: Record<string, unknown>): Record<string, unknown> {
  const hidden = new Set(quirks.unadvertisedScopes ?? [])
  const scopes = metadata['scopes_supported']
  if (hidden.size > 0 && Array.isArray(scopes)) metadata['scopes_supported'] = scopes.filter((s) => !hidden.has(s as string))
  return metadata
}

/** Whether the discovery document needs rewriting for these quirks. */
export function rewritesDiscovery(quirks: InteropQuirks): boolean {
  return (quirks.unadvertisedScopes ?? []).length > 0
}

/** The HTML page a revocation request gets instead of reaching oidc-provider; undefined: the real endpoint answers. */
export function revocationAnswer(quirks: InteropQuirks): RewrittenResponse | undefined {
  if (quirks.revocationHtml !== true) return undefined
  return { status: 200, body: REVOCATION_HTML, contentType: 'text/html; charset=utf-8' }
}

const REVOCATION_HTML = '<!DOCTYPE html><html><head><title>Example ID</title></head><body><h1>Welcome to Example ID</h1><p>Sign in to continue.</p></body></html>'

function parseObject(body: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(body) as unknown
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}
