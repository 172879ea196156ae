// @ts-nocheck
// The `resource-tokens/next` entry point: kept apart so that next stays an optional peer. For the guard in
// a Route Handler, use `createRequestGuard` from `resource-tokens/web`.
export { resourceTokens } from './adapters/next/index.js'
export type { NextResourceTokens, NextResourceTokensOptions } from './adapters/next/index.js'
export type { RequestResourceTokens, WebHandlerOptions, WebLogoutEvent } from './web/index.js'
