// @ts-nocheck
// The session cookie: an opaque random id, nothing else. The id is also the grant key.
import { randomBytes } from 'node:crypto'
import type { ResolvedWebOptions } from './options.js'

/** 32 random bytes, base64url: 256 bits, well above the 128 bits OWASP asks of a session id. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/

/** A fresh session id from the system CSPRNG. */
export function newSessionId(): string {
  return randomBytes(32).toString('base64url')
}

/**
 * The session id a `Cookie` header value carries, or `undefined`. Parsed directly, so no cookie library is
 * needed. A value of the wrong shape is ignored, and so is a name sent more than once: a second cookie of the
 * same name can only come from a sibling host tossing one in (cookies are not isolated by port or subdomain
 * without `__Host-`), and picking either would let it choose the session. `, ` separates cookies too: that
 * is how a Fetch `Headers` joins two `Cookie` header lines (HTTP/2 may send one per cookie).
 */
export function readSessionId(cookieHeader: string | null | undefined, name: string): string | undefined {
  if (cookieHeader === null || cookieHeader === undefined || cookieHeader === '') return undefined
  let found: string | undefined
  let count = 0
  for (const part of cookieHeader.split(/;|, /)) {
    const eq = part.indexOf('=')
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue
    count++
    let value = part.slice(eq + 1).trim()
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
    found = value
  }
  if (count !== 1 || found === undefined || !SESSION_ID.test(found)) return undefined
  return found
}

/** `Set-Cookie` value that stores `id`: HttpOnly, SameSite=Lax, Path=/, and Secure on https. */
export function sessionCookie(id: string, options: ResolvedWebOptions): string {
  const maxAge = options.cookieMaxAgeSeconds === undefined ? '' : `; Max-Age=${options.cookieMaxAgeSeconds}`
  return `${options.cookieName}=${id}; Path=/; HttpOnly; SameSite=Lax${options.secure ? '; Secure' : ''}${maxAge}`
}

/** `Set-Cookie` value that removes the session cookie. */
export function clearedSessionCookie(options: ResolvedWebOptions): string {
  return `${options.cookieName}=; Path=/; HttpOnly; SameSite=Lax${options.secure ? '; Secure' : ''}; Max-Age=0`
}
