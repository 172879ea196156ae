/** An access token cached for one resource of a grant. */
// @ts-nocheck

export interface CachedToken {
  /** The access token itself. Never logged. */
  readonly value: string
  /** `bearer` or `dpop`, lowercased. */
  readonly type: string
  /** Scope the provider said it granted (or the requested scope when the response had none). */
  readonly scope: string | undefined
  /** When the token expires, ms since the epoch. */
  readonly expiresAt: number
  /** When to renew it (a little before `expiresAt`), ms since the epoch. */
  readonly refreshAt: number
}

/** A user's grant as stored: one refresh token, the ID token's claims, and one cached token per resource. */
export interface GrantRecord {
  readonly v: 1
  /**
   * Random id given at login or import, never changed: a refresh that started on one grant never writes into
   * another grant stored later under the same key (a re-login, a new user on a reused session id).
   */
  readonly grantId: string
  /** Incremented on every write; lets readers tell newer from older. */
  readonly rev: number
  readonly refreshToken: string
  readonly idToken: string | undefined
  /** Claims of the ID token obtained at login (or import). */
  readonly claims: Readonly<Record<string, unknown>>
  /** Scope granted at login, as the provider reported it. */
  readonly scope: string | undefined
  readonly createdAt: number
  /** Cached access tokens by resource id. */
  readonly tokens: Readonly<Record<string, CachedToken>>
  /** When a token was last obtained with this grant (ms since the epoch): the idle session lifetime counts from it. */
  readonly activeAt?: number | undefined
  /** When the grant's session index entries were last written (ms since the epoch); they are written again at half their TTL. */
  readonly indexedAt?: number | undefined
  /** Cache slot of the last refresh that returned a refresh token: evidence when a provider narrows it. */
  readonly lastRefreshed?: string | undefined
  /**
   * RFC 8707 resource indicators the logins of this grant asked for (incremental logins add to them);
   * `undefined` for grants stored before this was recorded, or imported: coverage unknown.
   */
  readonly resources?: readonly string[] | undefined
  /** Scope added by incremental logins for a resource (by resource id), asked for on top of its configured scope. */
  readonly extraScopes?: Readonly<Record<string, string>> | undefined
  /**
   * When the refresh token expires, ms since the epoch, when the provider said so (`refresh_expires_in`): the
   * stored record expires with it. Absent: the record expires after `grantTtlSeconds` unused.
   */
  readonly refreshExpiresAt?: number | undefined
  /** The grant's DPoP key pair, as private and public JWK, when any resource uses DPoP. */
  readonly dpopKey?: { readonly privateJwk: Readonly<Record<string, unknown>>; readonly publicJwk: Readonly<Record<string, unknown>> } | undefined
}

/**
 * The end of the refresh token's life a token response announces: `refresh_expires_in` (Keycloak and others), or
 * `refresh_token_expires_in` (Microsoft, GitHub), in seconds; `undefined` when it says nothing (or `0`, which
 * Keycloak sends for offline tokens that do not expire).
 */
export function refreshExpiresAt(response: Readonly<Record<string, unknown>>, now: number): number | undefined {
  const seconds = response['refresh_expires_in'] ?? response['refresh_token_expires_in']
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? now + seconds * 1000 : undefined
}

/** Serializes a record for the store. */
export function serializeGrant(record: GrantRecord): string {
  return JSON.stringify(record)
}

/** Parses a stored record; `undefined` when it is not one of ours (treated as no grant). */
export function parseGrant(raw: string): GrantRecord | undefined {
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  const record = value as Partial<GrantRecord>
  if (record.v !== 1 || typeof record.refreshToken !== 'string' || typeof record.rev !== 'number' || typeof record.grantId !== 'string') return undefined
  if (typeof record.tokens !== 'object' || record.tokens === null) return undefined
  return record as GrantRecord
}
