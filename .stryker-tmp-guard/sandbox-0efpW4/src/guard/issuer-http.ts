// @ts-nocheck
// How the guard calls its authorization server through oauth4webapi. Hand-written because oauth4webapi has
// no opinion on them: a time bound on every request (it sets none), http allowed only on loopback (it
// allows either all or nothing), the caller's fetch, and which failure answers with which HTTP status.
import * as oauth from 'oauth4webapi'

import { isLoopbackHost } from '../resources/loopback.js'

/** Discovery and introspection answers that take longer are failures, so a slow issuer cannot pile up requests. */
const TIMEOUT_MS = 5000

/** Transport options for one oauth4webapi call to `url`. */
export function issuerHttpOptions<Method extends string, Body extends URLSearchParams | undefined>(url: URL, fetchImpl: typeof fetch): oauth.HttpRequestOptions<Method, Body> {
  return {
    signal: () => AbortSignal.timeout(TIMEOUT_MS),
    [oauth.customFetch]: (input, { body, ...init }) => fetchImpl(input, body === undefined ? init : { ...init, body }),
    [oauth.allowInsecureRequests]: url.protocol === 'http:' && isLoopbackHost(url.hostname),
  }
}

/**
 * The HTTP status behind an oauth4webapi failure, when the server answered at all: an OAuth error body
 * (`ResponseBodyError`), a `WWW-Authenticate` challenge, or an unexpected status (`OperationProcessingError`
 * carrying the response).
 */
export function failureStatus(err: unknown): number | undefined {
  if (err instanceof oauth.ResponseBodyError || err instanceof oauth.WWWAuthenticateChallengeError) return err.status
  if (err instanceof oauth.OperationProcessingError && err.cause instanceof Response) return err.cause.status
  return undefined
}

/** The OAuth 2.0 `error` value the server answered with, if any. */
export function failureError(err: unknown): string | undefined {
  if (err instanceof oauth.ResponseBodyError) return err.error
  if (err instanceof oauth.WWWAuthenticateChallengeError) return err.cause[0]?.parameters.error
  return undefined
}

/** Runs an oauth4webapi `process*Response` on `response`; on failure the body is cancelled, as an unread body holds its connection. */
export async function processResponse<T>(response: Response, process: (response: Response) => Promise<T>): Promise<T> {
  try {
    return await process(response)
  } catch (err) {
    await response.body?.cancel().catch(() => undefined)
    throw err
  }
}
