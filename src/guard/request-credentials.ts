// Reads the access token and the DPoP proof out of request headers (RFC 6750 section 2.1, RFC 9449
// sections 4.1 and 7.1). Only the Authorization header is supported: tokens in a query string or a form
// body leak into logs and caches.
import { GuardError, type GuardChallengeContext } from './guard-error.js'

/** Request headers as a Fetch `Headers` or as Node/Express give them (`string[]` when repeated). */
export type RequestHeaders = Headers | Readonly<Record<string, string | readonly string[] | undefined>>

export interface PresentedToken {
  scheme: 'bearer' | 'dpop'
  token: string
}

// RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/
// RFC 9110 section 11.4: credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
const CREDENTIALS = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?: +(.*))?$/s

/** Every value of header `name` (case-insensitive). A Fetch `Headers` joins repeats with ", ". */
export function headerValues(headers: RequestHeaders, name: string): string[] {
  if (headers instanceof Headers) {
    const value = headers.get(name)
    return value === null ? [] : [value]
  }
  const values: string[] = []
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() !== name) continue
    const value = headers[key]
    if (typeof value === 'string') values.push(value)
    else if (Array.isArray(value)) for (const item of value as unknown[]) if (typeof item === 'string') values.push(item)
  }
  return values
}

/**
 * The token from `Authorization`. Throws a {@link GuardError}: with `missingToken` when there is no
 * header or its scheme is not one we accept (RFC 6750 section 3.1: no error code then), otherwise
 * `invalid_request` for a malformed or repeated header.
 */
export function readAuthorization(headers: RequestHeaders, context: GuardChallengeContext): PresentedToken {
  const values = headerValues(headers, 'authorization')
  const dpopEnabled = context.dpopAlgorithms !== undefined
  if (values.length === 0) {
    throw new GuardError('invalid_request', 'access token required', { missingToken: true, challenge: context })
  }
  if (values.length > 1) {
    throw new GuardError('invalid_request', 'more than one authorization header', { challenge: context })
  }
  const match = CREDENTIALS.exec((values[0] ?? '').trim())
  const scheme = match?.[1]?.toLowerCase()
  if (match === null || (scheme !== 'bearer' && !(scheme === 'dpop' && dpopEnabled))) {
    throw new GuardError('invalid_request', 'access token required', { missingToken: true, challenge: context })
  }
  const kind = scheme === 'dpop' ? 'DPoP' : 'Bearer'
  const token = match[2]?.trim() ?? ''
  if (!TOKEN68.test(token)) {
    throw new GuardError('invalid_request', `malformed ${kind} authorization header`, { scheme: kind, challenge: context })
  }
  return { scheme: scheme === 'dpop' ? 'dpop' : 'bearer', token }
}
