// POST /logout: revoke the grant, clear the cookie, and send the browser to the provider's end-session
// page. Any other method is refused, so a link or an <img> cannot sign anyone out.
import type { Request, RequestHandler, Response } from 'express'

import type { LogoutResult } from '../../client/resource-client.js'
import { homeLink, sendError, type AdapterContext } from './context.js'
import { passesCsrf } from './csrf-check.js'
import { sendFailure, wantsHtml } from './responses.js'
import { clearedSessionCookie, readSessionId } from './session-cookie.js'

/** POST /logout, behind the same-origin and CSRF-token checks. */
export function logoutRoute(ctx: AdapterContext): RequestHandler {
  return async (req: Request, res: Response) => {
    try {
      const key = readSessionId(req.headers, ctx.config.cookieName)
      if (!(await passesCsrf(ctx, req, res, key))) return
      let result: LogoutResult | undefined
      if (key === undefined) res.append('Set-Cookie', clearedSessionCookie(ctx.config))
      else result = await endSession(ctx, req, res, key)
      if (res.headersSent) return
      const endSessionUrl = result?.endSessionUrl
      if (wantsHtml(req)) {
        res.redirect(303, endSessionUrl?.href ?? ctx.appUrl(ctx.config.afterLogoutPath))
      } else {
        res.json({ logged_out: true, end_session_url: endSessionUrl?.href ?? null, revocation: result?.revocation ?? null })
      }
    } catch (err) {
      sendError(ctx, req, res, err, homeLink(ctx))
    }
  }
}

/** Logs `key` out at the core, clears the cookie and tells the app's `onLogout` hook. */
async function endSession(ctx: AdapterContext, req: Request, res: Response, key: string): Promise<LogoutResult> {
  const claims = await ctx.client.claims(key)
  const result = await ctx.client.logout(key)
  res.append('Set-Cookie', clearedSessionCookie(ctx.config))
  try {
    await ctx.config.onLogout?.({ req, res, key, claims, result })
  } catch (err) {
    ctx.config.logger.error?.('the onLogout hook failed; the logout stands', { cause: err })
  }
  return result
}

/** Any method but POST on /logout: 405. */
export function logoutMethodNotAllowed(ctx: AdapterContext): RequestHandler {
  return (req: Request, res: Response) => {
    res.set('Allow', 'POST')
    sendFailure(req, res, { status: 405, error: 'method_not_allowed', title: 'Use the sign-out button', message: 'Signing out needs a POST from this app\'s own page.' }, homeLink(ctx))
  }
}
