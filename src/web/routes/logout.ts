// POST mountPath/logout (the browser's) and POST mountPath/backchannel-logout (the provider's).
import { backchannelLogoutResponse, handleBackchannelLogoutRequest } from '../../login/backchannel-logout.js'
import { readForm } from '../form.js'
import { appUrl, sessionIdOf, type HandlerContext, type ParsedForm } from '../handler-context.js'
import { describeError, failureResponse, jsonResponse, redirectResponse, wantsHtml } from '../responses.js'
import { clearedSessionCookie } from '../session-cookie.js'
import { csrfFailure } from './csrf-check.js'
import { unreadableForm } from './failures.js'

/** Same-origin and CSRF-token checked; revokes, clears the cookie, then RP-initiated logout. */
export async function logout(ctx: HandlerContext, request: Request, given?: ParsedForm): Promise<Response> {
  try {
    const key = sessionIdOf(ctx, request)
    const form = given ?? (await readForm(request))
    if (form === null) return unreadableForm(request)
    const refused = csrfFailure(ctx, request, key, form)
    if (refused !== undefined) return failureResponse(request, refused, ctx.home)
    const headers = new Headers()
    headers.append('Set-Cookie', clearedSessionCookie(ctx.config))
    const { endSessionUrl, revocation } = key === undefined ? {} : await endSession(ctx, request, key, headers)
    if (wantsHtml(request.headers)) return redirectResponse(endSessionUrl?.href ?? appUrl(ctx, ctx.config.afterLogoutPath), headers)
    return jsonResponse({ logged_out: true, end_session_url: endSessionUrl?.href ?? null, revocation: revocation ?? null }, 200, headers)
  } catch (err) {
    return failureResponse(request, describeError(err, ctx.log), ctx.home)
  }
}

/** Logs the session out in the core, then runs the `onLogout` hook, whose throw does not undo the logout. */
async function endSession(ctx: HandlerContext, request: Request, key: string, headers: Headers): Promise<{ endSessionUrl?: URL | undefined; revocation?: unknown }> {
  const claims = await ctx.client.claims(key)
  const result = await ctx.client.logout(key)
  try {
    await ctx.config.onLogout?.({ request, headers, key, claims, result })
  } catch (err) {
    ctx.log.error?.('the onLogout hook failed; the logout stands', { cause: err })
  }
  return { endSessionUrl: result.endSessionUrl, revocation: result.revocation }
}

/** OpenID Connect Back-Channel Logout 1.0: reads a bounded body unless the framework parsed `form`. */
export async function backchannelLogout(ctx: HandlerContext, request: Request, form?: ParsedForm): Promise<Response> {
  if (form === undefined || request.method !== 'POST') return handleBackchannelLogoutRequest(ctx.client, request, ctx.log)
  const answer = await backchannelLogoutResponse(ctx.client, form, ctx.log)
  return new Response(answer.body === '' ? null : answer.body, { status: answer.status, headers: answer.headers })
}
