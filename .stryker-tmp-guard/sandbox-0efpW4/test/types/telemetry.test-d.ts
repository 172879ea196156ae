// @ts-nocheck
// Type-level tests of the telemetry and logger options, through the package name (see client.test-d.ts).
// The real SDK's providers and real pino/winston loggers must be accepted as they are.
import { metrics, trace } from '@opentelemetry/api'
import { type MeterProvider } from '@opentelemetry/sdk-metrics'
import { type BasicTracerProvider } from '@opentelemetry/sdk-trace-base'
import { expectTypeOf } from 'expect-type'
import { pino } from 'pino'
import winston from 'winston'
import type { LoggerInput, MeterProviderLike, ResourceClientOptions, TracerProviderLike, VerifyAccessTokenOptions } from 'resource-tokens'

expectTypeOf<BasicTracerProvider>().toExtend<TracerProviderLike>()
expectTypeOf<MeterProvider>().toExtend<MeterProviderLike>()
expectTypeOf(trace.getTracerProvider()).toExtend<TracerProviderLike>()
expectTypeOf(metrics.getMeterProvider()).toExtend<MeterProviderLike>()
expectTypeOf<ResourceClientOptions['tracerProvider']>().toEqualTypeOf<TracerProviderLike | undefined>()
expectTypeOf<VerifyAccessTokenOptions['meterProvider']>().toEqualTypeOf<MeterProviderLike | undefined>()
expectTypeOf<ResourceClientOptions['telemetry']>().toEqualTypeOf<{ enabled?: boolean; recordIdentity?: boolean } | undefined>()

// The loggers people pass.
expectTypeOf(pino()).toExtend<LoggerInput>()
expectTypeOf(winston.createLogger()).toExtend<LoggerInput>()
expectTypeOf(console).toExtend<LoggerInput>()
expectTypeOf((_level: 'debug' | 'info' | 'warn' | 'error', _message: string) => undefined).toExtend<LoggerInput>()
expectTypeOf<ResourceClientOptions['logger']>().toEqualTypeOf<LoggerInput | undefined>()
// An object logger's methods are typed from the option: `message` is a string without annotation.
const options: Pick<ResourceClientOptions, 'logger'> = { logger: { warn: (message) => expectTypeOf(message).toBeString() } }
void options
