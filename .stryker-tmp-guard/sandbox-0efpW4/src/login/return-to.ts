// @ts-nocheck
import { ResourceTokensError } from '../errors/resource-tokens-error.js'

/**
 * Accepts only a relative path on the app itself: starts with a single `/`, no scheme, no authority, no
 * backslash, no control characters, and still a plain path once percent-decoded (so `/%2F%5Cevil.test`
 * cannot become `//\evil.test` in a later decode). Anything else is refused: no open redirector.
 * Returns the value unchanged when it is safe.
 */
export function checkReturnTo(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) throw invalid()
  if (!isPlainPath(value)) throw invalid()
  let decoded: string
  try {
    decoded = decodeURIComponent(value)
  } catch {
    throw invalid()
  }
  if (!isPlainPath(decoded)) throw invalid()
  // What a browser would do with it, relative to any origin: it must stay on that origin.
  const base = new URL('https://app.invalid/')
  if (new URL(value, base).origin !== base.origin) throw invalid()
  return value
}

function isPlainPath(path: string): boolean {
  if (path[0] !== '/' || path[1] === '/' || path[1] === '\\') return false
  // Dot segments: harmless to a browser, but an app that normalizes the path could turn '/.//x' into '//x'.
  if (/(^|\/)\.{1,2}(\/|$|\?|#)/.test(path)) return false
  // No backslash and no control character (C0 or DEL): browsers strip or reinterpret them.
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i)
    if (code <= 0x1f || code === 0x7f || code === 0x5c) return false
  }
  return true
}

function invalid(): ResourceTokensError {
  return new ResourceTokensError('invalid_argument', '"returnTo" must be a relative path on this app (starting with a single "/")')
}
