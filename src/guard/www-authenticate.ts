// Formatting of `WWW-Authenticate` challenges (RFC 9110 section 11.6.1, RFC 6750 section 3).

/** One auth-param: name and unquoted value. */
export type ChallengeParam = readonly [name: string, value: string]

/**
 * Renders `scheme name="value", ...`. Every value is sent as a quoted-string; `"` and `\` are escaped,
 * and characters a header field cannot carry (controls, non-ASCII) become `?`, so the result is always
 * a valid header value whatever the input.
 */
export function formatChallenge(scheme: string, params: readonly ChallengeParam[]): string {
  if (params.length === 0) return scheme
  return `${scheme} ${params.map(([name, value]) => `${name}=${quote(name === 'error_description' ? describe(value) : value)}`).join(', ')}`
}

function quote(value: string): string {
  return `"${value.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, '\\$&')}"`
}

// RFC 6750 section 3 allows only %x20-21 / %x23-5B / %x5D-7E in error_description: no `"` or `\` at all,
// not even escaped, so they are replaced rather than escaped.
function describe(value: string): string {
  return value.replace(/"/g, "'").replace(/\\/g, '/')
}
