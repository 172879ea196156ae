// POST /backchannel-logout: the provider's server-to-server call (OpenID Connect Back-Channel Logout 1.0). No
// session cookie, no CSRF token, no redirect: the framework-neutral endpoint decides, this file only reads the form.
import type { Request, RequestHandler, Response } from 'express'

import { backchannelLogoutResponse } from '../../login/backchannel-logout.js'
import type { AdapterContext } from './context.js'

/** POST /backchannel-logout with a form body carrying `logout_token`. */
export function backchannelLogoutRoute(ctx: AdapterContext): RequestHandler {
  return async (req: Request, res: Response) => {
    // A body that does not parse (too large, malformed, another content type) has no logout_token.
    const parsed = await ctx.readForm(req, res)
    const form = parsed && typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>) : undefined
    const answer = await backchannelLogoutResponse(ctx.client, form, ctx.config.logger)
    res.status(answer.status).set(answer.headers)
    res.end(answer.body)
  }
}
