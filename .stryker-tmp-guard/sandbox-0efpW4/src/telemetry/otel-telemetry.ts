// @ts-nocheck
import type * as otel from '@opentelemetry/api'
import { errorFacts, errorType, statusMessage } from './error-facts.js'
import { ATTR, METRIC, SCOPE_NAME } from './names.js'
import type { CounterKey, HistogramKey, OperationScope, OperationSpec, Telemetry, TelemetryAttributes } from './telemetry.js'

/** The OpenTelemetry API module, as loaded at run time. */
export type OpenTelemetryApi = typeof otel

export interface OtelTelemetryOptions {
  tracerProvider: otel.TracerProvider | undefined
  meterProvider: otel.MeterProvider | undefined
  /** Record `sub` (`enduser.id`) and `sid` (`session.id`) on spans. Off by default. */
  recordIdentity: boolean
}

/** Bucket boundaries for durations in seconds (the OpenTelemetry HTTP conventions' advice). */
const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]

const HISTOGRAMS: Readonly<Record<HistogramKey, string>> = {
  tokenRequestDuration: 'Duration of token endpoint requests',
  lockWaitDuration: 'Time spent waiting for the per-grant refresh lock',
  lockHoldDuration: 'Time the per-grant refresh lock was held',
  storeOperationDuration: 'Duration of token store operations',
  guardVerificationDuration: 'Duration of access token verifications by the guard',
}

const COUNTERS: Readonly<Record<CounterKey, { description: string; unit: string }>> = {
  tokenRequests: { description: 'Token endpoint requests, by kind and outcome', unit: '{request}' },
  storeFailures: { description: 'Token store operations that failed', unit: '{failure}' },
  refreshFailures: { description: 'Failed renewals of a resource token, by error code', unit: '{failure}' },
  grantsRemoved: { description: 'Grants removed, by reason', unit: '{grant}' },
  logins: { description: 'Login callbacks, by outcome', unit: '{login}' },
  guardVerifications: { description: 'Access token verifications by the guard, by outcome', unit: '{verification}' },
}

/** Telemetry over the OpenTelemetry API: spans from the tracer provider, metrics from the meter provider. */
export class OtelTelemetry implements Telemetry {
  readonly enabled = true
  readonly #api: OpenTelemetryApi
  readonly #tracer: otel.Tracer
  readonly #histograms: Record<HistogramKey, otel.Histogram>
  readonly #counters: Record<CounterKey, otel.Counter>
  readonly #recordIdentity: boolean
  /** Cache lookups per resource name, read by an asynchronous counter: the warm path only increments. */
  readonly #lookups = new Map<string, { hit: number; miss: number }>()

  constructor(api: OpenTelemetryApi, options: OtelTelemetryOptions) {
    this.#api = api
    this.#recordIdentity = options.recordIdentity
    // The global tracer provider is a proxy: an SDK registered after this client is still used. The global
    // meter provider is read now: register the SDK before creating the client (docs/TELEMETRY.md).
    this.#tracer = (options.tracerProvider ?? api.trace.getTracerProvider()).getTracer(SCOPE_NAME)
    const meter = (options.meterProvider ?? api.metrics.getMeterProvider()).getMeter(SCOPE_NAME)
    this.#histograms = {} as Record<HistogramKey, otel.Histogram>
    for (const [key, description] of Object.entries(HISTOGRAMS) as Array<[HistogramKey, string]>) {
      this.#histograms[key] = meter.createHistogram(METRIC[key], { description, unit: 's', advice: { explicitBucketBoundaries: SECONDS_BUCKETS } })
    }
    this.#counters = {} as Record<CounterKey, otel.Counter>
    for (const [key, { description, unit }] of Object.entries(COUNTERS) as Array<[CounterKey, { description: string; unit: string }]>) {
      this.#counters[key] = meter.createCounter(METRIC[key], { description, unit })
    }
    meter
      .createObservableCounter(METRIC.cacheLookups, { description: 'Token cache lookups, by resource and result (hit or miss)', unit: '{lookup}' })
      .addCallback((result) => {
        for (const [resource, counts] of this.#lookups) {
          result.observe(counts.hit, { [ATTR.resource]: resource, [ATTR.cacheResult]: 'hit' })
          result.observe(counts.miss, { [ATTR.resource]: resource, [ATTR.cacheResult]: 'miss' })
        }
      })
  }

  cacheLookup(resource: string, hit: boolean): void {
    let counts = this.#lookups.get(resource)
    if (counts === undefined) {
      counts = { hit: 0, miss: 0 }
      this.#lookups.set(resource, counts)
    }
    if (hit) counts.hit++
    else counts.miss++
  }

  count(key: CounterKey, attributes: TelemetryAttributes): void {
    this.#counters[key].add(1, defined(attributes))
  }

  record(key: HistogramKey, seconds: number, attributes: TelemetryAttributes): void {
    this.#histograms[key].record(seconds, defined(attributes))
  }

  operation<T>(spec: OperationSpec, fn: (scope: OperationScope) => Promise<T>): Promise<T> {
    const api = this.#api
    const dimensions: Record<string, string | number | boolean> = { ...defined(spec.dimensions ?? {}) }
    const attributes = { ...defined(spec.attributes ?? {}), ...dimensions }
    return this.#tracer.startActiveSpan(spec.span, { kind: api.SpanKind.INTERNAL, attributes }, async (span) => {
      const started = performance.now()
      let failedWith: string | undefined
      const recordIdentity = this.#recordIdentity
      const scope: OperationScope = {
        set: (more) => span.setAttributes(defined(more)),
        tag: (more) => {
          const clean = defined(more)
          span.setAttributes(clean)
          Object.assign(dimensions, clean)
        },
        identity: (subject, sessionId) => {
          if (!recordIdentity) return
          if (typeof subject === 'string' && subject !== '') span.setAttribute(ATTR.enduserId, subject)
          if (typeof sessionId === 'string' && sessionId !== '') span.setAttribute(ATTR.sessionId, sessionId)
        },
        fail: (code) => {
          failedWith = code
        },
      }
      try {
        const result = await fn(scope)
        if (failedWith === undefined) {
          span.setAttribute(ATTR.outcome, 'ok')
        } else {
          span.setAttributes({ [ATTR.outcome]: failedWith, [ATTR.errorType]: failedWith })
          span.setStatus({ code: api.SpanStatusCode.ERROR })
        }
        return result
      } catch (err) {
        // A code the operation gave before throwing (what the raw error becomes for its caller) wins.
        failedWith ??= errorType(err)
        span.setAttributes({ ...defined(errorFacts(err)), [ATTR.outcome]: failedWith, [ATTR.errorType]: failedWith })
        const message = statusMessage(err)
        span.setStatus(message === undefined ? { code: api.SpanStatusCode.ERROR } : { code: api.SpanStatusCode.ERROR, message })
        throw err
      } finally {
        span.end()
        const seconds = (performance.now() - started) / 1000
        const outcome = { ...dimensions, [ATTR.outcome]: failedWith ?? 'ok' }
        if (spec.duration !== undefined) this.#histograms[spec.duration].record(seconds, outcome)
        if (spec.count !== undefined) this.#counters[spec.count].add(1, outcome)
        if (spec.failures !== undefined && failedWith !== undefined) this.#counters[spec.failures].add(1, { ...dimensions, [ATTR.errorType]: failedWith })
      }
    })
  }
}

/** The attributes without `undefined` values (OpenTelemetry rejects them). */
function defined(attributes: TelemetryAttributes): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {}
  for (const key in attributes) {
    const value = attributes[key]
    if (value !== undefined) out[key] = value
  }
  return out
}
