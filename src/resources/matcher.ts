import type { RegisteredResource } from './resource.js'

/**
 * Finds the resource a request URL belongs to: same scheme, host and port (the URL origin), and a path
 * that equals the resource's path prefix or continues it after a `/`. The longest prefix wins. URLs with
 * userinfo never match: `https://api.example.com@evil.test/` must not receive a token, and neither must
 * `https://user:pass@api.example.com/` (a credential in a URL is a bug we refuse to take part in).
 *
 * Inputs that are not absolute URLs never match and never throw.
 */
export class ResourceMatcher {
  readonly #byOrigin = new Map<string, RegisteredResource[]>()

  constructor(resources: readonly RegisteredResource[]) {
    for (const resource of resources) {
      const list = this.#byOrigin.get(resource.origin) ?? []
      list.push(resource)
      // Longest prefix first, so the first hit is the most specific resource.
      list.sort((a, b) => b.pathPrefix.length - a.pathPrefix.length)
      this.#byOrigin.set(resource.origin, list)
    }
  }

  /** The resource `input` belongs to, or `undefined`. */
  match(input: string | URL): RegisteredResource | undefined {
    const url = toUrl(input)
    if (url === undefined || url.username !== '' || url.password !== '') return undefined
    const candidates = this.#byOrigin.get(url.origin)
    if (candidates === undefined) return undefined
    const path = url.pathname
    return candidates.find((r) => pathBelongs(path, r.pathPrefix))
  }
}

function toUrl(input: string | URL): URL | undefined {
  if (input instanceof URL) return input
  if (typeof input !== 'string') return undefined
  try {
    // No base: relative and protocol-relative URLs ('//evil.test') are not resource URLs.
    return new URL(input)
  } catch {
    return undefined
  }
}

function pathBelongs(path: string, prefix: string): boolean {
  if (prefix === '') return true
  if (!path.startsWith(prefix)) return false
  return path.length === prefix.length || path.charCodeAt(prefix.length) === 0x2f /* '/' */
}
