// @ts-nocheck
// What the tests read back from the provider: every token request (never a raw token), every pushed
// authorization request, and how often a rotated refresh token was presented again.
import { AsyncLocalStorage } from 'node:async_hooks'
import { createHash } from 'node:crypto'

/** One request to the token endpoint, as recorded for tests. */
export interface TokenRequestRecord {
  grantType: string
  scope?: string
  resource?: string[]
  /** sha256 hex of the presented refresh_token, never the raw token */
  refreshTokenHash?: string
  /** HTTP status sent; 0 while in flight or when the socket was reset */
  status: number
  at: number
  /** set when the provider found this refresh token already rotated away (counted by reusedRefreshTokens) */
  reusedRefreshToken?: boolean
}

/** What a token-endpoint hook sees: it may delay the request (to line up races) or inspect it. */
export interface TokenEndpointHookContext {
  grantType: string
  body: URLSearchParams
}

/** Hex SHA-256 of `value`: how the records name a token without holding it. */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex')
}

/**
 * The records of one provider, and its refresh-token reuse detection.
 *
 * Reuse is judged where the provider judges it: when it looks up a refresh token it has already consumed
 * (rotated away). Deciding at arrival would miss two concurrent requests with the same token (both arrive
 * before either consumes it) and would wrongly count a retry after an error the provider raises before
 * rotating (e.g. invalid_scope).
 */
export class Instrumentation {
  readonly tokenRequests: TokenRequestRecord[] = []
  readonly parRequests: URLSearchParams[] = []
  hook: ((ctx: TokenEndpointHookContext) => Promise<void> | void) | undefined
  readonly #consumedRefreshTokens = new Set<string>() // sha256 of values
  readonly #inFlight = new AsyncLocalStorage<TokenRequestRecord>()
  #reused = 0

  /** How many refresh requests presented a refresh token that was already rotated away. */
  reusedRefreshTokens(): number {
    return this.#reused
  }

  /** Records a token request from its form body. */
  recordTokenRequest(body: URLSearchParams): TokenRequestRecord {
    const record: TokenRequestRecord = { grantType: body.get('grant_type') ?? '', status: 0, at: Date.now() }
    const scope = body.get('scope')
    if (scope !== null) record.scope = scope
    const resource = body.getAll('resource')
    if (resource.length > 0) record.resource = resource
    const refreshToken = body.get('refresh_token')
    if (refreshToken !== null) record.refreshTokenHash = sha256(refreshToken)
    this.tokenRequests.push(record)
    return record
  }

  /** Records a pushed authorization request without its client credentials. */
  recordParRequest(body: URLSearchParams): void {
    const kept = new URLSearchParams(body)
    kept.delete('client_secret') // never keep credentials in test records
    kept.delete('client_assertion')
    this.parRequests.push(kept)
  }

  /** Counts a reuse the test provider detected itself (quirk concurrentRefresh). */
  markReused(record: TokenRequestRecord): void {
    record.reusedRefreshToken = true
    this.#reused += 1
  }

  /** Runs `task` (oidc-provider handling `record`'s request) so the storage callbacks can find the record. */
  runInFlight<T>(record: TokenRequestRecord, task: () => T): T {
    return this.#inFlight.run(record, task)
  }

  /** The token request oidc-provider is handling in this async context, if any. */
  current(): TokenRequestRecord | undefined {
    return this.#inFlight.getStore()
  }

  /** Storage callback: oidc-provider consumed (rotated away) a refresh token. */
  onConsume(model: string, id: string): void {
    // Opaque refresh tokens are stored under their value, so id is the token itself.
    if (model === 'RefreshToken') this.#consumedRefreshTokens.add(sha256(id))
  }

  /** Storage callback: oidc-provider looked up a token; a consumed refresh token looked up again is a reuse. */
  onFind(model: string, id: string): void {
    const record = this.current()
    if (model !== 'RefreshToken' || record?.grantType !== 'refresh_token' || record.reusedRefreshToken) return
    const hash = sha256(id)
    if (hash === record.refreshTokenHash && this.#consumedRefreshTokens.has(hash)) this.markReused(record)
  }

  /**
   * Forgets records and counts. Pending faults and the hook stay armed, and the memory of consumed refresh
   * tokens is kept: a token rotated before the reset and presented after it is still a reuse.
   */
  reset(): void {
    this.tokenRequests.length = 0
    this.parRequests.length = 0
    this.#reused = 0
  }
}
