// @ts-nocheck
import { ResourceTokensError, type LoginParameters } from '../errors/resource-tokens-error.js'
import { parseScope } from '../lib/scope-token.js'

/** What a login asks for beyond the client's configuration (incremental authorization, step-up), validated. */
export interface LoginAdditions {
  readonly resources: readonly string[]
  readonly scope: readonly string[]
  /** OpenID Connect `acr_values`, in order of preference. */
  readonly acrValues: readonly string[] | undefined
  /** OpenID Connect `max_age`, in seconds. */
  readonly maxAge: number | undefined
}

const MAX_ADDED_RESOURCES = 20
/** acr values are URIs or short names (OpenID Connect Core 2): printable, no spaces, no quotes. */
const ACR_VALUE = /^[\x21\x23-\x5b\x5d-\x7e]{1,256}$/

/**
 * Validates the incremental parameters of `startLogin`.
 *
 * @throws `invalid_argument` naming the parameter.
 */
export function resolveLoginAdditions(options: LoginParameters): LoginAdditions {
  const resources: string[] = []
  if (options.resources !== undefined) {
    if (!Array.isArray(options.resources) || options.resources.length > MAX_ADDED_RESOURCES) fail(`"resources" must be an array of at most ${MAX_ADDED_RESOURCES} URIs`)
    for (const value of options.resources) {
      let url: URL
      try {
        url = new URL(value)
      } catch {
        fail('"resources" must hold absolute URIs (RFC 8707)')
      }
      if (url.hash !== '' || value.includes('#')) fail('"resources" must not have a fragment (RFC 8707)')
      if (!resources.includes(value)) resources.push(value)
    }
  }
  let scope: string[] = []
  if (options.scope !== undefined) {
    const parsed = typeof options.scope === 'string' ? parseScope(options.scope) : undefined
    if (parsed === undefined) fail('"scope" must be a space-separated list of scope tokens')
    scope = [...new Set(parsed)]
  }
  let acrValues: string[] | undefined
  if (options.acrValues !== undefined) {
    const parsed = typeof options.acrValues === 'string' ? options.acrValues.split(' ').filter((v) => v !== '') : []
    if (parsed.length === 0 || !parsed.every((v) => ACR_VALUE.test(v))) fail('"acrValues" must be a space-separated list of acr values')
    acrValues = parsed
  }
  const maxAge = options.maxAge
  if (maxAge !== undefined && (typeof maxAge !== 'number' || !Number.isInteger(maxAge) || maxAge < 0)) fail('"maxAge" must be an integer number of seconds, at least 0')
  return { resources, scope, acrValues, maxAge }
}

/** True when the login asks for nothing beyond the configuration. */
export function isEmpty(additions: LoginAdditions): boolean {
  return additions.resources.length === 0 && additions.scope.length === 0 && additions.acrValues === undefined && additions.maxAge === undefined
}

/**
 * OpenID Connect Core 3.1.2.1 and RFC 9470 section 4: `acr_values` are only a request, so the ID token's `acr`
 * must be checked to be one of them; `max_age` needs an `auth_time` no older than it (openid-client checks that
 * too; checked here with this client's clock as well). A login that falls short stores nothing.
 *
 * @throws `insufficient_user_authentication` with `login` to ask again.
 */
export function checkAuthentication(claims: Readonly<Record<string, unknown>>, additions: LoginAdditions, nowMs: number, leewaySeconds: number): void {
  const again: LoginParameters = {
    ...(additions.acrValues === undefined ? {} : { acrValues: additions.acrValues.join(' ') }),
    ...(additions.maxAge === undefined ? {} : { maxAge: additions.maxAge }),
  }
  if (additions.acrValues !== undefined) {
    const acr = claims['acr']
    if (typeof acr !== 'string' || !additions.acrValues.includes(acr)) {
      throw new ResourceTokensError('insufficient_user_authentication', 'the ID token\'s acr is not one of the acr_values asked for (OpenID Connect Core 3.1.2.1): nothing was stored', { login: again })
    }
  }
  if (additions.maxAge !== undefined) {
    const authTime = claims['auth_time']
    if (typeof authTime !== 'number' || nowMs / 1000 - authTime > additions.maxAge + leewaySeconds) {
      throw new ResourceTokensError('insufficient_user_authentication', 'the ID token\'s auth_time is older than the max_age asked for: nothing was stored', { login: again })
    }
  }
}

function fail(message: string): never {
  throw new ResourceTokensError('invalid_argument', message)
}
