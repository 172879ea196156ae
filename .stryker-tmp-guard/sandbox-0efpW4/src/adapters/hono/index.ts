// @ts-nocheck
// The Hono adapter. Only re-exports; reached through the `resource-tokens/hono` entry point.
export { resourceTokens } from './resource-tokens.js'
export type { HonoResourceTokens, OptionalResourceTokensEnv, ResourceTokensEnv } from './resource-tokens.js'
export { requireAccessToken } from './guard.js'
export type { AccessTokenEnv } from './guard.js'
