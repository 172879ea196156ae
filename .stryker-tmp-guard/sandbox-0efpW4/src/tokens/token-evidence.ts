// @ts-nocheck
import { decodeJwt, decodeProtectedHeader, type JWTPayload } from 'jose'
import { scopeMinus, scopeSet } from './scope.js'

/**
 * What an access token says about itself when it is a JWT. Read, never verified: the client is not the token's
 * audience and has no business trusting it, but what the provider wrote into it is what resource servers will
 * enforce, so it is the best evidence of what was really granted.
 */
export type AccessTokenClaims =
  | {
      format: 'jwt'
      /** RFC 9068 `typ: at+jwt`. */
      rfc9068: boolean
      /** The `scope` claim (RFC 9068), else `scp` (space-separated or a list, as some providers write it); undefined when neither is there. */
      scope: Set<string> | undefined
      /** `aud` as a list; undefined when the token has none. */
      audience: string[] | undefined
    }
  | { format: 'opaque' }

/**
 * Reads `scope` and `aud` of a JWS access token with jose (never by hand). A JWS that carries neither is not
 * taken as evidence (it may be something else that merely looks like a JWT); anything that does not decode
 * (opaque tokens, JWE) is `opaque`.
 */
export function readAccessTokenClaims(token: string): AccessTokenClaims {
  let payload: JWTPayload
  let typ: string | undefined
  try {
    typ = decodeProtectedHeader(token).typ
    payload = decodeJwt(token)
  } catch {
    return { format: 'opaque' }
  }
  const scope = scopeClaim(payload['scope']) ?? scopeClaim(payload['scp'])
  const audience = audienceClaim(payload.aud)
  const rfc9068 = typ !== undefined && /^(application\/)?at\+jwt$/i.test(typ)
  if (!rfc9068 && scope === undefined && audience === undefined) return { format: 'opaque' }
  return { format: 'jwt', rfc9068, scope, audience }
}

/** What was asked for one resource. */
export interface AskedFor {
  /** Space-separated scope sent with the request. */
  scope: string
  /** RFC 8707 resource indicator sent with the request, if any. */
  resource?: string | undefined
}

/**
 * Where the granted scope is known from:
 * - `response`: the token response's `scope` field only (opaque token, or a JWT without a scope claim);
 * - `token`: the JWT's own claim only (the response omitted `scope`);
 * - `response+token`: both (each is compared with what was asked);
 * - `none`: the response omitted `scope` and the token tells nothing: RFC 6749 section 5.1 lets a server omit
 *   `scope` only when it is what was asked, so it is taken as that, but nobody can tell whether it is.
 */
export type ScopeBasis = 'response' | 'token' | 'response+token' | 'none'

/** The scope granted to one resource, as far as the evidence goes. */
export interface ScopeEvidence {
  basis: ScopeBasis
  /**
   * What the token carries, space-separated: the JWT's claim when there is one (that is what resource servers
   * enforce), else the response's `scope`, else what was asked (`basis: 'none'`).
   */
  granted: string
  /** Scopes some evidence grants beyond what was asked (from the response, the token, or both). */
  broader: string[]
  /** Asked-for scopes the best evidence lacks. */
  narrower: string[]
}

/**
 * The audience of the token for a resource asked for with an indicator. `none`: no indicator asked, or an opaque
 * token (nothing to compare). `token`: from the JWT's `aud`.
 */
export type AudienceEvidence =
  | { basis: 'none' }
  | {
      basis: 'token'
      audience: string[]
      /** The indicator asked for is not among the token's audiences: the provider did not restrict it to this resource. */
      missing: boolean
      /** Audiences besides the indicator: the token is good at other resources too. */
      extra: string[]
    }

/** Scope and audience evidence for one token response. */
export interface TokenEvidence {
  format: 'jwt' | 'opaque'
  scope: ScopeEvidence
  audience: AudienceEvidence
  /** True when some evidence shows a broader token than asked: more scope, or an audience beyond the resource. */
  broader: boolean
}

/**
 * Compares what a token response and its access token say with what was asked. Pure: no I/O, no verification.
 * `responseScope` is the response's `scope` field exactly as received (undefined when omitted).
 */
export function tokenEvidence(asked: AskedFor, responseScope: string | undefined, accessToken: string): TokenEvidence {
  const claims = readAccessTokenClaims(accessToken)
  const requested = scopeSet(asked.scope)
  const fromResponse = responseScope === undefined ? undefined : scopeSet(responseScope)
  const fromToken = claims.format === 'jwt' ? claims.scope : undefined

  const basis: ScopeBasis = fromResponse !== undefined ? (fromToken !== undefined ? 'response+token' : 'response') : fromToken !== undefined ? 'token' : 'none'
  const best = fromToken ?? fromResponse ?? requested
  const broader = new Set<string>([...scopeMinus(fromResponse ?? new Set(), requested), ...scopeMinus(fromToken ?? new Set(), requested)])
  const scope: ScopeEvidence = { basis, granted: [...best].join(' '), broader: [...broader], narrower: scopeMinus(requested, best) }

  let audience: AudienceEvidence = { basis: 'none' }
  if (asked.resource !== undefined && claims.format === 'jwt') {
    const list = claims.audience ?? []
    audience = { basis: 'token', audience: list, missing: !list.includes(asked.resource), extra: list.filter((a) => a !== asked.resource) }
  }
  const audienceBroader = audience.basis === 'token' && (audience.missing || audience.extra.length > 0)
  return { format: claims.format, scope, audience, broader: scope.broader.length > 0 || audienceBroader }
}

/** A space-separated string (RFC 9068 `scope`) or a list of strings (`scp` at some providers); undefined otherwise. */
function scopeClaim(value: unknown): Set<string> | undefined {
  if (typeof value === 'string') return scopeSet(value)
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return new Set((value).filter((v) => v !== ''))
  return undefined
}

function audienceClaim(value: unknown): string[] | undefined {
  if (typeof value === 'string') return [value]
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value
  return undefined
}
