import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import { BoundedMap } from '../lib/bounded-map.js'
import type { RegisteredResource } from './resource.js'

/** Where a request goes: its URL, parsed once (never a caller's object), and the resource it belongs to, if any. */
export interface Located {
  readonly url: URL
  readonly resource: RegisteredResource | undefined
}

/**
 * How many recently located resource URLs are remembered, and up to what length. Few on purpose: an app that
 * calls a handful of URLs again and again finds them, and with URLs that are all different (ids in paths) the
 * entries are dropped while still young; a few hundred made every such request cost more (they outlived young-
 * generation collections and burdened the old generation: +5 µs of CPU per request, measured pair by pair).
 */
const LOCATED_ENTRIES = 32
const LOCATED_MAX_LENGTH = 512

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
  readonly #located = new BoundedMap<Located>(LOCATED_ENTRIES)

  constructor(resources: readonly RegisteredResource[]) {
    for (const resource of resources) {
      const list = this.#byOrigin.get(resource.origin) ?? []
      list.push(resource)
      // Longest prefix first, so the first hit is the most specific resource.
      list.sort((a, b) => b.pathPrefix.length - a.pathPrefix.length)
      this.#byOrigin.set(resource.origin, list)
    }
  }

  /** The resource `input` belongs to, or `undefined`. Says nothing about hidden dot segments: see {@link resolve}. */
  match(input: string | URL): RegisteredResource | undefined {
    const url = toUrl(input)
    return url === undefined ? undefined : this.#find(url, url.pathname)
  }

  /**
   * The resource a token may be sent to for `input`, or `undefined` when it belongs to none. Throws
   * `ambiguous_path` when it belongs to one but its path holds a dot segment hidden by encoding: WHATWG URL parsing
   * removes literal `.`/`..` (and `%2e` between slashes) only, but proxies and servers that decode `%2F`, `%5C` or
   * drop `;` parameters resolve `/api/..%2Fadmin` outside `/api`, so where the request really lands is unknown.
   */
  resolve(input: string | URL): RegisteredResource | undefined {
    const url = toUrl(input)
    if (url === undefined) return undefined
    const path = url.pathname
    const resource = this.#find(url, path)
    if (resource === undefined) return undefined
    if (hasHiddenDotSegment(path)) {
      throw new ResourceTokensError(
        'ambiguous_path',
        `the path of a request to ${resource.name} holds an encoded dot segment (such as ..%2F, %2e%2e or ..;) that a server may resolve outside the resource: refused, nothing was sent`,
      )
    }
    return resource
  }

  /**
   * The URL of a request, parsed, and the resource it belongs to ({@link resolve}'s answer, refusals included).
   * Resource URLs seen recently are answered from memory, keyed by the exact input string (a `URL` by its `href`),
   * so a request to a URL the app calls again skips parsing and matching; the answer is the one parsing that same
   * string gave. A matcher is built anew whenever the resources change, so nothing remembered outlives them. The
   * returned `URL` is shared: never change it.
   *
   * @throws `invalid_argument` for a string that is not an absolute URL; `ambiguous_path` as {@link resolve}.
   */
  locate(input: string | URL): Located {
    // Anything else a JavaScript caller passes is read as the URL parser would read it.
    const key = typeof input === 'string' ? input : input instanceof URL ? input.href : String(input)
    const remembered = this.#located.get(key, 0)
    if (remembered !== undefined) return remembered
    let url: URL
    try {
      url = new URL(key)
    } catch {
      throw new ResourceTokensError('invalid_argument', 'the request URL must be an absolute URL')
    }
    const located = { url, resource: this.resolve(url) }
    // Only URLs that carry a token: those are the ones called again and again, and the ones worth the memory.
    if (located.resource !== undefined && key.length <= LOCATED_MAX_LENGTH) this.#located.set(key, located, Infinity, 0)
    return located
  }

  /** How many URLs {@link locate} remembers now (for tests: it is bounded). */
  get locatedSize(): number {
    return this.#located.size
  }

  #find(url: URL, path: string): RegisteredResource | undefined {
    if (url.username !== '' || url.password !== '') return undefined
    const candidates = this.#byOrigin.get(url.origin)
    if (candidates === undefined) return undefined
    for (const resource of candidates) if (pathBelongs(path, resource.pathPrefix)) return resource
    return undefined
  }
}

/** Rounds of percent-decoding looked through: double (and triple) encoding is what proxy chains undo. */
const DECODE_ROUNDS = 3
const SEPARATOR = /\/|\\|%2f|%5c/i
/** What every hidden (or plain) dot segment needs: a `%`, a `;`, a `\`, or a segment that is `.` or `..`. */
const MAYBE_DOT_SEGMENT = /[%;\\]|(?:^|\/)\.\.?(?:\/|$)/

/**
 * True when `path`, split on `/`, `\`, `%2F` and `%5C` (any case) with `;` parameters dropped, has a segment that
 * is `.` or `..` once `%2e` is read as a dot; checked again after each round of percent-decoding.
 */
export function hasHiddenDotSegment(path: string): boolean {
  // The common case, in one scan: nothing encoded, no `;` or `\`, no literal dot segment.
  if (!MAYBE_DOT_SEGMENT.test(path)) return false
  let current = path
  for (let round = 0; round <= DECODE_ROUNDS; round++) {
    for (const segment of current.split(SEPARATOR)) {
      const name = segment.split(';', 1)[0]?.replace(/%2e/gi, '.')
      if (name === '.' || name === '..') return true
    }
    const decoded = decodeOnce(current)
    if (decoded === current) return false
    current = decoded
  }
  // Still encoded after every round: nobody legitimate nests encodings that deep.
  return true
}

/** One round of percent-decoding of `%XX` (valid hex only, bytes as Latin-1: only ASCII matters here). */
function decodeOnce(path: string): string {
  return path.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
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
