// @ts-nocheck
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import type { CachedToken } from '../grants/grant-record.js'
import type { RegisteredResource } from '../resources/resource.js'

/**
 * RFC 6750 section 2.1 `b64token`, the syntax of a Bearer (and RFC 9449 DPoP) credential in an `Authorization`
 * header: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
 */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

/**
 * Why a token from the token endpoint must not be used, or `undefined`. Checked where a response becomes a cached
 * token, before it is stored or sent: a value with a newline, NUL or space would make `fetch` fail with an error
 * message that holds `Bearer <token>` (or split the header), and a Bearer token for a `dpop: 'required'` resource is
 * not what the app asked for. The error never holds the token.
 */
export function tokenRefusal(token: CachedToken, resource: RegisteredResource): ResourceTokensError | undefined {
  if (!B64TOKEN.test(token.value)) {
    return new ResourceTokensError(
      'invalid_token_response',
      `the token endpoint returned an access token for ${resource.name} that is not an RFC 6750 b64token (${describe(token.value)}): not used; the refresh token is kept`,
    )
  }
  if (resource.dpopRequired && token.type !== 'dpop') {
    return new ResourceTokensError(
      'invalid_token_response',
      `the provider issued a Bearer token where a DPoP-bound token is required for ${resource.name} (dpop: 'required'): not used; the refresh token is kept`,
    )
  }
  return undefined
}

/** What is wrong with a refused value, without any of it. */
function describe(value: string): string {
  if (value === '') return 'empty'
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c < 0x20 || c === 0x7f) return 'control characters'
  }
  if (value.includes(' ')) return 'a space'
  return 'characters outside the b64token set'
}
