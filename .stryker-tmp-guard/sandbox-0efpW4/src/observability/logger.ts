/**
 * Where the library writes what it does. Every field is optional; messages are lowercase sentences and
 * `fields` never hold a token, code, verifier, secret or the raw grant key (grants are named by a short
 * hash, `grant`). Pass `console` for everything, or `{}` for silence.
 */
// @ts-nocheck

export interface Logger {
  debug?(message: string, fields?: Record<string, unknown>): void
  info?(message: string, fields?: Record<string, unknown>): void
  warn?(message: string, fields?: Record<string, unknown>): void
  error?(message: string, fields?: Record<string, unknown>): void
}

/** The default: warnings and errors to the console, nothing else. */
export const defaultLogger: Logger = {
  warn: (message, fields) => console.warn(`resource-tokens: ${message}`, fields ?? ''),
  error: (message, fields) => console.error(`resource-tokens: ${message}`, fields ?? ''),
}
