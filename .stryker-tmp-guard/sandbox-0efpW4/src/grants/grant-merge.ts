// @ts-nocheck
import type { CachedToken, GrantRecord } from './grant-record.js'

/**
 * Incremental authorization: the grant of a new login of the same user (same `iss` and `sub`) takes over what
 * the previous grant had. Its refresh token replaces the old one (the caller revokes that one once this is
 * stored); the cached tokens of other resources are kept (`drop` names the cache slots the new login was
 * about: their old tokens lack what was just added); the resources and extra scopes it covered are added to
 * the new ones. Another user's login merges nothing.
 */
export function mergeGrants(previous: GrantRecord, next: GrantRecord, drop: ReadonlySet<string>, now: number): GrantRecord {
  if (previous.claims['sub'] !== next.claims['sub'] || previous.claims['iss'] !== next.claims['iss']) return next
  const tokens: Record<string, CachedToken> = {}
  for (const [slot, token] of Object.entries(previous.tokens)) if (!drop.has(slot) && token.expiresAt > now) tokens[slot] = token
  const resources = previous.resources === undefined || next.resources === undefined ? next.resources : [...new Set([...previous.resources, ...next.resources])]
  return {
    ...next,
    tokens,
    resources,
    extraScopes: { ...previous.extraScopes, ...next.extraScopes },
    // Kept tokens may be DPoP-bound to the old key: the key goes with them.
    dpopKey: next.dpopKey ?? previous.dpopKey,
  }
}
