// @ts-nocheck
import type { LogoutResult } from '../client/resource-client.js'

/** What {@link WebHandlerOptions.onLogout} receives after a logout. */
export interface WebLogoutEvent {
  /** The logout request. Its body has been read. */
  readonly request: Request
  /** Headers of the response about to be sent: add a header (e.g. a cookie of the app's own) here. */
  readonly headers: Headers
  /** The grant key that was logged out: the old session id. A credential until now; never log it. */
  readonly key: string
  /** The ID token claims of the grant that ended, or `undefined` when there was no grant. */
  readonly claims: Readonly<Record<string, unknown>> | undefined
  /** What `ResourceClient.logout` did: revocation outcome and the end-session URL. */
  readonly result: LogoutResult
}
