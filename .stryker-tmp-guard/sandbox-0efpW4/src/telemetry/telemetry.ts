// @ts-nocheck
import type { METRIC } from './names.js'

/** Attribute values we emit. `undefined` values are skipped, so callers can pass optional facts as they are. */
export type TelemetryAttributes = Readonly<Record<string, string | number | boolean | undefined>>

/** A histogram this library records (durations, in seconds). */
export type HistogramKey = 'tokenRequestDuration' | 'lockWaitDuration' | 'lockHoldDuration' | 'storeOperationDuration' | 'guardVerificationDuration'

/** A counter this library adds to. */
export type CounterKey = 'tokenRequests' | 'storeFailures' | 'refreshFailures' | 'grantsRemoved' | 'logins' | 'guardVerifications'

/** What the metric keys above are called (checked against {@link METRIC} at compile time). */
export type MetricKey = keyof typeof METRIC

/**
 * One timed operation: a span, and optionally the metrics that describe the same operation. The outcome
 * (`ok`, or the error code it failed with) is added to the span and to every metric, so a count, a duration
 * and a span of one operation always agree.
 */
export interface OperationSpec {
  /** Span name (see `SPAN` in names.ts). */
  readonly span: string
  /** Span-only attributes: may be high-cardinality (the grant reference), never on a metric. */
  readonly attributes?: TelemetryAttributes
  /** Low-cardinality attributes put on the span and on every metric of the operation (resource, kind). */
  readonly dimensions?: TelemetryAttributes
  /** Histogram to record the operation's duration in. */
  readonly duration?: HistogramKey
  /** Counter to add 1 to, whatever the outcome. */
  readonly count?: CounterKey
  /** Counter to add 1 to when the operation fails. */
  readonly failures?: CounterKey
}

/** The running operation, for facts learned along the way. */
export interface OperationScope {
  /** Adds span attributes (never to metrics). */
  set(attributes: TelemetryAttributes): void
  /** Adds attributes to the span and to the operation's metrics (low cardinality only). */
  tag(attributes: TelemetryAttributes): void
  /** Records `sub` and `sid` on the span, only when the user opted in (`telemetry.recordIdentity`). */
  identity(subject: unknown, sessionId: unknown): void
  /**
   * Marks the operation as failed with `code` although it returns normally (e.g. a guard answering 401
   * by value). Thrown errors are recorded without this.
   */
  fail(code: string): void
}

/**
 * What the library's parts call to report what they do. Two implementations: {@link NOOP_TELEMETRY} when
 * `@opentelemetry/api` is absent or telemetry is turned off, and one over the OpenTelemetry API.
 * The warm path (a cached token) calls only {@link Telemetry.cacheLookup}, an integer increment.
 */
export interface Telemetry {
  /** False for the no-op: callers may skip building attributes. */
  readonly enabled: boolean
  /** Runs `fn` inside a span that is a child of the active context, and records the operation's metrics. */
  operation<T>(spec: OperationSpec, fn: (scope: OperationScope) => Promise<T>): Promise<T>
  /** Adds 1 to a counter. */
  count(key: CounterKey, attributes: TelemetryAttributes): void
  /** Records a duration in seconds. */
  record(key: HistogramKey, seconds: number, attributes: TelemetryAttributes): void
  /** A token cache lookup for `resource` (its name): hit or miss. Costs an integer increment. */
  cacheLookup(resource: string, hit: boolean): void
}

/** A scope that records nothing: for code run without telemetry. */
export const NOOP_SCOPE: OperationScope = {
  set() {},
  tag() {},
  identity() {},
  fail() {},
}

/** Telemetry that does nothing and costs nothing. */
export const NOOP_TELEMETRY: Telemetry = {
  enabled: false,
  operation: (_spec, fn) => fn(NOOP_SCOPE),
  count() {},
  record() {},
  cacheLookup() {},
}
