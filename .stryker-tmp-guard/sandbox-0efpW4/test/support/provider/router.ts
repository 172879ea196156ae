// @ts-nocheck
// Which part answers a request: the instrumented endpoints and the quirks first, oidc-provider for the rest.
import type { IncomingMessage, ServerResponse } from 'node:http'

import { readAll } from '../http.js'
import { type FaultQueue, isRewrite, sendFault } from './faults.js'
import { answerInteraction } from './headless-login.js'
import type { Instrumentation } from './instrumentation.js'
import { replayRequest } from './interpose.js'
import type { OidcProvider, RequestListener } from './oidc-provider-module.js'
import { revocationAnswer } from './interop-quirks.js'
import { refuseEncodedBasic, serveDiscovery, type ProviderQuirks } from './quirks.js'
import { DISCOVERY, isInteraction, ROUTES } from './routes.js'
import { handleTokenRequest, type TokenEndpointContext } from './token-endpoint.js'

/** Everything the router hands requests to. */
export interface RouterContext {
  issuer: string
  quirks: ProviderQuirks
  provider: OidcProvider
  callback: RequestListener
  instrumentation: Instrumentation
  revocationFaults: FaultQueue
  tokenEndpoint: TokenEndpointContext
}

/** The provider server's request listener. */
export function createRouter(ctx: RouterContext): RequestListener {
  return async (req, res) => {
    const url = new URL(req.url ?? '/', ctx.issuer)
    const { pathname } = url
    if (req.method === 'GET' && (pathname === DISCOVERY || pathname === `${DISCOVERY}/`)) return serveDiscovery(ctx.quirks, ctx.callback, req, res, url)
    if (await refuseEncodedBasic(ctx.quirks, ctx.issuer, req, res, url)) return
    if (req.method === 'POST' && pathname === ROUTES.token) return handleTokenRequest(ctx.tokenEndpoint, req, res)
    if (req.method === 'POST' && pathname === ROUTES.pushed_authorization_request) return handleParRequest(ctx, req, res)
    if (req.method === 'POST' && pathname === ROUTES.revocation) return handleRevocationRequest(ctx, req, res)
    if (req.method === 'GET' && isInteraction(pathname)) return answerInteraction(ctx.provider, ctx.quirks, req, res, url)
    return ctx.callback(req, res)
  }
}

/** Records a pushed authorization request, then lets oidc-provider answer it. */
async function handleParRequest(ctx: RouterContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = await readAll(req)
  ctx.instrumentation.recordParRequest(new URLSearchParams(raw.toString('utf8')))
  await ctx.callback(replayRequest(req, raw), res)
}

/** Answers with an armed fault, else lets oidc-provider revoke. */
async function handleRevocationRequest(ctx: RouterContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const fault = ctx.revocationFaults.next() ?? revocationAnswer(ctx.quirks)
  if (!fault || isRewrite(fault)) return ctx.callback(req, res)
  await readAll(req) // drain, so a keep-alive connection stays usable
  sendFault(req, res, fault)
}
