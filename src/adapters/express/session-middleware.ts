// Middleware that reads the adapter's session: `requireLogin`, `optionalLogin` and `handleLoginRequired`.
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express'

import { ResourceTokensError } from '../../errors/resource-tokens-error.js'
import { safeReturnTo, sendError, signedInKey, type AdapterContext } from './context.js'
import { bindTokens } from './request-tokens.js'
import { requestTarget } from './request-target.js'
import { wantsHtml } from './responses.js'

/** The answer to a request that needs a login: a redirect for a browser, 401 JSON for the rest. */
function loginRequired(ctx: AdapterContext, req: Request, res: Response): void {
  res.set('Cache-Control', 'no-store')
  const loginUrl = ctx.appUrl(ctx.paths.login)
  if (!wantsHtml(req)) {
    res.status(401).json({ error: 'login_required', error_description: 'sign in first', login_url: loginUrl })
    return
  }
  const target = req.method === 'GET' || req.method === 'HEAD' ? safeReturnTo(requestTarget(req.originalUrl) ?? '/') : '/'
  res.redirect(303, target === '/' ? loginUrl : `${loginUrl}?returnTo=${encodeURIComponent(target)}`)
}

/** Reads the session; with `required`, a visitor without one is sent to login (or gets a 401). */
export function loginMiddleware(ctx: AdapterContext, required: boolean): RequestHandler {
  return async (req, res, next) => {
    let key: string | undefined
    try {
      key = await signedInKey(ctx, req)
    } catch (err) {
      sendError(ctx, req, res, err)
      return
    }
    if (key !== undefined) {
      const tokens = bindTokens(ctx.client, key)
      req.resourceTokens = tokens
      res.locals['resourceTokens'] = tokens
    } else if (required) {
      loginRequired(ctx, req, res)
      return
    }
    next()
  }
}

/** Error middleware: a `login_required` thrown later gets the same answer as `requireLogin`. */
export function loginRequiredErrorHandler(ctx: AdapterContext): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (err instanceof ResourceTokensError && err.code === 'login_required' && !res.headersSent) {
      loginRequired(ctx, req, res)
      return
    }
    next(err)
  }
}
