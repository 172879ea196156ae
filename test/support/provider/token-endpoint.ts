// The token endpoint as tests see it: every request recorded, then an armed fault, a quirk, or
// oidc-provider itself answers.
import type { IncomingMessage, ServerResponse } from 'node:http'

import { readAll } from '../http.js'
import { type FaultQueue, isRewrite, sendFault } from './faults.js'
import type { Instrumentation } from './instrumentation.js'
import { editJsonResponse, replayRequest } from './interpose.js'
import type { RequestListener } from './oidc-provider-module.js'
import { type ConcurrentRefreshes, rewriteTokenResponse, type TokenResponseQuirkContext, tokenRequestToReplay } from './quirks.js'

/** The parts the token endpoint combines. */
export interface TokenEndpointContext extends TokenResponseQuirkContext {
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
  const replayed = tokenRequestToReplay(ctx.quirks, record, body, raw)
  // quirk ignoreDPoP: the proof never reaches oidc-provider, which then issues a Bearer token
  if (ctx.quirks.ignoreDPoP === true) delete req.headers['dpop']
  rewriteTokenResponse(ctx, res, record, body.get('refresh_token'))
  res.once('finish', () => {
    record.status = res.statusCode
  })
  await ctx.instrumentation.runInFlight(record, () => ctx.callback(replayRequest(req, replayed), res))
}
