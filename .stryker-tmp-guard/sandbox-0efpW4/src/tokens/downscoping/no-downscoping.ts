// @ts-nocheck
import type { CachedToken } from '../../grants/grant-record.js'
import type { LockLease } from '../../grants/grant-lock.js'
import type { GrantSnapshot } from '../../grants/grant-repository.js'
import type { GrantKeys } from '../../grants/store-keys.js'
import type { RegisteredResource } from '../../resources/resource.js'
import type { GrantRefresher } from '../grant-refresher.js'
import { FULL_SCOPE_SLOT, type Downscoping } from './downscoping.js'

/** `downscoping: 'none'`: one full-scope token from the refresh token, shared by every resource. */
export class NoDownscoping implements Downscoping {
  constructor(private readonly refresher: GrantRefresher) {}

  slot(): string {
    return FULL_SCOPE_SLOT
  }

  obtain(keys: GrantKeys, snapshot: GrantSnapshot, resource: RegisteredResource, lease?: LockLease): Promise<CachedToken> {
    return this.refresher.refresh(keys, snapshot, { resource, parameters: new URLSearchParams(), slot: FULL_SCOPE_SLOT, lease })
  }
}
