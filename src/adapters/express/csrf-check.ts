// The CSRF defence of state-changing routes as Express sees it: logout's check, and the `verifyCsrf`
// middleware apps put in front of their own forms.
import type { Request, RequestHandler, Response } from 'express'

import { homeLink, type AdapterContext } from './context.js'
import { CSRF_FIELD, CSRF_HEADER, checkCsrfToken, isSameOriginRequest } from './csrf.js'
import { sendFailure, type Failure } from './responses.js'
import { readSessionId } from './session-cookie.js'

const UNREADABLE_FORM: Failure = { status: 400, error: 'invalid_request', title: 'Bad request', message: 'The form could not be read.' }

/** Cross-origin and CSRF-token checks shared by logout and {@link verifyCsrfMiddleware}; `undefined` when they pass. */
export function csrfFailure(ctx: AdapterContext, req: Request, key: string | undefined, form: unknown): Failure | undefined {
  if (!isSameOriginRequest(req.headers, ctx.config.origin)) {
    return { status: 403, error: 'cross_origin_request', title: 'Request refused', message: 'This action can only be started from this app\'s own pages.' }
  }
  if (key === undefined) return undefined
  const field = typeof form === 'object' && form !== null ? (form as Record<string, unknown>)[CSRF_FIELD] : undefined
  const header = req.headers[CSRF_HEADER]
  if (!checkCsrfToken(key, field) && !checkCsrfToken(key, Array.isArray(header) ? header[0] : header)) {
    return { status: 403, error: 'invalid_csrf_token', title: 'Request refused', message: 'The page was out of date. Go back, reload it and try again.' }
  }
  return undefined
}

/**
 * Reads the form and runs {@link csrfFailure}; answers the refusal itself and returns `false` when the
 * request must stop. `signedOut` is the refusal for a request without a session (`undefined`: let it through).
 */
export async function passesCsrf(ctx: AdapterContext, req: Request, res: Response, key: string | undefined, signedOut?: Failure): Promise<boolean> {
  if (!(await ctx.readForm(req, res))) {
    sendFailure(req, res, UNREADABLE_FORM)
    return false
  }
  const refused = key === undefined && signedOut !== undefined ? signedOut : csrfFailure(ctx, req, key, req.body)
  if (refused === undefined) return true
  sendFailure(req, res, refused, homeLink(ctx))
  return false
}

/** {@link ExpressResourceTokens.verifyCsrf}: refuses a request without a session, from another origin, or without the token. */
export function verifyCsrfMiddleware(ctx: AdapterContext): RequestHandler {
  const signedOut: Failure = { status: 403, error: 'invalid_csrf_token', title: 'Request refused', message: 'Sign in first.' }
  return async (req, res, next) => {
    const key = readSessionId(req.headers, ctx.config.cookieName)
    if (await passesCsrf(ctx, req, res, key, signedOut)) next()
  }
}
