// @ts-nocheck
// The framework-neutral handlers on the Web platform. Only re-exports; reached through `resource-tokens/web`.
export { createWebHandlers } from './handlers.js'
export type { ParsedForm, WebHandlers } from './handlers.js'
export type { WebHandlerOptions } from './options.js'
export type { WebLogoutEvent } from './logout-event.js'
export type { RequestResourceTokens } from './request-tokens.js'
export { createRequestGuard } from './guard.js'
export type { GuardOutcome, RequestGuard, RequestGuardOptions } from './guard.js'
