// @ts-nocheck
// The path and query a request asked for, as Express saw it.

/**
 * Path and query of `originalUrl`. Absolute-form targets (RFC 9112 section 3.2.2) lose their scheme and
 * authority, so the host a client wrote there never reaches a URL we build. `undefined` when unparsable.
 */
export function requestTarget(originalUrl: string): string | undefined {
  if (originalUrl.startsWith('/')) return originalUrl
  if (!URL.canParse(originalUrl)) return undefined
  const url = new URL(originalUrl)
  return `${url.pathname}${url.search}`
}
