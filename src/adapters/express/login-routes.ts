// GET /login and GET /callback: start a login at the provider, and finish it when the browser comes back.
import type { Request, RequestHandler, Response } from 'express'

import { ResourceTokensError } from '../../errors/resource-tokens-error.js'
import { homeLink, safeReturnTo, sendError, signedInKey, type AdapterContext, type Links } from './context.js'
import { requestTarget } from './request-target.js'
import { newSessionId, readSessionId, sessionCookie } from './session-cookie.js'

/** GET /login?returnTo=/path: a fresh session id in a cookie, and a redirect to the provider. */
export function loginRoute(ctx: AdapterContext): RequestHandler {
  return async (req: Request, res: Response) => {
    try {
      const returnTo = safeReturnTo(new URLSearchParams(queryOf(req.originalUrl)).get('returnTo'))
      // Already signed in: nothing to do. Starting over would throw the session away, and a cross-site
      // link to /login could then sign people out.
      if ((await signedInKey(ctx, req)) !== undefined) {
        res.redirect(303, ctx.appUrl(returnTo))
        return
      }
      // A new id for every login: whatever id the browser had (perhaps planted) never gets a grant.
      const key = newSessionId()
      const { url } = await ctx.client.startLogin(key, { returnTo })
      res.append('Set-Cookie', sessionCookie(key, ctx.config))
      res.redirect(303, url.href)
    } catch (err) {
      sendError(ctx, req, res, err, homeLink(ctx))
    }
  }
}

/** GET /callback: the core checks and stores the grant; the browser goes back where it started. */
export function callbackRoute(ctx: AdapterContext): RequestHandler {
  const links: Links = [['Sign in again', ctx.appUrl(ctx.paths.login)], ...homeLink(ctx)]
  return async (req: Request, res: Response) => {
    // The code is in this URL: keep it out of Referer headers of whatever comes next.
    res.set('Referrer-Policy', 'no-referrer')
    const key = readSessionId(req.headers, ctx.config.cookieName)
    try {
      if (key === undefined) throw new ResourceTokensError('invalid_callback', 'the callback came without the session cookie of its login')
      // Built from configuration: the core compares it with the registered redirect URI.
      const callbackUrl = ctx.appUrl(requestTarget(req.originalUrl) ?? '/')
      const { returnTo } = await ctx.client.finishLogin(key, callbackUrl)
      res.redirect(303, ctx.appUrl(safeReturnTo(returnTo)))
    } catch (err) {
      // The core stores nothing when it throws, and the cookie is left alone: a replayed or stale
      // callback must not end a session that is signed in.
      sendError(ctx, req, res, err, links)
    }
  }
}

function queryOf(originalUrl: string): string {
  const at = originalUrl.indexOf('?')
  return at < 0 ? '' : originalUrl.slice(at + 1)
}
