// @ts-nocheck
// The `resource-tokens/hono` entry point: kept apart so that hono stays an optional peer.
export { requireAccessToken, resourceTokens } from './adapters/hono/index.js'
export type { AccessTokenEnv, HonoResourceTokens, OptionalResourceTokensEnv, ResourceTokensEnv } from './adapters/hono/index.js'
export type { RequestResourceTokens, WebHandlerOptions, WebLogoutEvent, RequestGuardOptions } from './web/index.js'
export type { VerifiedAccessToken } from './guard/verify-access-token.js'
