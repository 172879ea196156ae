// @ts-nocheck
// The per-request view of the core for the signed-in user.
import { inspect } from 'node:util'
import type { AccessTokenInfo, ResourceClient } from '../client/resource-client.js'
import { csrfTokenFor } from './csrf.js'

/**
 * The core bound to the current user's grant: what every adapter hands a signed-in request
 * (`req.resourceTokens` in Express and Fastify, `c.var.resourceTokens` in Hono, `await auth.session()` in
 * Next.js).
 *
 * @example
 * ```ts
 * const tokens = await web.session(request)
 * if (tokens) return tokens.fetch('https://contacts.example.com/api/people')
 * ```
 */
export interface RequestResourceTokens {
  /**
   * The grant key: this browser's session id. It is a credential: pass it to the client for background work
   * of the same session, never log it, never send it anywhere. Hidden from `util.inspect` and `JSON.stringify`.
   */
  readonly key: string
  /**
   * The session's CSRF token, for forms that POST to the logout route (field `_csrf`) or to routes
   * protected by `verifyCsrf` (field `_csrf` or header `X-CSRF-Token`).
   */
  readonly csrfToken: string
  /** {@link ResourceClient.fetch} for this user: attaches the token of the resource `input` belongs to. */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>
  /** {@link ResourceClient.accessToken} for this user. */
  accessToken(url: string | URL): Promise<AccessTokenInfo>
  /** {@link ResourceClient.claims} for this user: the ID token claims, or `undefined` once the grant is gone. */
  claims(): Promise<Readonly<Record<string, unknown>> | undefined>
}

class BoundTokens implements RequestResourceTokens {
  readonly #client: ResourceClient
  readonly #key: string

  constructor(client: ResourceClient, key: string) {
    this.#client = client
    this.#key = key
  }

  get key(): string {
    return this.#key
  }

  get csrfToken(): string {
    return csrfTokenFor(this.#key)
  }

  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    return this.#client.fetch(this.#key, input, init)
  }

  accessToken(url: string | URL): Promise<AccessTokenInfo> {
    return this.#client.accessToken(this.#key, url)
  }

  claims(): Promise<Readonly<Record<string, unknown>> | undefined> {
    return this.#client.claims(this.#key)
  }

  // Request-scoped objects reach view engines and loggers: the session id must not come along.
  [inspect.custom](): string {
    return 'RequestResourceTokens { key: [redacted] }'
  }

  toJSON(): Record<string, never> {
    return {}
  }
}

/** @internal */
export function bindTokens(client: ResourceClient, key: string): RequestResourceTokens {
  return new BoundTokens(client, key)
}
