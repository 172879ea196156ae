// @ts-nocheck
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import type { TelemetryAttributes } from './telemetry.js'
import { ATTR } from './names.js'

const LOW_CARDINALITY = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/

/**
 * `error.type` for a failure: the library's stable code, a short `code` another library put on its error
 * (e.g. `ECONNREFUSED`), else the error's class name. Never the message: messages of foreign errors may
 * carry a URL or a response body.
 */
export function errorType(err: unknown): string {
  const code = (err as { code?: unknown } | null | undefined)?.code
  if (typeof code === 'string' && LOW_CARDINALITY.test(code)) return code
  const name = err instanceof Error ? err.name : undefined
  return name !== undefined && LOW_CARDINALITY.test(name) ? name : '_OTHER'
}

/** Safe facts about a failure for the span: the OAuth `error` value and the HTTP status, when there are any. */
export function errorFacts(err: unknown): TelemetryAttributes {
  const error = (err as { error?: unknown } | null | undefined)?.error
  const status = (err as { status?: unknown } | null | undefined)?.status
  return {
    [ATTR.oauthError]: typeof error === 'string' && LOW_CARDINALITY.test(error) ? error : undefined,
    [ATTR.httpStatus]: typeof status === 'number' && Number.isInteger(status) ? status : undefined,
  }
}

/**
 * The span status description: the message of this library's errors only, which by contract never holds
 * a token, code, verifier or secret. Other errors get none.
 */
export function statusMessage(err: unknown): string | undefined {
  return err instanceof ResourceTokensError ? err.message : undefined
}
