// @ts-nocheck
// The Express adapter: the web app's login and tokens, and the guard's middleware. Only re-exports;
// reached through the `resource-tokens/express` entry point.
export { resourceTokens } from './resource-tokens.js'
export type { ExpressResourceTokens } from './resource-tokens.js'
export type { ExpressAdapterOptions } from './options.js'
export type { LogoutEvent } from './logout-event.js'
export type { RequestResourceTokens } from './request-tokens.js'
export { requireAccessToken } from './guard-middleware.js'
export type { RequireAccessTokenOptions } from './guard-middleware.js'
export { protectedResourceMetadataHandler } from './protected-resource-metadata-handler.js'
