// 5. Telemetry overhead: warm client.fetch with OpenTelemetry on (the SDK installed, exporters that drop
// everything) against the same client with telemetry off, in one process, alternating.
import { setTimeout as sleep } from 'node:timers/promises'
import { context } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { ExportResultCode } from '@opentelemetry/core'
import { AggregationTemporality, MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base'
import { createResourceClient, MemoryStore, type ResourceClient } from 'resource-tokens'
import { inRandomOrder, median } from '../lib/measure.js'
import { clientFetch } from '../lib/requests.js'
import type { World } from '../lib/world.js'

export interface TelemetryOverheadResult {
  repetitions: number
  timeMs: number
  /** Per repetition: telemetry off and on, one request in flight, interleaved request by request. */
  runs: PairedFigures[]
  /** Medians over the repetitions. */
  summary: { offMedianUs: number; onMedianUs: number; ratio: number }
  /**
   * The same comparison for `client.accessToken` (no HTTP request): what the library itself does on the warm
   * path, without the round trip that dilutes it in `fetch`. A magnifier, not the target.
   */
  accessToken: { offMedianUs: number; onMedianUs: number; ratio: number }
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
      const f = await paired(() => clientFetch(off, key, url), () => clientFetch(on, key, url), options.timeMs)
      runs.push(f)
      console.log(`  repetition ${rep + 1}: ${f.pairs} pairs, median off ${f.offMedianUs.toFixed(0)} µs, on ${f.onMedianUs.toFixed(0)} µs, on/off ${f.ratio.toFixed(3)}`)
    }
    const tokenRuns: PairedFigures[] = []
    for (let rep = 0; rep < options.repetitions; rep++) {
      tokenRuns.push(await paired(async () => void (await off.accessToken(key, url)), async () => void (await on.accessToken(key, url)), Math.min(1000, options.timeMs)))
    }
    return {
      accessToken: {
        offMedianUs: median(tokenRuns.map((r) => r.offMedianUs)),
        onMedianUs: median(tokenRuns.map((r) => r.onMedianUs)),
        ratio: median(tokenRuns.map((r) => r.ratio)),
      },
      repetitions: options.repetitions,
      timeMs: options.timeMs,
      runs,
      summary: {
        offMedianUs: median(runs.map((r) => r.offMedianUs)),
        onMedianUs: median(runs.map((r) => r.onMedianUs)),
        ratio: median(runs.map((r) => r.ratio)),
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

/** One repetition of a paired comparison. */
export interface PairedFigures {
  pairs: number
  offMedianUs: number
  onMedianUs: number
  /** Median of on/off over the pairs: each pair ran back to back, in random order. */
  ratio: number
}

/**
 * Runs `off` and `on` back to back, in random order, for `timeMs` (after a short warm-up), timing each call.
 * Pairing request by request cancels what a loaded, shared machine does to longer blocks of one variant
 * (another process's burst lands on both sides of a pair alike).
 */
async function paired(off: () => Promise<void>, on: () => Promise<void>, timeMs: number): Promise<PairedFigures> {
  const time = async (fn: () => Promise<void>): Promise<number> => {
    const started = performance.now()
    await fn()
    return (performance.now() - started) * 1000
  }
  for (let i = 0; i < 200; i++) {
    await off()
    await on()
  }
  const offs: number[] = []
  const ons: number[] = []
  const ratios: number[] = []
  const end = performance.now() + timeMs
  while (performance.now() < end) {
    const [a, b] = await inRandomOrder(off, on, time)
    offs.push(a)
    ons.push(b)
    ratios.push(b / a)
  }
  return { pairs: offs.length, offMedianUs: median(offs), onMedianUs: median(ons), ratio: median(ratios) }
}
