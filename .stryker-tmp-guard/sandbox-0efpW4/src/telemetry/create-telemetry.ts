// @ts-nocheck
import { OtelTelemetry, type OpenTelemetryApi } from './otel-telemetry.js'
import type { ResolvedTelemetryOptions } from './options.js'
import { NOOP_TELEMETRY, type Telemetry } from './telemetry.js'

let loading: Promise<OpenTelemetryApi | undefined> | undefined

/**
 * `@opentelemetry/api` when the app has it installed, else undefined. Loaded on first need, once per process:
 * an app without it pays one failed import and nothing after. A dynamic import, so that both the ESM and a
 * CommonJS build of this library load it the same way.
 */
export function loadOpenTelemetryApi(): Promise<OpenTelemetryApi | undefined> {
  loading ??= import('@opentelemetry/api').then(
    (api) => api,
    () => undefined,
  )
  return loading
}

/** The telemetry the options ask for: OpenTelemetry when enabled and installed, else the no-op. */
export async function createTelemetry(options: ResolvedTelemetryOptions): Promise<Telemetry> {
  if (!options.enabled) return NOOP_TELEMETRY
  const api = await loadOpenTelemetryApi()
  if (api === undefined) return NOOP_TELEMETRY
  return new OtelTelemetry(api, {
    tracerProvider: options.tracerProvider as Parameters<OpenTelemetryApi['trace']['setGlobalTracerProvider']>[0] | undefined,
    meterProvider: options.meterProvider as Parameters<OpenTelemetryApi['metrics']['setGlobalMeterProvider']>[0] | undefined,
    recordIdentity: options.recordIdentity,
  })
}

/**
 * Telemetry for parts created synchronously (the guard's verifier): loading starts at creation, and the
 * first calls wait for it; later calls get the loaded telemetry without a promise.
 */
export class LazyTelemetry {
  #ready: Telemetry | undefined
  readonly #loading: Promise<Telemetry>

  constructor(options: ResolvedTelemetryOptions) {
    if (!options.enabled) this.#ready = NOOP_TELEMETRY
    // Telemetry must never break verification: whatever goes wrong while loading leaves the no-op.
    this.#loading =
      this.#ready !== undefined
        ? Promise.resolve(this.#ready)
        : createTelemetry(options)
            .catch(() => NOOP_TELEMETRY)
            .then((t) => (this.#ready = t))
  }

  /** The telemetry, once loaded; until then a promise of it. */
  get(): Telemetry | Promise<Telemetry> {
    return this.#ready ?? this.#loading
  }
}
