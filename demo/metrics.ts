// The demo's metrics in the Prometheus text format, on their own loopback port (GET /metrics).
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus'
import { MeterProvider } from '@opentelemetry/sdk-metrics'

export interface DemoMetrics {
  /** Hand it to `createResourceClient({ meterProvider })` and the guards. */
  meterProvider: MeterProvider
  /** e.g. http://127.0.0.1:9464/metrics */
  url: string
  close(): Promise<void>
}

/**
 * A meter provider whose only reader is the Prometheus exporter, served on 127.0.0.1 by a server of our own
 * (the exporter's would listen on every interface, and could not report a port chosen by the system).
 */
export async function startDemoMetrics(port: number): Promise<DemoMetrics> {
  const exporter = new PrometheusExporter({ preventServerStart: true, withoutTargetInfo: true })
  const meterProvider = new MeterProvider({ readers: [exporter] })
  const server: Server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/metrics') {
      exporter.getMetricsRequestHandler(request, response)
      return
    }
    response.statusCode = 404
    response.end('not found\n')
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', resolve)
  })
  const { port: bound } = server.address() as AddressInfo
  return {
    meterProvider,
    url: `http://127.0.0.1:${bound}/metrics`,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      await meterProvider.shutdown()
    },
  }
}
