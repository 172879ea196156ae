// @ts-nocheck
import * as oauth from 'oauth4webapi'
import { ResourceTokensError } from '../errors/resource-tokens-error.js'

/** What a failed provider call means for the grant. */
export type ProviderFailure =
  | { kind: 'invalid_grant'; error: string; status: number }
  | { kind: 'oauth_error'; error: string; status: number; description: string | undefined }
  | { kind: 'transient'; status: number | undefined }
  | { kind: 'id_token'; reason: string }
  | { kind: 'invalid_response'; reason: string }

const ID_TOKEN_CODES = new Set([oauth.JWT_CLAIM_COMPARISON, oauth.JWT_TIMESTAMP_CHECK, oauth.KEY_SELECTION, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', 'ERR_JWS_INVALID'])

/**
 * Sorts an error thrown by openid-client / oauth4webapi / fetch into what it means for us:
 * the provider said no (`invalid_grant`, another OAuth error), it could not be reached or failed
 * transiently (network, timeout, 5xx, 429), or its response did not validate.
 */
export function classifyProviderError(err: unknown): ProviderFailure {
  if (err instanceof oauth.ResponseBodyError) {
    if (err.status >= 500 || err.status === 429) return { kind: 'transient', status: err.status }
    if (err.error === 'invalid_grant') return { kind: 'invalid_grant', error: err.error, status: err.status }
    return { kind: 'oauth_error', error: err.error, status: err.status, description: err.error_description }
  }
  if (err instanceof oauth.WWWAuthenticateChallengeError) {
    // RFC 6749 5.2: a 401 with a challenge (invalid_client on Basic authentication) carries its error there.
    const error = err.cause.map((c) => c.parameters.error).find((e) => typeof e === 'string') ?? 'invalid_client'
    const status = err.response.status
    if (status >= 500 || status === 429) return { kind: 'transient', status }
    return { kind: 'oauth_error', error, status, description: undefined }
  }
  const status = responseStatus(err)
  if (status !== undefined && (status >= 500 || status === 429 || status === 408)) return { kind: 'transient', status }
  if (isNetworkError(err)) return { kind: 'transient', status: undefined }
  const code = errorCode(err)
  if (code !== undefined && ID_TOKEN_CODES.has(code)) return { kind: 'id_token', reason: messageOf(err) }
  const idTokenProblem = aboutIdToken(err)
  if (idTokenProblem !== undefined) return { kind: 'id_token', reason: idTokenProblem }
  if (status !== undefined) return { kind: 'oauth_error', error: 'invalid_response', status, description: undefined }
  return { kind: 'invalid_response', reason: messageOf(err) }
}

/**
 * A safe stand-in for a library error as `cause`: name, message and code only. Library errors may hold
 * the response body (which can be a token response) or the claims of a token; none of that may end up
 * in a log line or `util.inspect` output.
 */
export function safeCause(err: unknown): Error {
  const copy = new Error(messageOf(err))
  copy.name = err instanceof Error ? err.name : 'Error'
  const code = errorCode(err)
  if (code !== undefined) Object.assign(copy, { code })
  const inner = err instanceof Error ? err.cause : undefined
  const innerCode = errorCode(inner)
  if (innerCode !== undefined && !(inner instanceof Response)) Object.assign(copy, { cause: { code: innerCode } })
  return copy
}

/** Builds our error for a failed token-endpoint call. */
export function tokenEndpointError(failure: ProviderFailure, cause: unknown, action: string): ResourceTokensError {
  const safe = safeCause(cause)
  switch (failure.kind) {
    case 'invalid_grant':
      return new ResourceTokensError('login_required', `${action}: the provider rejected the refresh token (invalid_grant); log in again`, { cause: safe, error: failure.error, status: failure.status })
    case 'transient':
      return new ResourceTokensError(
        'token_endpoint_unavailable',
        `${action}: the token endpoint is unavailable${failure.status === undefined ? '' : ` (HTTP ${failure.status})`}; the refresh token was kept, try again`,
        failure.status === undefined ? { cause: safe } : { cause: safe, status: failure.status },
      )
    case 'oauth_error':
      return new ResourceTokensError('token_endpoint_error', `${action}: the token endpoint answered ${failure.error} (HTTP ${failure.status})${advice(failure.error)}`, { cause: safe, error: failure.error, status: failure.status })
    case 'id_token':
      return new ResourceTokensError('invalid_id_token', `${action}: the ID token failed validation: ${failure.reason}`, { cause: safe })
    case 'invalid_response':
      return new ResourceTokensError('token_endpoint_error', `${action}: the token response failed validation: ${failure.reason}`, { cause: safe })
  }
}

/**
 * An ID token (JWT) that did not validate, recognised by oauth4webapi's error classes and what they carry:
 * its dedicated codes (claim comparison, timestamps, key selection), an unsupported JWS feature, or a generic
 * invalid response or parse error whose cause is the JWT itself (the compact string) or its parts (`claims`,
 * `header`, or a signature that did not verify). openid-client throws these unchanged or as a cause.
 */
function aboutIdToken(err: unknown): string | undefined {
  for (let current: unknown = err, depth = 0; current instanceof Error && depth < 4; current = current.cause, depth++) {
    if (current instanceof oauth.UnsupportedOperationError) return current.message
    if (!(current instanceof oauth.OperationProcessingError)) continue
    if (current.code === oauth.INVALID_RESPONSE || current.code === oauth.PARSE_ERROR) {
      const cause: unknown = current.cause
      if (typeof cause === 'string' && cause.split('.').length >= 3) return current.message
      if (typeof cause === 'object' && cause !== null && ('claims' in cause || 'header' in cause || 'signature' in cause)) return current.message
    }
  }
  return undefined
}

function advice(error: string): string {
  if (error === 'invalid_client') {
    return '; check the client credentials, and if the secret has reserved characters try clientAuth "client_secret_post" (some providers reject percent-encoded Basic credentials)'
  }
  return ''
}

export function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' ? code : undefined
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : 'unknown error'
}

function responseStatus(err: unknown): number | undefined {
  for (let current: unknown = err, depth = 0; current instanceof Error && depth < 3; current = current.cause, depth++) {
    if (current.cause instanceof Response) return current.cause.status
  }
  return undefined
}

function isNetworkError(err: unknown): boolean {
  for (let current: unknown = err, depth = 0; current !== undefined && current !== null && depth < 4; depth++) {
    if (current instanceof DOMException && (current.name === 'TimeoutError' || current.name === 'AbortError')) return true
    const code = errorCode(current)
    if (code === 'OAUTH_TIMEOUT' || code === 'OAUTH_ABORT' || code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'EPIPE' || code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CONNECT_TIMEOUT' || code?.startsWith('UND_ERR') === true) return true
    if (current instanceof TypeError && current.message === 'fetch failed') return true
    current = current instanceof Error ? current.cause : undefined
  }
  return false
}
