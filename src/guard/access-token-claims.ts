// The claims every verified token is read for, whichever way it was checked (JWT or introspection):
// `sub`, `scope`, `client_id` / `azp` and the DPoP binding `cnf.jkt` (RFC 9449 section 6).
import type { GuardScheme, TokenRefusal } from './guard-error.js'

export interface TokenFacts {
  subject: string | undefined
  scopes: string[]
  clientId: string | undefined
  /** `cnf.jkt`, when the token is DPoP-bound. */
  jkt: string | undefined
}

/** Reads and type-checks the claims the guard relies on. Throws an `invalid_token` refusal. */
export function readTokenFacts(claims: Record<string, unknown>, scheme: GuardScheme, refuse: TokenRefusal): TokenFacts {
  const { sub, scope } = claims
  const clientId = typeof claims['client_id'] === 'string' ? claims['client_id'] : claims['azp']
  if (sub !== undefined && typeof sub !== 'string') throw refuse('invalid_token', 'access token "sub" must be a string', scheme)
  if (scope !== undefined && typeof scope !== 'string') throw refuse('invalid_token', 'access token "scope" must be a string', scheme)
  if (clientId !== undefined && typeof clientId !== 'string') throw refuse('invalid_token', 'access token "client_id" must be a string', scheme)
  const jkt = boundKey(claims, scheme, refuse)
  const scopes = scope === undefined ? [] : scope.split(' ').filter((s) => s.length > 0)
  return { subject: sub, scopes, clientId, jkt }
}

/** `cnf.jkt` of a DPoP-bound token; refuses other confirmation methods we cannot check (e.g. mTLS). */
function boundKey(claims: Record<string, unknown>, scheme: GuardScheme, refuse: TokenRefusal): string | undefined {
  const cnf = claims['cnf']
  if (cnf === undefined) return undefined
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) throw refuse('invalid_token', 'access token "cnf" must be an object', scheme)
  const jkt = (cnf as Record<string, unknown>)['jkt']
  if (jkt === undefined) {
    if (Object.keys(cnf).length === 0) return undefined
    throw refuse('invalid_token', 'access token is bound by an unsupported confirmation method', scheme)
  }
  if (typeof jkt !== 'string' || jkt.length === 0) throw refuse('invalid_token', 'access token "cnf.jkt" must be a string', scheme)
  return jkt
}
