// @ts-nocheck
import { ResourceTokensConfigError } from '../errors/resource-tokens-error.js'

/**
 * A tracer provider: `@opentelemetry/api`'s `TracerProvider` (e.g. the SDK's `BasicTracerProvider`).
 * Typed structurally so that this library's types do not require `@opentelemetry/api` to be installed.
 */
export interface TracerProviderLike {
  getTracer(name: string, version?: string, options?: object): unknown
}

/** A meter provider: `@opentelemetry/api`'s `MeterProvider` (e.g. the SDK's `MeterProvider`). */
export interface MeterProviderLike {
  getMeter(name: string, version?: string, options?: object): unknown
}

/**
 * OpenTelemetry options, shared by the client and the guard. Telemetry needs `@opentelemetry/api`
 * (an optional peer dependency): without it nothing is loaded and every call is a no-op.
 */
export interface TelemetryOptions {
  /** Where spans go. Default: the global tracer provider (`trace.getTracerProvider()`). */
  tracerProvider?: TracerProviderLike
  /**
   * Where metrics go. Default: the global meter provider (`metrics.getMeterProvider()`), read when the
   * client or verifier is created: register the SDK first.
   */
  meterProvider?: MeterProviderLike
  /**
   * `enabled: false` turns telemetry off even when `@opentelemetry/api` is installed (default `true`).
   * `recordIdentity: true` adds the user's `sub` (`enduser.id`) and the provider's `sid` (`session.id`) to the
   * spans that know them (login callback, back-channel logout); off by default, as both identify a person.
   */
  telemetry?: { enabled?: boolean; recordIdentity?: boolean }
}

/** Telemetry options after validation. */
export interface ResolvedTelemetryOptions {
  readonly enabled: boolean
  readonly recordIdentity: boolean
  readonly tracerProvider: TracerProviderLike | undefined
  readonly meterProvider: MeterProviderLike | undefined
}

/** Validates the telemetry options once, at construction. Throws `ResourceTokensConfigError` naming the option. */
export function resolveTelemetryOptions(options: TelemetryOptions): ResolvedTelemetryOptions {
  const { tracerProvider, meterProvider, telemetry } = options
  if (tracerProvider !== undefined && typeof (tracerProvider as Partial<TracerProviderLike> | null)?.getTracer !== 'function') {
    throw new ResourceTokensConfigError('"tracerProvider" must be an OpenTelemetry TracerProvider (with getTracer)')
  }
  if (meterProvider !== undefined && typeof (meterProvider as Partial<MeterProviderLike> | null)?.getMeter !== 'function') {
    throw new ResourceTokensConfigError('"meterProvider" must be an OpenTelemetry MeterProvider (with getMeter)')
  }
  if (telemetry !== undefined && (typeof telemetry !== 'object' || telemetry === null)) {
    throw new ResourceTokensConfigError('"telemetry" must be an object')
  }
  for (const flag of ['enabled', 'recordIdentity'] as const) {
    if (telemetry?.[flag] !== undefined && typeof telemetry[flag] !== 'boolean') {
      throw new ResourceTokensConfigError(`"telemetry.${flag}" must be a boolean`)
    }
  }
  return {
    enabled: telemetry?.enabled ?? true,
    recordIdentity: telemetry?.recordIdentity ?? false,
    tracerProvider,
    meterProvider,
  }
}
