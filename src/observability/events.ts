import { EventEmitter } from 'node:events'

/**
 * Events a client emits, with their payloads. Payloads never carry a token or the raw grant key: `grant`
 * is a short, stable hash of the key, enough to correlate log lines.
 */
export interface ResourceClientEvents {
  /** A new access token was obtained for a resource. */
  token: { grant: string; resource: string; scope: string | undefined; tokenType: string; expiresIn: number | undefined; rotated: boolean }
  /**
   * The provider granted a resource more scope than was asked: audience restriction may be failing.
   * In `strictScopes` mode the token is also refused.
   */
  scope_broadened: {
    grant: string
    resource: string
    requested: string
    /** What the token carries, as far as the evidence goes (a JWT's own `scope` claim wins over the response's field). */
    granted: string
    /** The token's `aud` (space-separated) when it is not restricted to the resource's indicator alone. */
    audience?: string
  }
  /** The provider granted less than was asked (the resource may refuse the token). */
  scope_narrowed: { grant: string; resource: string; requested: string; granted: string }
  /**
   * A refresh failed; `code` is the {@link ResourceTokensError} code thrown. `background`: it was a renewal ahead of
   * expiry that no request waited for; the current token is still used until it expires, and the renewal is
   * tried again (after 1, 2, 4, then every 5 seconds).
   */
  refresh_failed: { grant: string; resource: string; code: string; background: boolean }
  /** A grant was stored after login or import. */
  login: { grant: string; subject: string }
  /**
   * A grant was removed: by logout, because the provider rejected its refresh token (`invalid_grant`),
   * because a refreshed ID token failed validation or named another user (`invalid_id_token`), by the provider's
   * back-channel logout of its session (`backchannel_logout`), by `logoutAll` (`logout_all`), or because its
   * absolute or idle session lifetime was over (`session_expired`).
   */
  grant_removed: { grant: string; reason: 'logout' | 'invalid_grant' | 'invalid_id_token' | 'refresh_token_dead' | 'backchannel_logout' | 'logout_all' | 'session_expired' }
}

export type ResourceClientEventName = keyof ResourceClientEvents

/** A small typed wrapper over Node's EventEmitter. */
export class TypedEmitter {
  readonly #emitter = new EventEmitter()

  on<E extends ResourceClientEventName>(event: E, listener: (payload: ResourceClientEvents[E]) => void): this {
    this.#emitter.on(event, listener)
    return this
  }

  off<E extends ResourceClientEventName>(event: E, listener: (payload: ResourceClientEvents[E]) => void): this {
    this.#emitter.off(event, listener)
    return this
  }

  emit<E extends ResourceClientEventName>(event: E, payload: ResourceClientEvents[E]): void {
    // A throwing listener must not break token handling.
    try {
      this.#emitter.emit(event, payload)
    } catch {
      /* ignored on purpose */
    }
  }
}
