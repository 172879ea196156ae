// @ts-nocheck
import type { Request, Response } from 'express'
import type { LogoutResult } from '../../client/resource-client.js'

/** What {@link ExpressAdapterOptions.onLogout} receives after a logout. */
export interface LogoutEvent {
  readonly req: Request
  /** The response, for headers only (e.g. a cookie of the app's own); the adapter sends the redirect. */
  readonly res: Response
  /** The grant key that was logged out: the old session id. A credential until now; never log it. */
  readonly key: string
  /** The ID token claims of the grant that ended, or `undefined` when there was no grant. */
  readonly claims: Readonly<Record<string, unknown>> | undefined
  /** What `ResourceClient.logout` (from `resource-tokens`) did: revocation outcome and the end-session URL. */
  readonly result: LogoutResult
}
