// @ts-nocheck
// The `resource-tokens/web` entry point: login, callback, logout, the session cookie, the signed-in user's
// tokens and the resource-server guard on the Web platform (Request in, Response out). No framework needed.
export { createRequestGuard, createWebHandlers } from './web/index.js'
export type { GuardOutcome, ParsedForm, RequestGuard, RequestGuardOptions, RequestResourceTokens, WebHandlerOptions, WebHandlers, WebLogoutEvent } from './web/index.js'
export type { VerifiedAccessToken } from './guard/verify-access-token.js'
