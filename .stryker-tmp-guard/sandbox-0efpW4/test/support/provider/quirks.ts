// @ts-nocheck
// Behaviours of widely deployed providers that oidc-provider does not have (issue 7), as small rewrites
// in front of it. Each is off by default; tests that switch one on say "(simulated provider quirk: ...)".
import type { IncomingMessage, ServerResponse } from 'node:http'

import { readAll } from '../http.js'
import type { AccessTokenRewrite, TokenFault } from './faults.js'
import type { Instrumentation, TokenRequestRecord } from './instrumentation.js'
import { rewriteDiscovery, rewritesDiscovery, type InteropQuirks } from './interop-quirks.js'
import { editJsonResponse, rewriteResponse } from './interpose.js'
import type { RequestListener } from './oidc-provider-module.js'
import { CLIENT_AUTH_ROUTES, DISCOVERY } from './routes.js'
import type { AdapterObserver, Payload, Storage } from './storage.js'

/**
 * Switches for behaviours seen at widely deployed providers (issue 7). Each is off by default. Where
 * oidc-provider can be configured to do it, it is (its own checks then give the error); the rest is a
 * small rewrite in front of it, and the tests using those say "(simulated provider quirk: ...)".
 */
export interface ProviderQuirks extends InteropQuirks {
  /**
   * A refresh with `scope` narrows the refresh token to that scope: the rotated one ('rotated'), or the very
   * token presented when refresh tokens do not rotate ('same', implies no rotation). The provider's own scope
   * check then refuses any other scope with invalid_scope (RFC 6749 section 6 forbids the narrowing).
   */
  narrowRefreshToken?: 'rotated' | 'same'
  /** `scope` on refresh is ignored: the access token carries the refresh token's full scope. */
  ignoreRefreshScope?: boolean
  /** `resource` on refresh sticks to the (rotated) refresh token: any other resource is invalid_target afterwards. */
  stickyResource?: boolean
  /** On reuse of a rotated refresh token: revoke the whole grant (oidc-provider's default), or only reject the request. */
  reuse?: 'revoke-grant' | 'reject-only'
  /** A refresh that arrives while another with the same refresh token is in flight gets an HTML 500 or invalid_grant (counted as reuse). */
  concurrentRefresh?: 'server-error' | 'invalid_grant'
  /** Error responses of the token endpoint become an empty 400 or an HTML 500 page instead of JSON. */
  errorBody?: 'empty-400' | 'html-500'
  /** Endpoints left out of the discovery document (they still work at their usual routes). */
  omitDiscovery?: Array<'revocation_endpoint' | 'introspection_endpoint' | 'end_session_endpoint'>
  /** RFC 9207 `iss` is sent in authorization responses but `authorization_response_iss_parameter_supported` is not advertised. */
  issUnadvertised?: boolean
  /** The discovery document answers only at `/.well-known/openid-configuration/` (trailing slash); 404 without. */
  discoveryTrailingSlashOnly?: boolean
  /** client_secret_basic credentials that were percent-encoded (RFC 6749 section 2.3.1) are refused with invalid_client. */
  rejectEncodedBasic?: boolean
  /** Refresh responses never carry an ID token. */
  noIdTokenOnRefresh?: boolean
  /** `sub` is an opaque pairwise identifier (subject_type pairwise for the default client). */
  opaqueSub?: boolean
  /** ID tokens carry `auth_time: 0`. */
  authTimeZero?: boolean
  /** Token responses that carry a refresh token also say `refresh_expires_in` (seconds), as Keycloak does. */
  refreshExpiresIn?: number
  /** The token endpoint ignores DPoP: the `DPoP` header is dropped before oidc-provider sees it, so it issues Bearer tokens. */
  ignoreDPoP?: boolean
}

/** The HTML error page some providers answer with. */
export const HTML_500 = {
  status: 500,
  body: '<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head><body><h1>Something went wrong</h1></body></html>',
  contentType: 'text/html',
} as const

/** Narrows a stored refresh token to what `record` asked for (quirks narrowRefreshToken, stickyResource). */
export function narrowRefreshToken(quirks: ProviderQuirks, payload: Payload, record: TokenRequestRecord): void {
  if (quirks.narrowRefreshToken !== undefined && record.scope !== undefined && typeof payload['scope'] === 'string') {
    const asked = new Set(record.scope.split(' '))
    payload['scope'] = payload['scope'].split(' ').filter((s) => asked.has(s)).join(' ')
  }
  if (quirks.stickyResource === true && record.resource?.[0] !== undefined) payload['resource'] = record.resource[0]
}

/** The quirks' part of the storage callbacks: narrowing rotated refresh tokens, keeping grants on reuse. */
export function quirkStorageHooks(quirks: ProviderQuirks, instrumentation: Instrumentation): Pick<AdapterObserver, 'onUpsert' | 'mayRevokeGrant'> {
  return {
    onUpsert(model, _id, payload) {
      // quirks narrowRefreshToken 'rotated' / stickyResource: the rotated refresh token keeps only what was asked
      const record = instrumentation.current()
      if (model === 'RefreshToken' && record?.grantType === 'refresh_token' && quirks.narrowRefreshToken !== 'same') {
        narrowRefreshToken(quirks, payload, record)
      }
    },
    mayRevokeGrant() {
      return !(quirks.reuse === 'reject-only' && instrumentation.current()?.reusedRefreshToken === true)
    },
  }
}

/**
 * Quirk concurrentRefresh: which refresh tokens have a refresh in flight. A token is claimed at arrival,
 * so a duplicate delayed by a test hook still overlaps, and released when its response closes.
 */
export class ConcurrentRefreshes {
  readonly #quirks: ProviderQuirks
  readonly #inFlight = new Set<string>() // sha256 of refresh tokens

  constructor(quirks: ProviderQuirks) {
    this.#quirks = quirks
  }

  /** True when `record` overlaps another refresh with the same token; otherwise claims the token until `res` closes. */
  overlaps(record: TokenRequestRecord, res: ServerResponse): boolean {
    const hash = record.refreshTokenHash
    if (this.#quirks.concurrentRefresh === undefined || hash === undefined) return false
    if (this.#inFlight.has(hash)) return true
    this.#inFlight.add(hash)
    res.once('close', () => this.#inFlight.delete(hash))
    return false
  }

  /** What an overlapping refresh gets. */
  fault(): Exclude<TokenFault, AccessTokenRewrite> {
    if (this.#quirks.concurrentRefresh === 'server-error') return HTML_500
    return { status: 400, body: JSON.stringify({ error: 'invalid_grant', error_description: 'concurrent use' }) }
  }
}

/** Quirk ignoreRefreshScope: the token request body oidc-provider gets, `scope` dropped from refreshes. */
export function tokenRequestToReplay(quirks: ProviderQuirks, record: TokenRequestRecord, body: URLSearchParams, raw: Buffer): Buffer {
  if (quirks.ignoreRefreshScope !== true || record.grantType !== 'refresh_token' || !body.has('scope')) return raw
  const stripped = new URLSearchParams(body)
  stripped.delete('scope')
  return Buffer.from(stripped.toString(), 'utf8')
}

/** What the token-endpoint quirks need besides the request. */
export interface TokenResponseQuirkContext {
  quirks: ProviderQuirks
  /** The provider's `rotateRefreshToken` option as given (undefined: the default). */
  rotateRefreshToken: boolean | undefined
  storage: Storage
}

/** Quirks that change what the token endpoint answers: error bodies, no ID token, narrowing a non-rotating refresh token. */
export function rewriteTokenResponse(ctx: TokenResponseQuirkContext, res: ServerResponse, record: TokenRequestRecord, refreshToken: string | null): void {
  const { quirks } = ctx
  const narrowsSameToken = quirks.narrowRefreshToken === 'same' || (quirks.stickyResource === true && ctx.rotateRefreshToken === false)
  if (quirks.errorBody === undefined && quirks.noIdTokenOnRefresh !== true && !narrowsSameToken && quirks.refreshExpiresIn === undefined) return
  rewriteResponse(res, (status, body) => {
    if (status >= 400 && quirks.errorBody === 'empty-400') return { status: 400, body: '' }
    if (status >= 400 && quirks.errorBody === 'html-500') return { ...HTML_500 }
    // quirk refreshExpiresIn: the refresh token's lifetime in every response that carries one
    if (status === 200 && quirks.refreshExpiresIn !== undefined) {
      const json = JSON.parse(body) as Record<string, unknown>
      if (typeof json['refresh_token'] === 'string') json['refresh_expires_in'] = quirks.refreshExpiresIn
      if (record.grantType === 'refresh_token' && quirks.noIdTokenOnRefresh === true) delete json['id_token']
      return { status, body: JSON.stringify(json), contentType: 'application/json; charset=utf-8' }
    }
    if (status !== 200 || record.grantType !== 'refresh_token') return undefined
    if (refreshToken !== null && narrowsSameToken) {
      // Not rotated: the token presented is the one that keeps only what was asked.
      const stored = ctx.storage.payload('RefreshToken', refreshToken)
      if (stored !== undefined) narrowRefreshToken(quirks, stored, record)
    }
    if (quirks.noIdTokenOnRefresh !== true) return undefined
    const json = JSON.parse(body) as Record<string, unknown>
    delete json['id_token']
    return { status, body: JSON.stringify(json), contentType: 'application/json; charset=utf-8' }
  })
}

/** Quirks of the discovery document: endpoints left out, RFC 9207 not advertised, served only with a trailing slash. */
export async function serveDiscovery(quirks: ProviderQuirks, callback: RequestListener, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const slash = url.pathname.endsWith('/')
  if (quirks.discoveryTrailingSlashOnly === true && !slash) {
    res.statusCode = 404
    res.setHeader('content-type', 'text/html')
    res.end('<html><body><h1>404 Not Found</h1></body></html>')
    return
  }
  if (slash) req.url = `${DISCOVERY}${url.search}`
  const omit = [...(quirks.omitDiscovery ?? []), ...(quirks.issUnadvertised === true ? ['authorization_response_iss_parameter_supported'] : [])]
  if (omit.length > 0 || rewritesDiscovery(quirks)) {
    editJsonResponse(res, (json) => {
      for (const name of omit) delete json[name]
      rewriteDiscovery(quirks, json)
    })
  }
  await callback(req, res)
}

/**
 * Quirk rejectEncodedBasic: the provider compares the Basic credentials without form-decoding them, so a
 * POST to a client-authenticated route with a percent sign in its credentials fails. True when it answered.
 */
export async function refuseEncodedBasic(quirks: ProviderQuirks, issuer: string, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  if (quirks.rejectEncodedBasic !== true || req.method !== 'POST' || !CLIENT_AUTH_ROUTES.has(url.pathname) || !hasEncodedBasic(req)) return false
  await readAll(req)
  res.statusCode = 401
  // as oidc-provider itself answers a failed client authentication (RFC 6749 section 5.2)
  res.setHeader('www-authenticate', `Basic realm="${issuer}", error="invalid_client", error_description="client authentication failed"`)
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify({ error: 'invalid_client', error_description: 'client authentication failed' }))
  return true
}

function hasEncodedBasic(req: IncomingMessage): boolean {
  const header = req.headers.authorization ?? ''
  if (!/^basic /i.test(header)) return false
  return Buffer.from(header.slice(6).trim(), 'base64').toString('utf8').includes('%')
}
