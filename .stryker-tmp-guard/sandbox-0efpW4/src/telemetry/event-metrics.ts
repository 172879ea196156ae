// @ts-nocheck
import type { TypedEmitter } from '../observability/events.js'
import { ATTR } from './names.js'
import type { Telemetry } from './telemetry.js'

/**
 * Counts what the client's events already report: refresh failures by resource and code, grants removed by
 * reason. One source for both, so a metric never disagrees with the event an app listens to.
 */
export function countEvents(events: TypedEmitter, telemetry: Telemetry): void {
  if (!telemetry.enabled) return
  events.on('refresh_failed', ({ resource, code }) => telemetry.count('refreshFailures', { [ATTR.resource]: resource, [ATTR.errorType]: code }))
  events.on('grant_removed', ({ reason }) => telemetry.count('grantsRemoved', { [ATTR.removalReason]: reason }))
}
