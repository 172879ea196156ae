/**
 * One protected API the client calls for its users, as given in the options.
 *
 * @example
 * ```ts
 * { url: 'https://contacts.example.com/api', scope: 'contacts:read' }
 * { url: 'https://calendar.example.com/', scope: 'calendar:read', indicator: 'https://calendar.example.com/' }
 * ```
 */
// @ts-nocheck

export interface ResourceDefinition {
  /**
   * The base URL of the API. A request URL belongs to this resource when its scheme, host and port are
   * equal and its path starts with this path on a `/` boundary (`/api` matches `/api` and `/api/x`, not
   * `/apix`). The longest matching base wins. Must be https except on loopback; no userinfo, query or fragment.
   */
  url: string
  /** Space-separated scope to request for this resource's token (down-scoping on refresh). */
  scope: string
  /**
   * RFC 8707 resource indicator sent as `resource` at login and on refresh, for providers that audience-restrict
   * tokens by indicator. When omitted and the client option `resourceIndicators` is `true`, `url` is used.
   * Must be an absolute URI without a fragment.
   */
  indicator?: string
  /** A short name for logs, events and errors; defaults to the URL's origin and path. Never secret. */
  name?: string
  /**
   * Request a DPoP-bound (RFC 9449) token for this resource and send it with a fresh proof on every request.
   * - `true`: a provider that answers with a plain Bearer token instead (RFC 9449 section 5 lets it) is accepted
   *   with a warning, and the Bearer token is used.
   * - `'required'`: such an answer is refused with `invalid_token_response` (the refresh token is kept, the Bearer
   *   token is neither cached nor sent): for apps that rely on sender-constrained tokens.
   *
   * Defaults to `false`. `true` does not refuse because the resource server, not the client, enforces DPoP
   * binding, and a provider that does not bind tokens for this client would otherwise fail every request.
   */
  dpop?: boolean | 'required'
}

/** A resource after validation: parsed once, immutable. */
export interface RegisteredResource {
  /** Stable id used as the cache key for this resource's token: the normalized base URL. */
  readonly id: string
  readonly name: string
  readonly origin: string
  /** Path prefix without a trailing slash ('' for the whole origin). */
  readonly pathPrefix: string
  readonly scope: string
  readonly indicator: string | undefined
  readonly dpop: boolean
  /** `dpop: 'required'`: a Bearer token issued instead of a DPoP-bound one is refused. */
  readonly dpopRequired: boolean
  /** True when http is used on loopback, so protocol helpers must allow it. */
  readonly insecureLoopback: boolean
}
