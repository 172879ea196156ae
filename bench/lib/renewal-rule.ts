// The library's renewal rule (issue 17), the one the benchmark's minimums and windows are computed from:
// a token is renewed in the background from `refreshAt = expiresAt - min(skewSeconds, lifetime / 2)`, and
// served (while renewal keeps failing) until `expiresAt - margin`, `margin = min(5 s, (expiresAt - refreshAt) / 3)`.

/** The library's default `skewSeconds`. */
export const DEFAULT_SKEW_S = 30
/** The most a token's end of service comes before its expiry. */
export const MAX_MARGIN_S = 5

export interface RenewalSchedule {
  lifetimeS: number
  /** Seconds after a token was requested when its renewal is due. */
  renewAfterS: number
  /** Seconds after a token was requested until which it is still served when renewal fails. */
  servedUntilS: number
}

export function renewalSchedule(lifetimeS: number, skewS = DEFAULT_SKEW_S): RenewalSchedule {
  const ahead = Math.min(skewS, lifetimeS / 2)
  const margin = Math.min(MAX_MARGIN_S, ahead / 3)
  return { lifetimeS, renewAfterS: lifetimeS - ahead, servedUntilS: lifetimeS - margin }
}

/**
 * The fewest token requests a run of `durationS` can make for `resources` resources, starting without
 * tokens: one each at the start, then one per renewal due before the end (renewals come a little after
 * they are due, so a renewal due exactly at the end falls outside the run).
 */
export function minimumTokenRequests(durationS: number, lifetimeS: number, resources: number): { minimum: number; formula: string } {
  const { renewAfterS } = renewalSchedule(lifetimeS)
  const minimum = resources * Math.ceil(durationS / renewAfterS)
  return { minimum, formula: `${resources} resources × ceil(${durationS} s / ${renewAfterS} s) = ${minimum}` }
}
