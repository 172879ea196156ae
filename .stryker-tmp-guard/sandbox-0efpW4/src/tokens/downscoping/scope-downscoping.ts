// @ts-nocheck
import type { CachedToken } from '../../grants/grant-record.js'
import type { LockLease } from '../../grants/grant-lock.js'
import type { GrantSnapshot } from '../../grants/grant-repository.js'
import type { GrantKeys } from '../../grants/store-keys.js'
import type { RegisteredResource } from '../../resources/resource.js'
import type { GrantRefresher } from '../grant-refresher.js'
import { restrictionTo, type Downscoping } from './downscoping.js'

/** `downscoping: 'scope'` (default): a refresh_token grant per resource with its `scope` (and `resource`). */
export class ScopeDownscoping implements Downscoping {
  constructor(private readonly refresher: GrantRefresher) {}

  slot(resource: RegisteredResource): string {
    return resource.id
  }

  obtain(keys: GrantKeys, snapshot: GrantSnapshot, resource: RegisteredResource, lease?: LockLease): Promise<CachedToken> {
    return this.refresher.refresh(keys, snapshot, { resource, parameters: restrictionTo(resource), slot: resource.id, lease })
  }
}
