// @ts-nocheck
// The `resource-tokens/fastify` entry point: kept apart so that fastify stays an optional peer.
export { requireAccessToken, resourceTokensPlugin } from './adapters/fastify/index.js'
export type { FastifyResourceTokens, FastifyResourceTokensOptions } from './adapters/fastify/index.js'
export type { RequestResourceTokens, WebHandlerOptions, WebLogoutEvent, RequestGuardOptions } from './web/index.js'
export type { VerifiedAccessToken } from './guard/verify-access-token.js'
