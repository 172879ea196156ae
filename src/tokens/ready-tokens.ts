import type { CachedToken } from '../grants/grant-record.js'
import type { GrantSnapshot } from '../grants/grant-repository.js'
import { BoundedMap, type BoundedEntry } from '../lib/bounded-map.js'
import type { RegisteredResource } from '../resources/resource.js'

/** Resources remembered per grant; a grant used with more has its oldest route replaced (and looked up the long way). */
const ROUTES_PER_GRANT = 8

/** Request URLs remembered per grant (a lane each), and up to what length. */
const LANES_PER_GRANT = 4
const LANE_MAX_LENGTH = 512

/** One resource's fresh token, as the full lookup found it in one cached grant. */
interface Route {
  readonly resource: RegisteredResource
  readonly token: CachedToken
  /** Until when the token may be handed out without any other check: its renewal time or the session's end, whichever is first. */
  readonly until: number
}

/**
 * A request URL of the grant's, ready to send: the exact input string, the URL it parsed to, the resource it
 * belongs to and the bearer token (with its header) that goes with it. A lane holds while its route does and the
 * resources have not changed since it was made (`version`: a resource added or removed may claim the URL).
 */
export interface Lane {
  readonly input: string
  readonly url: URL
  readonly resource: RegisteredResource
  readonly token: CachedToken
  readonly authorization: string
  readonly until: number
  readonly version: number
}

/** What one grant cache entry's `memo` holds. */
interface GrantMemo {
  readonly routes: Route[]
  readonly lanes: Lane[]
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
 *
 * On top of the routes, {@link lane}s: request URLs of the grant already located and sent with a route's bearer
 * token, so that `fetch(url)` of the same URL again skips locating, the token lookup and building the header.
 */
export class ReadyTokens {
  readonly #byKey: BoundedMap<BoundedEntry<GrantSnapshot>>

  constructor(maxGrants: number) {
    this.#byKey = new BoundedMap(maxGrants)
  }

  /** The remembered token of `resource` for the grant under `key`, if it may be handed out at `now`. */
  find(key: string, resource: RegisteredResource, now: number): CachedToken | undefined {
    const routes = this.#memoOf(key, now)?.routes
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
    const memo = (grant.memo as GrantMemo | undefined) ?? { routes: [], lanes: [] }
    putBounded(memo.routes, { resource, token, until }, (r) => r.resource === resource, ROUTES_PER_GRANT)
    grant.memo = memo
  }

  /** The lane of `input` for the grant under `key`, if it may be used at `now` with the resources at `version`. */
  lane(key: string, input: string, version: number, now: number): Lane | undefined {
    const lanes = this.#memoOf(key, now)?.lanes
    if (lanes === undefined) return undefined
    for (let i = 0; i < lanes.length; i++) {
      const lane = lanes[i]!
      if (lane.input !== input) continue
      return lane.version === version && now < lane.until ? lane : undefined
    }
    return undefined
  }

  /**
   * Makes a lane of `input` (parsed to `url`, located in `resource` with the resources at `version`), when the
   * grant's memo holds `token` as the fresh token of `resource` right now: a lane never outlives its route.
   */
  addLane(key: string, input: string, url: URL, resource: RegisteredResource, token: CachedToken, authorization: string, version: number, now: number): void {
    if (input.length > LANE_MAX_LENGTH) return
    const memo = this.#memoOf(key, now)
    const route = memo?.routes.find((r) => r.resource === resource)
    if (memo === undefined || route === undefined || route.token !== token || !(now < route.until)) return
    putBounded(memo.lanes, { input, url, resource, token, authorization, until: route.until, version }, (l) => l.input === input, LANES_PER_GRANT)
  }

  /** The memo of the grant under `key`, while the cache entry it hangs on is current at `now`. */
  #memoOf(key: string, now: number): GrantMemo | undefined {
    const grant = this.#byKey.get(key, 0)
    return grant !== undefined && grant.expiresAt > now ? (grant.memo as GrantMemo | undefined) : undefined
  }
}

/** Puts `item` in place of the one `same` finds, or at the end, dropping the oldest past `max`. */
function putBounded<T>(list: T[], item: T, same: (existing: T) => boolean, max: number): void {
  const index = list.findIndex(same)
  if (index >= 0) list[index] = item
  else {
    if (list.length >= max) list.shift()
    list.push(item)
  }
}
