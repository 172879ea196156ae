// Injected failures of the token and revocation endpoints: what a real provider does when it is down,
// overloaded or cut off, which oidc-provider itself never does on demand.
import type { IncomingMessage, ServerResponse } from 'node:http'

/**
 * An HTTP answer to send instead of the provider's, `'reset'` for a destroyed socket, or the provider's own
 * successful answer with its `access_token` rewritten (something in front of the token endpoint corrupting it:
 * the request still reaches oidc-provider, so a refresh token rotates for real).
 */
export type TokenFault = { status: number; body?: string; contentType?: string } | 'reset' | AccessTokenRewrite

/** Rewrites the `access_token` of the provider's successful answer. */
export interface AccessTokenRewrite {
  accessToken: (issued: string) => string
}

/** True for a fault that lets the request through and rewrites the answer. */
export function isRewrite(fault: TokenFault): fault is AccessTokenRewrite {
  return typeof fault === 'object' && 'accessToken' in fault
}

/** What a failing revocation endpoint answers unless a test says otherwise. */
export const DEFAULT_REVOCATION_FAULT: TokenFault = { status: 503, body: '{"error":"temporarily_unavailable"}' }

/** A fault for every request arriving between two instants (epoch milliseconds): an outage. */
interface FaultWindow {
  from: number
  until: number
  fault: TokenFault
}

/**
 * Faults armed for the next requests of one endpoint, used up in arrival order, and outages: windows of
 * time in which every request gets the same fault (a provider down for 20 s, however many requests come).
 */
export class FaultQueue {
  readonly #pending: TokenFault[] = []
  #windows: FaultWindow[] = []

  /** Arms `fault` for the next `count` requests, after any already armed. */
  add(count: number, fault: TokenFault): void {
    for (let i = 0; i < count; i += 1) this.#pending.push(fault)
  }

  /** Every request arriving from `from` until `until` (epoch ms, `Date.now()`) gets `fault`. */
  addWindow(from: number, until: number, fault: TokenFault): void {
    this.#windows.push({ from, until, fault })
  }

  /** The fault for the request that just arrived, if one is armed: counted faults first, then an outage. */
  next(now = Date.now()): TokenFault | undefined {
    const counted = this.#pending.shift()
    if (counted !== undefined) return counted
    this.#windows = this.#windows.filter((w) => w.until > now)
    return this.#windows.find((w) => w.from <= now)?.fault
  }
}

/** Sends an injected failure: a destroyed socket for 'reset', else the given response. */
export function sendFault(req: IncomingMessage, res: ServerResponse, fault: Exclude<TokenFault, AccessTokenRewrite>): void {
  if (fault === 'reset') {
    req.socket.destroy()
    return
  }
  res.statusCode = fault.status
  if (fault.body !== undefined) res.setHeader('content-type', fault.contentType ?? 'application/json')
  res.end(fault.body ?? '')
}
