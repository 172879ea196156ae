// @ts-nocheck
// The real OpenTelemetry SDK with in-memory exporters: what the library emitted, spans and metrics.
import { context } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type MetricData } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'

export type Attrs = Record<string, string | number | boolean>

export interface TestTelemetry {
  tracerProvider: BasicTracerProvider
  meterProvider: MeterProvider
  /** Every span ended so far. */
  spans(): ReadableSpan[]
  /** Spans with this name, optionally with these attributes. */
  spansNamed(name: string, attributes?: Attrs): ReadableSpan[]
  /** Collects and returns every metric (cumulative since the start). */
  metrics(): Promise<MetricData[]>
  /** Sum of a counter's points whose attributes include `attributes`. */
  counter(name: string, attributes?: Attrs): Promise<number>
  /** Count and sum of a histogram's points whose attributes include `attributes`. */
  histogram(name: string, attributes?: Attrs): Promise<{ count: number; sum: number }>
  shutdown(): Promise<void>
}

let contextManagerSet = false

/** Parent/child spans across `await` need a context manager; an app's SDK setup registers one too. */
export function useAsyncContext(): void {
  if (contextManagerSet) return
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  contextManagerSet = true
}

export function startTestTelemetry(): TestTelemetry {
  useAsyncContext()
  const spanExporter = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] })
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  // Exports only when asked (forceFlush), never on its own during a test.
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 })
  const meterProvider = new MeterProvider({ readers: [reader] })

  const matches = (actual: Record<string, unknown>, wanted: Attrs | undefined): boolean => Object.entries(wanted ?? {}).every(([k, v]) => actual[k] === v)
  const metrics = async (): Promise<MetricData[]> => {
    await reader.forceFlush()
    const last = metricExporter.getMetrics().at(-1)
    return last === undefined ? [] : last.scopeMetrics.flatMap((s) => s.metrics)
  }
  const points = async (name: string, attributes: Attrs | undefined) => {
    const metric = (await metrics()).find((m) => m.descriptor.name === name)
    return (metric?.dataPoints ?? []).filter((p) => matches(p.attributes, attributes)) as Array<{ value: unknown }>
  }
  return {
    tracerProvider,
    meterProvider,
    spans: () => spanExporter.getFinishedSpans(),
    spansNamed: (name, attributes) => spanExporter.getFinishedSpans().filter((s) => s.name === name && matches(s.attributes, attributes)),
    metrics,
    counter: async (name, attributes) => (await points(name, attributes)).reduce((sum, p) => sum + (p.value as number), 0),
    histogram: async (name, attributes) => {
      const found = await points(name, attributes)
      return found.reduce((acc, p) => {
        const v = p.value as { count: number; sum: number }
        return { count: acc.count + v.count, sum: acc.sum + v.sum }
      }, { count: 0, sum: 0 })
    },
    shutdown: async () => {
      await meterProvider.shutdown()
      await tracerProvider.shutdown()
    },
  }
}
