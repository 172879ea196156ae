import type { CachedToken } from '../grants/grant-record.js'
import type { GrantSnapshot } from '../grants/grant-repository.js'
import { BoundedMap, type BoundedEntry } from '../lib/bounded-map.js'
import type { RegisteredResource } from '../resources/resource.js'

/** Resources remembered per grant; a grant used with more has its oldest route replaced (and looked up the long way). */
const ROUTES_PER_GRANT = 8

/** One resource's fresh token, as the full lookup found it in one cached grant. */
interface Route {
  readonly resource: RegisteredResource
  readonly token: CachedToken
  /** Until when the token may be handed out without any other check: its renewal time or the session's end, whichever is first. */
  readonly until: number
}

/**
 * The warm path's memo: per grant key, the grant cache entry the last full lookup used, and for each resource the
 * fresh token found in it. A memo answer is exactly what the full lookup would give, because it holds only while
 * nothing that lookup reads has changed:
 *
 * - the grant cache entry is still the current one (its `expiresAt` drops the moment the grant is written, a change
 *   is announced, or the entry is evicted or ages out: see {@link BoundedEntry});
 * - the clock is before the token's renewal time and before the session's end (both read from that same entry);
 * - the resource is the same registered object (run-time resources are new objects; a removed one is never matched).
 *
 * Routes live in the entry's `memo`, so they are released with the entry, and the map of grant keys is bounded.
 * A token in its renewal window or a grant in no cache is never remembered: the full lookup runs.
 */
export class ReadyTokens {
  readonly #byKey: BoundedMap<BoundedEntry<GrantSnapshot>>

  constructor(maxGrants: number) {
    this.#byKey = new BoundedMap(maxGrants)
  }

  /** The remembered token of `resource` for the grant under `key`, if it may be handed out at `now`. */
  find(key: string, resource: RegisteredResource, now: number): CachedToken | undefined {
    const grant = this.#byKey.get(key, 0)
    if (grant === undefined || !(grant.expiresAt > now)) return undefined
    const routes = grant.memo as Route[] | undefined
    if (routes === undefined) return undefined
    for (let i = 0; i < routes.length; i++) {
      const route = routes[i]!
      if (route.resource === resource) return now < route.until ? route.token : undefined
    }
    return undefined
  }

  /** Remembers what the full lookup found: `token` of `resource`, fresh until `until`, read from the cache entry `grant`. */
  remember(key: string, grant: BoundedEntry<GrantSnapshot>, resource: RegisteredResource, token: CachedToken, until: number): void {
    if (this.#byKey.get(key, 0) !== grant) this.#byKey.set(key, grant, Infinity, 0)
    const routes = (grant.memo as Route[] | undefined) ?? []
    const route: Route = { resource, token, until }
    const index = routes.findIndex((r) => r.resource === resource)
    if (index >= 0) routes[index] = route
    else {
      if (routes.length >= ROUTES_PER_GRANT) routes.shift()
      routes.push(route)
    }
    grant.memo = routes
  }
}
