// @ts-nocheck
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import type { TypedEmitter } from '../observability/events.js'
import type { Logger } from '../observability/logger.js'
import type { RegisteredResource } from '../resources/resource.js'
import type { TokenEvidence } from './token-evidence.js'

/**
 * Audience restriction that silently fails is worse than none: a token that some evidence shows to be broader
 * than asked (more scope in the response or in the JWT itself, or a JWT `aud` beyond the resource's indicator)
 * is reported (event and warning) and, with `strictScopes` (the default), refused. A narrower one is reported.
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

  /** The error to throw instead of using the token, or `undefined` when it may be used. */
  check(grantRef: string, evidence: TokenEvidence, resource: RegisteredResource): ResourceTokensError | undefined {
    const payload = { grant: grantRef, resource: resource.name, requested: resource.scope, granted: evidence.scope.granted }
    if (evidence.scope.narrower.length > 0) {
      this.#events.emit('scope_narrowed', payload)
      this.#logger.warn?.('the provider granted less scope than requested', payload)
    }
    if (!evidence.broader) return undefined
    const audience = evidence.audience.basis === 'token' && (evidence.audience.missing || evidence.audience.extra.length > 0) ? evidence.audience.audience : undefined
    const event = audience === undefined ? payload : { ...payload, audience: audience.join(' ') }
    this.#events.emit('scope_broadened', event)
    this.#logger.warn?.('the provider granted more scope than requested: audience restriction may not hold', event)
    if (!this.#strict) return undefined
    const what: string[] = []
    if (evidence.scope.broader.length > 0) what.push(`more scope than requested (${evidence.scope.broader.join(' ')})`)
    if (audience !== undefined) what.push(`a token for another audience (aud: ${audience.join(' ') || 'none'}) than its resource indicator`)
    return new ResourceTokensError('scope_broadened', `the provider granted ${resource.name} ${what.join(' and ')}; the token was refused (strictScopes)`, { scope: evidence.scope.granted })
  }
}
