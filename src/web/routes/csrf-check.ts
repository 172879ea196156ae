// Cross-origin and CSRF-token checks, shared by logout and the app's own state-changing routes.
import { CSRF_FIELD, CSRF_HEADER, checkCsrfToken, isSameOriginRequest } from '../csrf.js'
import { formField, readForm } from '../form.js'
import { sessionIdOf, type HandlerContext, type ParsedForm } from '../handler-context.js'
import { failureResponse, type Failure } from '../responses.js'
import { unreadableForm } from './failures.js'

/** Why the request is refused, or `undefined` when it may go on. Without a session only the origin is checked. */
export function csrfFailure(ctx: HandlerContext, request: Request, key: string | undefined, form: ParsedForm | undefined): Failure | undefined {
  if (!isSameOriginRequest(request.headers, ctx.config.origin)) {
    return { status: 403, error: 'cross_origin_request', title: 'Request refused', message: 'This action can only be started from this app\'s own pages.' }
  }
  if (key === undefined) return undefined
  if (!checkCsrfToken(key, formField(form, CSRF_FIELD)) && !checkCsrfToken(key, request.headers.get(CSRF_HEADER))) {
    return { status: 403, error: 'invalid_csrf_token', title: 'Request refused', message: 'The page was out of date. Go back, reload it and try again.' }
  }
  return undefined
}

/** A 403 when the request is cross-origin, signed out or lacks the session's CSRF token; `undefined` to go on. */
export async function verifyCsrf(ctx: HandlerContext, request: Request, given?: ParsedForm): Promise<Response | undefined> {
  const key = sessionIdOf(ctx, request)
  const form = given ?? (await readForm(request))
  if (form === null) return unreadableForm(request)
  const refused = key === undefined
    ? { status: 403, error: 'invalid_csrf_token', title: 'Request refused', message: 'Sign in first.' }
    : csrfFailure(ctx, request, key, form)
  return refused === undefined ? undefined : failureResponse(request, refused, ctx.home)
}
