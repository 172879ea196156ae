// @ts-nocheck
// The Fastify adapter. Only re-exports; reached through the `resource-tokens/fastify` entry point.
export { resourceTokensPlugin } from './plugin.js'
export type { FastifyResourceTokens, FastifyResourceTokensOptions } from './plugin.js'
export { requireAccessToken } from './guard.js'
