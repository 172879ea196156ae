// @ts-nocheck
import type { CachedToken } from '../../grants/grant-record.js'
import type { LockLease } from '../../grants/grant-lock.js'
import type { GrantSnapshot } from '../../grants/grant-repository.js'
import type { GrantKeys } from '../../grants/store-keys.js'
import type { RegisteredResource } from '../../resources/resource.js'

/**
 * Cache slot of the full-scope token in a grant record (no down-scoping, or the subject token of a token
 * exchange). Not a resource id (those are URLs), so it never collides with one. The value is stored: keep it.
 */
export const FULL_SCOPE_SLOT = '*'

/** How a resource's token is obtained from the user's grant: one implementation per `downscoping` option. */
export interface Downscoping {
  /** Where the resource's token is cached in the grant record. */
  slot(resource: RegisteredResource): string
  /**
   * Obtains a token for `resource` from the provider and stores it; the caller holds the grant lock, whose `lease`
   * is checked right before each token request.
   */
  obtain(keys: GrantKeys, snapshot: GrantSnapshot, resource: RegisteredResource, lease?: LockLease): Promise<CachedToken>
}

/** The `scope` and RFC 8707 `resource` parameters that restrict a token to `resource`. */
export function restrictionTo(resource: RegisteredResource): URLSearchParams {
  const parameters = new URLSearchParams({ scope: resource.scope })
  if (resource.indicator !== undefined) parameters.set('resource', resource.indicator)
  return parameters
}
