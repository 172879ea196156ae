// @ts-nocheck
import type { DoctorClientAuth } from './arguments.js'

/** `yes`/`no` from discovery or a probe; `unknown` where nothing says (no standard metadata, or not probed). */
export type CapabilityStatus = 'yes' | 'no' | 'unknown'

/** One row of the doctor's table. */
export interface Capability {
  id: CapabilityId
  name: string
  status: CapabilityStatus
  detail: string
}

export type CapabilityId =
  | 'discovery'
  | 'pkce'
  | 'refresh_token'
  | 'offline_access'
  | 'resource_indicators'
  | 'dpop'
  | 'par'
  | 'iss_parameter'
  | 'revocation'
  | 'introspection'
  | 'end_session'
  | 'token_exchange'
  | 'jwt_access_tokens'
  | 'unknown_refresh_token'
  | 'client_auth'

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange'

/**
 * What the discovery document says about the features this library uses. Where the metadata is silent
 * the row says `unknown` rather than guess; resource indicators and JWT access tokens have no standard
 * metadata at all, so only a login can tell.
 */
export function readCapabilities(metadata: Readonly<Record<string, unknown>>, discoveryUrl: string, clientAuth: DoctorClientAuth): Capability[] {
  const grants = stringList(metadata['grant_types_supported'])
  const scopes = stringList(metadata['scopes_supported'])
  const pkce = stringList(metadata['code_challenge_methods_supported'])
  const dpop = stringList(metadata['dpop_signing_alg_values_supported'])
  const authMethods = stringList(metadata['token_endpoint_auth_methods_supported'])
  const endpoint = (name: string): string | undefined => (typeof metadata[name] === 'string' ? (metadata[name]) : undefined)
  const par = endpoint('pushed_authorization_request_endpoint')

  return [
    { id: 'discovery', name: 'Discovery (OpenID Connect)', status: 'yes', detail: discoveryUrl },
    pkce === undefined
      ? { id: 'pkce', name: 'PKCE S256 (RFC 7636)', status: 'unknown', detail: 'code_challenge_methods_supported not advertised; the library always sends S256' }
      : { id: 'pkce', name: 'PKCE S256 (RFC 7636)', status: pkce.includes('S256') ? 'yes' : 'no', detail: `methods: ${pkce.join(', ') || 'none'}` },
    grants === undefined
      ? { id: 'refresh_token', name: 'Refresh token grant', status: 'unknown', detail: 'grant_types_supported not advertised' }
      : { id: 'refresh_token', name: 'Refresh token grant', status: grants.includes('refresh_token') ? 'yes' : 'no', detail: grants.includes('refresh_token') ? '' : 'not in grant_types_supported: per-resource tokens need refresh tokens' },
    scopes === undefined
      ? { id: 'offline_access', name: 'offline_access scope', status: 'unknown', detail: 'scopes_supported not advertised' }
      : scopes.includes('offline_access')
        ? { id: 'offline_access', name: 'offline_access scope', status: 'yes', detail: 'asked for at login, with prompt=consent' }
        : { id: 'offline_access', name: 'offline_access scope', status: 'unknown', detail: 'not in scopes_supported (OpenID Connect Discovery lets providers leave scopes out): asked for at login anyway; --login tells' },
    { id: 'resource_indicators', name: 'Resource indicators (RFC 8707)', status: 'unknown', detail: 'no standard metadata: unknown until --login' },
    dpop === undefined || dpop.length === 0
      ? { id: 'dpop', name: 'DPoP (RFC 9449)', status: 'no', detail: 'dpop_signing_alg_values_supported not advertised' }
      : { id: 'dpop', name: 'DPoP (RFC 9449)', status: 'yes', detail: `algorithms: ${dpop.join(', ')}` },
    par === undefined
      ? { id: 'par', name: 'Pushed authorization requests (RFC 9126)', status: 'no', detail: 'login parameters go through the browser' }
      : { id: 'par', name: 'Pushed authorization requests (RFC 9126)', status: 'yes', detail: metadata['require_pushed_authorization_requests'] === true ? 'required by the provider' : 'used by default (pushedAuthorizationRequests: auto)' },
    metadata['authorization_response_iss_parameter_supported'] === true
      ? { id: 'iss_parameter', name: 'iss in authorization responses (RFC 9207)', status: 'yes', detail: 'mix-up defence: required and checked' }
      : { id: 'iss_parameter', name: 'iss in authorization responses (RFC 9207)', status: 'no', detail: 'not advertised: checked only when the provider sends it' },
    endpointRow('revocation', 'Token revocation (RFC 7009)', endpoint('revocation_endpoint'), 'logout cannot revoke tokens; set endpoints.revocation if the provider has an unadvertised one'),
    endpointRow('introspection', 'Token introspection (RFC 7662)', endpoint('introspection_endpoint'), 'resource servers can verify JWT access tokens only'),
    endpointRow('end_session', 'End session (RP-initiated logout)', endpoint('end_session_endpoint'), 'logout returns no provider logout URL; set endpoints.endSession if there is one'),
    grants === undefined
      ? { id: 'token_exchange', name: 'Token exchange (RFC 8693)', status: 'unknown', detail: 'grant_types_supported not advertised' }
      : { id: 'token_exchange', name: 'Token exchange (RFC 8693)', status: grants.includes(TOKEN_EXCHANGE_GRANT) ? 'yes' : 'no', detail: grants.includes(TOKEN_EXCHANGE_GRANT) ? 'downscoping: "token-exchange" is possible' : '' },
    { id: 'jwt_access_tokens', name: 'JWT access tokens (RFC 9068)', status: 'unknown', detail: 'unknown until --login' },
    { id: 'unknown_refresh_token', name: 'Unknown refresh token is invalid_grant', status: 'unknown', detail: 'unknown until --login' },
    authMethods === undefined
      ? { id: 'client_auth', name: 'Client authentication', status: 'unknown', detail: `token_endpoint_auth_methods_supported not advertised (default client_secret_basic); using ${clientAuth}` }
      : { id: 'client_auth', name: 'Client authentication', status: authMethods.includes(clientAuth) ? 'yes' : 'no', detail: `${authMethods.join(', ')}; using ${clientAuth}` },
  ]
}

/**
 * The method to authenticate with when none was given: client_secret_basic (the RFC 6749 default) unless
 * the provider lists methods without it and with client_secret_post.
 */
export function chooseClientAuth(metadata: Readonly<Record<string, unknown>>): DoctorClientAuth {
  const methods = stringList(metadata['token_endpoint_auth_methods_supported'])
  if (methods !== undefined && !methods.includes('client_secret_basic') && methods.includes('client_secret_post')) return 'client_secret_post'
  return 'client_secret_basic'
}

function endpointRow(id: CapabilityId, name: string, url: string | undefined, missing: string): Capability {
  return url === undefined ? { id, name, status: 'no', detail: `not in discovery: ${missing}` } : { id, name, status: 'yes', detail: url }
}

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined
}
