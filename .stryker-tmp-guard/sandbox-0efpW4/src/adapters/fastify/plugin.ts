// @ts-nocheck
// The Fastify plugin: the web handlers mapped onto Fastify routes, decorators and preHandler hooks.
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import type { ResourceClient } from '../../client/resource-client.js'
import { ResourceTokensConfigError } from '../../errors/resource-tokens-error.js'
import { buildHandlers, type ParsedForm, type WebHandlers } from '../../web/handlers.js'
import { resolveWebOptions, type WebHandlerOptions } from '../../web/options.js'
import type { RequestResourceTokens } from '../../web/request-tokens.js'
import { sendWebResponse, toWebRequest } from './web-bridge.js'

/** Options of {@link resourceTokensPlugin}: the client plus the {@link WebHandlerOptions}. */
export interface FastifyResourceTokensOptions extends WebHandlerOptions {
  /** From `createResourceClient()`. Its `redirectUri` must be `baseUrl + mountPath + '/callback'`. */
  client: ResourceClient
}

/** What the plugin decorates the Fastify instance with, as `fastify.resourceTokens`. */
export interface FastifyResourceTokens {
  /** The `mountPath` option, resolved (default `/auth`): the routes are `/login`, `/callback` and `/logout` under it. */
  readonly mountPath: string
  /** Server paths of the three routes, e.g. for a logout form's `action`. */
  readonly paths: WebHandlers['paths']
  /**
   * preHandler: a signed-in request goes on with `request.resourceTokens` set; otherwise a browser is
   * redirected to login (and back here afterwards), any other request gets `401 {"error":"login_required"}`.
   */
  readonly requireLogin: preHandlerAsyncHookHandler
  /** preHandler: sets `request.resourceTokens` when the request is signed in; lets every request through. */
  readonly optionalLogin: preHandlerAsyncHookHandler
  /**
   * preHandler protecting a state-changing route the way logout is protected: 403 for a request the browser
   * marks cross-origin, or without the session's CSRF token in the header `X-CSRF-Token` or the form field
   * `_csrf` (forms need a URL-encoded body parser on the route, e.g. `@fastify/formbody`).
   */
  readonly verifyCsrf: preHandlerAsyncHookHandler
  /**
   * Replies what {@link requireLogin} would to a signed-out request. For a `login_required` error thrown by
   * `request.resourceTokens.fetch` (the provider no longer honours the grant), e.g. in the app's error handler.
   */
  readonly replyLoginRequired: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>
  /** Name of the form field carrying the CSRF token: `_csrf`. */
  readonly csrfField: string
  /** Name of the header carrying the CSRF token: `x-csrf-token`. */
  readonly csrfHeader: string
}

declare module 'fastify' {
  // Fastify's documented way to type decorators: declaration merging.
  interface FastifyInstance {
    /** Set by the resource-tokens plugin: its preHandlers and paths. */
    resourceTokens: FastifyResourceTokens
  }
  interface FastifyRequest {
    /** The signed-in user's tokens; set by `requireLogin` (always) and `optionalLogin` (when signed in), else `null`. */
    resourceTokens: RequestResourceTokens | null
  }
}

const FORM = 'application/x-www-form-urlencoded'

function formOf(body: unknown): ParsedForm | undefined {
  if (body instanceof URLSearchParams) return body
  if (typeof body === 'object' && body !== null) return body as Record<string, unknown>
  return undefined
}

async function resourceTokensFastify(fastify: FastifyInstance, options: FastifyResourceTokensOptions): Promise<void> {
  if (typeof options !== 'object' || options === null) throw new ResourceTokensConfigError('options must be an object with "client" and "baseUrl"')
  const { client, ...rest } = options
  // Registered with fastify-plugin, a `prefix` would be ignored: say so instead of mounting elsewhere.
  if ('prefix' in rest) throw new ResourceTokensConfigError('"prefix" is not used by this plugin: set "mountPath" instead')
  const config = resolveWebOptions(rest)
  const web = buildHandlers(client, config)
  const toWeb = (request: FastifyRequest): Request => toWebRequest(request, config.origin)

  const loginHook = (required: boolean): preHandlerAsyncHookHandler => async function (request, reply) {
    const webRequest = toWeb(request)
    const outcome = required ? await web.requireLogin(webRequest) : await sessionOrFailure(webRequest)
    if (outcome instanceof Response) return sendWebResponse(reply, outcome)
    if (outcome !== undefined) request.resourceTokens = outcome
  }
  async function sessionOrFailure(request: Request): Promise<RequestResourceTokens | Response | undefined> {
    try {
      return await web.session(request)
    } catch (err) {
      return web.errorResponse(request, err)
    }
  }

  const verifyCsrf: preHandlerAsyncHookHandler = async function (request, reply) {
    const refused = await web.verifyCsrf(toWeb(request), formOf(request.body) ?? new URLSearchParams())
    if (refused !== undefined) return sendWebResponse(reply, refused)
  }

  fastify.decorateRequest('resourceTokens', null)
  fastify.decorate('resourceTokens', Object.freeze({
    mountPath: web.mountPath,
    paths: web.paths,
    requireLogin: loginHook(true),
    optionalLogin: loginHook(false),
    verifyCsrf,
    replyLoginRequired: (request: FastifyRequest, reply: FastifyReply) => sendWebResponse(reply, web.loginRequired(toWeb(request))),
    csrfField: web.csrfField,
    csrfHeader: web.csrfHeader,
  }))

  // The routes live in an encapsulated child: its form parser does not leak into the app.
  await fastify.register(async (routes) => {
    // Our own parser with our own limits, whatever the app registered for forms (only in this context).
    if (routes.hasContentTypeParser(FORM)) routes.removeContentTypeParser(FORM)
    routes.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: 8 * 1024 }, (_request, body, done) => {
      const form = new URLSearchParams(body as string)
      if ([...form.keys()].length > 20) done(Object.assign(new Error('too many form fields'), { statusCode: 413 }), undefined)
      else done(null, form)
    })
    routes.get('/login', async (request, reply) => sendWebResponse(reply, await web.login(toWeb(request))))
    routes.get('/callback', async (request, reply) => sendWebResponse(reply, await web.callback(toWeb(request))))
    routes.post('/logout', async (request, reply) => sendWebResponse(reply, await web.logout(toWeb(request), formOf(request.body) ?? new URLSearchParams())))
    // The provider's server-to-server call (Back-Channel Logout): no cookie, no CSRF token, no redirect.
    routes.post('/backchannel-logout', async (request, reply) => sendWebResponse(reply, await web.backchannelLogout(toWeb(request), formOf(request.body) ?? new URLSearchParams())))
    // Logout changes state: any other method is refused, so a link or an <img> cannot trigger it.
    routes.route({
      method: ['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'],
      url: '/logout',
      handler: async (request, reply) => sendWebResponse(reply, (await web.handle(toWeb(request))) ?? web.loginRequired(toWeb(request))),
    })
  }, { prefix: config.mountPath })
}

/**
 * The Fastify plugin (wrapped with `fastify-plugin`, so its decorators reach the app that registers it):
 * GET `mountPath/login` (query `returnTo`, a relative path), GET `mountPath/callback`, POST `mountPath/logout`,
 * the session cookie (a 256-bit random id, renewed at every login, HttpOnly, SameSite=Lax, `__Host-` and
 * Secure on https), `fastify.resourceTokens` (preHandlers) and `request.resourceTokens`. Register it once per
 * client; two clients need two `mountPath`s and `cookieName`s, each in its own encapsulated context.
 *
 * @throws `ResourceTokensConfigError` (`invalid_config`) at registration, for bad options
 * @example
 * ```ts
 * const app = Fastify()
 * await app.register(resourceTokensPlugin, { client, baseUrl: 'https://app.example.com' })
 * app.get('/people', { preHandler: app.resourceTokens.requireLogin }, async (request) => {
 *   const response = await request.resourceTokens!.fetch('https://contacts.example.com/api/people')
 *   return response.json()
 * })
 * ```
 */
export const resourceTokensPlugin = fp(resourceTokensFastify, { fastify: '5.x', name: 'resource-tokens' })
