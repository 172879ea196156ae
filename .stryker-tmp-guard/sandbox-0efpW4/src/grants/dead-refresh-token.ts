// @ts-nocheck
import { BoundedMap } from '../lib/bounded-map.js'
import { sha256 } from '../lib/hash.js'

/**
 * A failed refresh_token grant, as far as the dead-token rule needs it: the HTTP status and the OAuth `error`
 * of a well-formed error response (RFC 6749 section 5.2), or no `error` when the body was not one (empty, HTML,
 * a network failure: `status` undefined).
 */
export interface RefreshFailure {
  status: number | undefined
  error: string | undefined
}

/**
 * OAuth errors that are about the client or the request, not about the refresh token: a new login would
 * not change them, so they never count towards a dead grant.
 * - `invalid_client`, `unauthorized_client`, `unsupported_grant_type`: the client's registration or credentials.
 * - `invalid_scope`, `invalid_target`: the scope or resource asked for (and the narrowing rule's evidence).
 * - `invalid_dpop_proof`, `use_dpop_nonce`: the DPoP proof of this one request.
 * - `temporarily_unavailable`, `server_error`, `slow_down`: transient, whatever the status says.
 */
const NOT_ABOUT_THE_TOKEN = new Set([
  'invalid_client',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
  'invalid_dpop_proof',
  'use_dpop_nonce',
  'temporarily_unavailable',
  'server_error',
  'slow_down',
])

/**
 * Whether a failed refresh may say the refresh token is dead although it is not `invalid_grant` (some providers
 * answer an unknown or expired refresh token with `invalid_request`, `access_denied`, ...). Only a well-formed
 * OAuth error with a 4xx status other than 408 and 429 counts: a 5xx, a timeout, a network failure or a
 * body that is not an OAuth error (an HTML or empty 4xx may come from a proxy in front of the provider) says
 * nothing about the token. `invalid_grant` itself is decided at once by its own rule, not here.
 */
export function maySayDead(failure: RefreshFailure): boolean {
  const { status, error } = failure
  if (status === undefined || status < 400 || status >= 500 || status === 408 || status === 429) return false
  if (error === undefined || error === '' || error === 'invalid_grant') return false
  return !NOT_ABOUT_THE_TOKEN.has(error)
}

/** What to do with the grant after a failed refresh. */
export type DeadTokenVerdict = 'dead' | 'keep'

/** Options of {@link DeadRefreshTokens}. */
export interface DeadRefreshTokensOptions {
  /** Grants remembered at most (oldest forgotten first). Default 1,000. */
  maxEntries?: number
  /** How long a first failure is remembered. Default 24 hours. */
  ttlMs?: number
  /** Clock, for tests. */
  now?: () => number
}

interface Strike {
  /** SHA-256 of the refresh token that failed: never the token itself. */
  tokenHash: string
  error: string
}

/**
 * The dead-refresh-token rule: a refresh answered with the same OAuth error (see {@link maySayDead}) twice in a
 * row for the same refresh token means the grant is dead: remove it, `login_required`. One answer is not
 * enough (a provider may fail a request once for a reason of its own); the second, on the next attempt with
 * the very same token, is.
 *
 * The memory is per process, per grant, bounded and expiring, on purpose:
 * - forgetting is always safe: it only costs one more failed attempt before the grant is removed, never a
 *   grant removed too early;
 * - it needs no store write on a failure path (the store may be what is failing), and the provider answers
 *   every process the same, so each process reaches the verdict on its own second attempt;
 * - a rotated refresh token (another process renewed meanwhile) is a different token: the count starts again.
 * Only a hash of the refresh token is kept.
 */
export class DeadRefreshTokens {
  readonly #strikes: BoundedMap<Strike>
  readonly #ttlMs: number
  readonly #now: () => number

  constructor(options: DeadRefreshTokensOptions = {}) {
    const maxEntries = options.maxEntries ?? 1000
    this.#ttlMs = options.ttlMs ?? 24 * 3600 * 1000
    this.#now = options.now ?? Date.now
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer')
    if (!(this.#ttlMs > 0)) throw new RangeError('ttlMs must be positive')
    this.#strikes = new BoundedMap(maxEntries)
  }

  /**
   * Records a failed refresh of `grant` (a stable grant id, never the raw key) with `refreshToken`, and says
   * whether the grant is dead now. A failure that cannot say so (see {@link maySayDead}) leaves the memory as
   * it is: a 5xx between two `invalid_request` answers neither counts nor resets.
   */
  failed(grant: string, refreshToken: string, failure: RefreshFailure): DeadTokenVerdict {
    if (!maySayDead(failure)) return 'keep'
    // Bounded: the provider chooses this string, and a strike is kept per grant.
    const error = (failure.error as string).slice(0, 128)
    const tokenHash = sha256(refreshToken)
    const now = this.#now()
    const previous = this.#strikes.get(grant, now)
    if (previous !== undefined && previous.tokenHash === tokenHash && previous.error === error) {
      this.#strikes.delete(grant)
      return 'dead'
    }
    this.#strikes.set(grant, { tokenHash, error }, now + this.#ttlMs, now)
    return 'keep'
  }

  /** A refresh of `grant` succeeded (or the grant was removed or replaced): forget its failures. */
  forget(grant: string): void {
    this.#strikes.delete(grant)
  }

  /** Grants with one failure on record (for tests and metrics). */
  get size(): number {
    return this.#strikes.size
  }
}
