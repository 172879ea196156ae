/** What a revocation request (RFC 7009) achieved for one token. */
// @ts-nocheck

export type RevocationOutcome = 'revoked' | 'failed' | 'unsupported'

/** The parts of a revocation endpoint's answer the outcome depends on. */
export interface RevocationAnswer {
  status: number
  /** The `content-type` header, if any. */
  contentType: string | null
  /** The body as text (the caller may cut it short: only its start matters). */
  body: string
}

/** The outcome and, when it is not `revoked`, why, in words safe to log (no body is quoted). */
export interface RevocationVerdict {
  outcome: RevocationOutcome
  reason?: string
}

/**
 * Judges a revocation endpoint's answer. RFC 7009 section 2.2: success is HTTP 200, and the body, if any, is
 * ignored by the spec; but a 200 carrying a non-empty page that is not JSON (typically an HTML login or
 * landing page behind a catch-all route) is not that endpoint answering, so it is not taken as success.
 * - 200 with an empty body, or a JSON body without an `error` member, and 204: `revoked`;
 * - 200 with anything else (HTML, text, JSON naming an `error`): `failed`;
 * - 400 `unsupported_token_type` (RFC 7009 section 2.2.1): `unsupported`, the provider cannot revoke that kind of token;
 * - any other status: `failed`.
 * `unsupported` for a provider without a revocation endpoint is the caller's to say: there is no answer then.
 */
export function judgeRevocation(answer: RevocationAnswer): RevocationVerdict {
  const text = answer.body.trim()
  const json = parseJson(text, answer.contentType)
  // 204 is not RFC 7009's 200, but it is HTTP's way of saying the same with no body: taken as success.
  if (answer.status === 204) return { outcome: 'revoked' }
  if (answer.status === 200) {
    if (text === '') return { outcome: 'revoked' }
    if (json === undefined) return { outcome: 'failed', reason: `HTTP 200 with a ${mediaType(answer.contentType) ?? 'non-JSON'} body instead of an RFC 7009 response` }
    const error = errorOf(json)
    if (error !== undefined) return { outcome: 'failed', reason: `HTTP 200 with error ${error}` }
    return { outcome: 'revoked' }
  }
  const error = json === undefined ? undefined : errorOf(json)
  if (answer.status === 400 && error === 'unsupported_token_type') return { outcome: 'unsupported', reason: 'unsupported_token_type' }
  return { outcome: 'failed', reason: `HTTP ${answer.status}${error === undefined ? '' : ` ${error}`}` }
}

/** The media type without parameters, lowercased; undefined when there is no header. */
function mediaType(contentType: string | null): string | undefined {
  if (contentType === null) return undefined
  const type = contentType.split(';')[0]?.trim().toLowerCase()
  return type === '' ? undefined : type
}

/**
 * The parsed body when it is JSON: declared as JSON (application/json or +json), or undeclared and parsing as
 * JSON. A body declared as something else (text/html) is not JSON even if it happens to parse.
 */
function parseJson(text: string, contentType: string | null): unknown {
  if (text === '') return undefined
  const type = mediaType(contentType)
  if (type !== undefined && type !== 'application/json' && !type.endsWith('+json')) return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

/** An OAuth `error` value, if the JSON is an object that names one (only simple token characters are reported). */
function errorOf(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined
  const error = (json as Record<string, unknown>)['error']
  if (typeof error !== 'string') return undefined
  return /^[\x20-\x21\x23-\x5B\x5D-\x7E]{1,64}$/.test(error) ? error : 'an error'
}
