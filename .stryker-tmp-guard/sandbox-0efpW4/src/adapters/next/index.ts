// @ts-nocheck
// The Next.js adapter. Only re-exports; reached through the `resource-tokens/next` entry point.
export { resourceTokens } from './resource-tokens.js'
export type { NextResourceTokens, NextResourceTokensOptions } from './resource-tokens.js'
