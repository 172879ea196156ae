// GET mountPath/login and GET mountPath/callback: the two halves of a browser's sign-in.
import { ResourceTokensError } from '../../errors/resource-tokens-error.js'
import { appUrl, requestPath, safeReturnTo, sessionIdOf, signedInKey, type HandlerContext } from '../handler-context.js'
import { describeError, failureResponse, redirectResponse } from '../responses.js'
import { newSessionId, sessionCookie } from '../session-cookie.js'

/** A new session id and a redirect to the provider; a signed-in browser goes straight to `returnTo`. */
export async function login(ctx: HandlerContext, request: Request): Promise<Response> {
  try {
    const returnTo = safeReturnTo(new URL(request.url).searchParams.get('returnTo'))
    // Already signed in: nothing to do. Starting over would throw the session away, and a cross-site
    // link to /login could then sign people out.
    if ((await signedInKey(ctx, request)) !== undefined) return redirectResponse(appUrl(ctx, returnTo))
    // A new id for every login: whatever id the browser had (perhaps planted) never gets a grant.
    const key = newSessionId()
    const { url } = await ctx.client.startLogin(key, { returnTo })
    const headers = new Headers()
    headers.append('Set-Cookie', sessionCookie(key, ctx.config))
    return redirectResponse(url.href, headers)
  } catch (err) {
    return failureResponse(request, describeError(err, ctx.log), ctx.home)
  }
}

/** Finishes the login of this browser's session and redirects to its `returnTo`. */
export async function callback(ctx: HandlerContext, request: Request): Promise<Response> {
  // The code is in this URL: keep it out of Referer headers of whatever comes next.
  const headers = (): Headers => new Headers({ 'Referrer-Policy': 'no-referrer' })
  const key = sessionIdOf(ctx, request)
  try {
    if (key === undefined) throw new ResourceTokensError('invalid_callback', 'the callback came without the session cookie of its login')
    // Built from configuration: the core compares it with the registered redirect URI.
    const { returnTo } = await ctx.client.finishLogin(key, appUrl(ctx, requestPath(request.url)))
    return redirectResponse(appUrl(ctx, safeReturnTo(returnTo)), headers())
  } catch (err) {
    // The core stores nothing when it throws, and the cookie is left alone: a replayed or stale
    // callback must not end a session that is signed in.
    return failureResponse(request, describeError(err, ctx.log), ctx.homeLinks, headers())
  }
}
