// The handlers' own refusals, and the answer to a request that needs a login.
import { ResourceTokensError } from '../../errors/resource-tokens-error.js'
import { appUrl, requestPath, safeReturnTo, type HandlerContext } from '../handler-context.js'
import { describeError, failureResponse, jsonResponse, redirectResponse, wantsHtml } from '../responses.js'

/** A redirect to login (and back here afterwards) for a browser; 401 JSON otherwise. */
export function loginRequired(ctx: HandlerContext, request: Request): Response {
  if (wantsHtml(request.headers)) {
    const target = request.method === 'GET' || request.method === 'HEAD' ? safeReturnTo(requestPath(request.url)) : '/'
    const query = target === '/' ? '' : `?returnTo=${encodeURIComponent(target)}`
    return redirectResponse(appUrl(ctx, `${ctx.paths.login}${query}`))
  }
  return jsonResponse({ error: 'login_required', error_description: 'sign in first', login_url: appUrl(ctx, ctx.paths.login) }, 401)
}

/** 405 with `Allow`; logout's page says why a link cannot sign out. */
export function methodNotAllowed(ctx: HandlerContext, request: Request, allow: string): Response {
  const headers = new Headers({ Allow: allow })
  return allow === 'POST'
    ? failureResponse(request, { status: 405, error: 'method_not_allowed', title: 'Use the sign-out button', message: 'Signing out needs a POST from this app\'s own page.' }, ctx.home, headers)
    : failureResponse(request, { status: 405, error: 'method_not_allowed', title: 'Method not allowed', message: 'This address only answers GET.' }, ctx.home, headers)
}

/** The 400 for a form that is too large or has too many fields. */
export function unreadableForm(request: Request): Response {
  return failureResponse(request, { status: 400, error: 'invalid_request', title: 'Bad request', message: 'The form could not be read.' })
}

/** The response for an error thrown while serving `request`: `login_required` gets {@link loginRequired}. */
export function errorResponse(ctx: HandlerContext, request: Request, err: unknown): Response {
  if (err instanceof ResourceTokensError && err.code === 'login_required') return loginRequired(ctx, request)
  return failureResponse(request, describeError(err, ctx.log), ctx.home)
}
