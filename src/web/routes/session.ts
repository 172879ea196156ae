// The signed-in user's tokens for a request.
import { signedInKey, type HandlerContext } from '../handler-context.js'
import { bindTokens, type RequestResourceTokens } from '../request-tokens.js'
import { describeError, failureResponse } from '../responses.js'
import { loginRequired } from './failures.js'

/** The tokens, or `undefined` when the request has no session with a grant. Throws only for store failures. */
export async function session(ctx: HandlerContext, request: Request): Promise<RequestResourceTokens | undefined> {
  const key = await signedInKey(ctx, request)
  return key === undefined ? undefined : bindTokens(ctx.client, key)
}

/** The tokens, or the response to send instead: a login redirect, a 401, or a 503. */
export async function requireLogin(ctx: HandlerContext, request: Request): Promise<RequestResourceTokens | Response> {
  try {
    return (await session(ctx, request)) ?? loginRequired(ctx, request)
  } catch (err) {
    return failureResponse(request, describeError(err, ctx.log))
  }
}
