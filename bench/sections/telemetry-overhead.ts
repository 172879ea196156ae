// 5. Telemetry overhead: warm client.fetch with OpenTelemetry on (the SDK installed, exporters that drop
// everything) against the same client with telemetry off, in one process, alternating.
import { setTimeout as sleep } from 'node:timers/promises'
import { context } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { ExportResultCode } from '@opentelemetry/core'
import { AggregationTemporality, MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base'
import { createResourceClient, MemoryStore, type ResourceClient } from 'resource-tokens'
import { median, sequential, type Figures } from '../lib/measure.js'
import { clientFetch } from '../lib/requests.js'
import type { World } from '../lib/world.js'

export interface TelemetryOverheadResult {
  repetitions: number
  timeMs: number
  /** Per repetition: telemetry off and on, one request in flight. */
  runs: Array<{ off: Figures; on: Figures; ratio: number; cpuRatio: number }>
  /** Medians over the repetitions. */
  summary: { offMedianUs: number; onMedianUs: number; ratio: number; cpuRatio: number }
  /**
   * The same comparison for `client.accessToken` (no HTTP request): what the library itself does on the warm
   * path, without the round trip that dilutes it in `fetch`. A magnifier, not the target.
   */
  accessToken: { offMeanUs: number; onMeanUs: number; ratio: number }
  /** Spans exported while measuring: 0 (a cache hit makes none). */
  spansDuringMeasurement: number
  /** Token-endpoint requests while measuring: 0 (every request used a cached token). */
  tokenRequestsDuringMeasurement: number
}

/** An exporter that drops what it is given, counting spans: the SDK does all its work, nothing leaves. */
class DroppingSpanExporter implements SpanExporter {
  spans = 0
  export(spans: Parameters<SpanExporter['export']>[0], done: Parameters<SpanExporter['export']>[1]): void {
    this.spans += spans.length
    done({ code: ExportResultCode.SUCCESS })
  }
  async shutdown(): Promise<void> {}
}

const droppingMetricExporter: PushMetricExporter = {
  export: (_metrics, done) => done({ code: ExportResultCode.SUCCESS }),
  forceFlush: async () => {},
  shutdown: async () => {},
  selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
}

export async function telemetryOverhead(world: World, options: { repetitions: number; timeMs: number }): Promise<TelemetryOverheadResult> {
  // What an app's SDK setup registers; process-wide, so it weighs on both variants alike.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  const spans = new DroppingSpanExporter()
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })
  const meterProvider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: droppingMetricExporter, exportIntervalMillis: 1000 })] })
  const group = await world.group('telemetry')
  const clients: ResourceClient[] = []
  const make = async (on: boolean): Promise<ResourceClient> => {
    const client = await createResourceClient({
      ...world.clientOptions(group),
      store: new MemoryStore(),
      ...(on ? { tracerProvider, meterProvider } : { telemetry: { enabled: false } }),
    })
    clients.push(client)
    return client
  }
  try {
    const off = await make(false)
    const on = await make(true)
    const key = 'telemetry-user'
    await world.login(off, key)
    await world.login(on, key)
    const url = `${group.contacts}/people`
    await clientFetch(off, key, url)
    await clientFetch(on, key, url)
    // Each client hears its own write announced and reads the grant once more: let that happen first.
    await sleep(200)
    await clientFetch(off, key, url)
    await clientFetch(on, key, url)
    const spansBefore = spans.spans
    const since = await world.op.tokenRequestCount()
    const runs: TelemetryOverheadResult['runs'] = []
    for (let rep = 0; rep < options.repetitions; rep++) {
      // Alternate the order, so that drift of the machine does not favour one side.
      const variants = [
        { name: 'off', fn: () => clientFetch(off, key, url) },
        { name: 'on', fn: () => clientFetch(on, key, url) },
      ]
      const figures = await sequential(rep % 2 === 0 ? variants : variants.reverse(), options.timeMs)
      const f = { off: figures['off']!, on: figures['on']! }
      runs.push({ ...f, ratio: f.on.medianUs / f.off.medianUs, cpuRatio: f.on.cpuUs / f.off.cpuUs })
      console.log(`  repetition ${rep + 1}: median off ${f.off.medianUs.toFixed(0)} µs, on ${f.on.medianUs.toFixed(0)} µs, on/off ${(f.on.medianUs / f.off.medianUs).toFixed(3)}`)
    }
    const tokenRuns: Array<{ off: number; on: number }> = []
    for (let rep = 0; rep < options.repetitions; rep++) {
      const variants = [
        { name: 'off', fn: async () => void (await off.accessToken(key, url)) },
        { name: 'on', fn: async () => void (await on.accessToken(key, url)) },
      ]
      const figures = await sequential(rep % 2 === 0 ? variants : variants.reverse(), Math.min(1000, options.timeMs))
      tokenRuns.push({ off: figures['off']!.meanUs, on: figures['on']!.meanUs })
    }
    return {
      accessToken: {
        offMeanUs: median(tokenRuns.map((r) => r.off)),
        onMeanUs: median(tokenRuns.map((r) => r.on)),
        ratio: median(tokenRuns.map((r) => r.on / r.off)),
      },
      repetitions: options.repetitions,
      timeMs: options.timeMs,
      runs,
      summary: {
        offMedianUs: median(runs.map((r) => r.off.medianUs)),
        onMedianUs: median(runs.map((r) => r.on.medianUs)),
        ratio: median(runs.map((r) => r.ratio)),
        cpuRatio: median(runs.map((r) => r.cpuRatio)),
      },
      spansDuringMeasurement: spans.spans - spansBefore,
      tokenRequestsDuringMeasurement: (await world.op.tokenRequestCount()) - since,
    }
  } finally {
    for (const client of clients) await client.close()
    await meterProvider.shutdown()
    await tracerProvider.shutdown()
    context.disable()
  }
}
