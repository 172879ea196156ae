// @ts-nocheck
// The token endpoint as tests see it: every request recorded, then an armed fault, a quirk, or
// oidc-provider itself answers.
import type { IncomingMessage, ServerResponse } from 'node:http'

import { readAll } from '../http.js'
import { type FaultQueue, isRewrite, sendFault } from './faults.js'
import type { Instrumentation } from './instrumentation.js'
import { rewriteRefreshRequest, rewritesTokenResponses, rewriteTokenResponse as rewriteInteropResponse } from './interop-quirks.js'
import { editJsonResponse, replayRequest, rewriteResponse } from './interpose.js'
import type { RequestListener } from './oidc-provider-module.js'
import { type ConcurrentRefreshes, rewriteTokenResponse, type TokenResponseQuirkContext, tokenRequestToReplay } from './quirks.js'

/** The parts the token endpoint combines. */
export interface TokenEndpointContext extends TokenResponseQuirkContext {
  /** The first registered resource indicator (quirk refreshResource). */
  firstResource(): string | undefined
  instrumentation: Instrumentation
  faults: FaultQueue
  concurrentRefreshes: ConcurrentRefreshes
  callback: RequestListener
}

/** Handles one POST to the token endpoint. */
export async function handleTokenRequest(ctx: TokenEndpointContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = await readAll(req)
  const body = new URLSearchParams(raw.toString('utf8'))
  const record = ctx.instrumentation.recordTokenRequest(body)
  // The fault is chosen in arrival order, before any hook delay, so tests are deterministic.
  const fault = ctx.faults.next()
  const concurrent = ctx.concurrentRefreshes.overlaps(record, res)
  await ctx.instrumentation.hook?.({ grantType: record.grantType, body })

  if (fault !== undefined && isRewrite(fault)) {
    editJsonResponse(res, (json) => {
      if (typeof json['access_token'] === 'string') json['access_token'] = fault.accessToken(json['access_token'])
    })
  } else if (fault) {
    record.status = fault === 'reset' ? 0 : fault.status
    sendFault(req, res, fault)
    return
  }
  if (concurrent) {
    ctx.instrumentation.markReused(record)
    const answer = ctx.concurrentRefreshes.fault()
    record.status = answer === 'reset' ? 0 : answer.status
    sendFault(req, res, answer)
    return
  }
  const resourceRewritten = rewriteRefreshRequest(ctx.quirks, body, ctx.firstResource())
  const replayed = resourceRewritten === undefined
    ? tokenRequestToReplay(ctx.quirks, record, body, raw)
    : tokenRequestToReplay(ctx.quirks, record, resourceRewritten, Buffer.from(resourceRewritten.toString(), 'utf8'))
  // quirk ignoreDPoP: the proof never reaches oidc-provider, which then issues a Bearer token
  if (ctx.quirks.ignoreDPoP === true) delete req.headers['dpop']
  rewriteTokenResponse(ctx, res, record, body.get('refresh_token'))
  if (rewritesTokenResponses(ctx.quirks)) rewriteResponse(res, (status, text) => rewriteInteropResponse(ctx.quirks, record.grantType, status, text))
  res.once('finish', () => {
    record.status = res.statusCode
  })
  await ctx.instrumentation.runInFlight(record, () => ctx.callback(replayRequest(req, replayed), res))
}
