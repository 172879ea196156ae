// The Express adapter. Only re-exports; reached through the `resource-tokens/express` entry point.
export { resourceTokens } from './resource-tokens.js'
export type { ExpressResourceTokens } from './resource-tokens.js'
export type { ExpressAdapterOptions } from './options.js'
export type { LogoutEvent } from './logout-event.js'
export type { RequestResourceTokens } from './request-tokens.js'
