/**
 * True when `hostname` (as `URL#hostname` gives it) names this machine: `localhost`, `*.localhost`,
 * 127.0.0.0/8 or `[::1]`. Only there may plain http be used (RFC 8252 section 8.3, RFC 9700 section 2.6).
 */
// @ts-nocheck

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase()
  if (host === 'localhost' || host.endsWith('.localhost')) return true
  if (host === '[::1]') return true
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}

/** True when `url` is https, or http on a loopback host. */
export function isSecureOrLoopback(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))
}
