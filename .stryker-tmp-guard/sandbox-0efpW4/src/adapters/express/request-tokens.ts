// @ts-nocheck
// `req.resourceTokens`: the web handlers' per-request tokens, typed onto Express's Request.
import type { RequestResourceTokens } from '../../web/request-tokens.js'

export type { RequestResourceTokens } from '../../web/request-tokens.js'

declare global {
  // Express's documented way to type what middleware adds to the request: its types declare the global
  // `Express` namespace for this, so a namespace it must be.
  namespace Express {
    interface Request {
      /** The signed-in user's tokens; set by `requireLogin` (always) and `optionalLogin` (when signed in). */
      resourceTokens?: RequestResourceTokens
    }
  }
}
