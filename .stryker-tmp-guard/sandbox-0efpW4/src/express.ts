// @ts-nocheck
// The `resource-tokens/express` entry point: kept apart so that express stays an optional peer.
// The web-app side (login, session cookie, per-request tokens) and the resource-server side (the guard's
// middleware) of Express in one import.
export { protectedResourceMetadataHandler, requireAccessToken, resourceTokens } from './adapters/express/index.js'
export type {
  ExpressAdapterOptions,
  ExpressResourceTokens,
  LogoutEvent,
  RequestResourceTokens,
  RequireAccessTokenOptions,
} from './adapters/express/index.js'
export { protectedResourceMetadata, protectedResourceMetadataUrl } from './guard/protected-resource-metadata.js'
export type { ProtectedResourceMetadata, ProtectedResourceMetadataOptions } from './guard/protected-resource-metadata.js'
export type { VerifiedAccessToken } from './guard/verify-access-token.js'
