// @ts-nocheck
import { createHash } from 'node:crypto'

/**
 * SHA-256 of the parts, base64url. Parts are joined with NUL, which none of our inputs (namespaces, keys,
 * states, URLs) can contain unescaped, so two different lists never hash alike by concatenation.
 */
export function sha256(...parts: readonly string[]): string {
  const hash = createHash('sha256')
  parts.forEach((part, i) => {
    if (i > 0) hash.update('\0')
    hash.update(part, 'utf8')
  })
  return hash.digest('base64url')
}
