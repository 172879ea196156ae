import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import type { CachedToken } from '../grants/grant-record.js'
import type { TypedEmitter } from '../observability/events.js'
import type { Logger } from '../observability/logger.js'
import type { RegisteredResource } from '../resources/resource.js'
import { scopeMinus, scopeSet } from './scope.js'

/**
 * Audience restriction that silently fails is worse than none: a broader grant than asked is reported
 * (event and warning) and, with `strictScopes`, refused. A narrower one is reported.
 */
export class ScopeCheck {
  readonly #events: TypedEmitter
  readonly #logger: Logger
  readonly #strict: boolean

  constructor(options: { events: TypedEmitter; logger: Logger; strictScopes: boolean }) {
    this.#events = options.events
    this.#logger = options.logger
    this.#strict = options.strictScopes
  }

  /** The error to throw instead of returning `token`, or `undefined` when it may be used. */
  check(grantRef: string, token: CachedToken, resource: RegisteredResource): ResourceTokensError | undefined {
    const requested = scopeSet(resource.scope)
    const granted = scopeSet(token.scope)
    const payload = { grant: grantRef, resource: resource.name, requested: resource.scope, granted: [...granted].join(' ') }
    if (scopeMinus(requested, granted).length > 0) {
      this.#events.emit('scope_narrowed', payload)
      this.#logger.warn?.('the provider granted less scope than requested', payload)
    }
    const extra = scopeMinus(granted, requested)
    if (extra.length === 0) return undefined
    this.#events.emit('scope_broadened', payload)
    this.#logger.warn?.('the provider granted more scope than requested: audience restriction may not hold', payload)
    if (!this.#strict) return undefined
    return new ResourceTokensError('scope_broadened', `the provider granted ${resource.name} more scope than requested (${extra.join(' ')})`, { scope: payload.granted })
  }
}
