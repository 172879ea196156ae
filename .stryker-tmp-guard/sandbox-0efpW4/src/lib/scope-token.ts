/** RFC 6749 appendix A.4: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
// @ts-nocheck

const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/

/** True when `value` is one scope token (no spaces, quotes, backslashes or control characters). */
export function isScopeToken(value: string): boolean {
  return SCOPE_TOKEN.test(value)
}

/** The tokens of a space-separated scope string; `undefined` when one of them is not a scope token. */
export function parseScope(value: string): string[] | undefined {
  const tokens = value.split(' ').filter((token) => token !== '')
  return tokens.every(isScopeToken) ? tokens : undefined
}
