// Routing by path and method onto the route functions.
import type { HandlerContext, ParsedForm } from '../handler-context.js'
import { methodNotAllowed } from './failures.js'
import { callback, login } from './login.js'
import { backchannelLogout, logout } from './logout.js'

/** The response of the route at `request.url`'s path; `undefined` for any other path. A wrong method gets 405. */
export async function handle(ctx: HandlerContext, request: Request, form?: ParsedForm): Promise<Response | undefined> {
  const path = new URL(request.url).pathname
  const read = request.method === 'GET' || request.method === 'HEAD'
  switch (path) {
    case ctx.paths.login:
      return read ? login(ctx, request) : methodNotAllowed(ctx, request, 'GET, HEAD')
    case ctx.paths.callback:
      return read ? callback(ctx, request) : methodNotAllowed(ctx, request, 'GET, HEAD')
    case ctx.paths.logout:
      // Logout changes state: any other method is refused, so a link or an <img> cannot trigger it.
      return request.method === 'POST' ? logout(ctx, request, form) : methodNotAllowed(ctx, request, 'POST')
    case ctx.paths.backchannelLogout:
      return backchannelLogout(ctx, request, form)
    default:
      return undefined
  }
}
