// The resource server of the benchmark: answers every request with 200 and a small JSON body, and checks
// nothing, so that the figures measure the client and not token verification. It runs in its own process
// as a real API would, so its work does not share the client's event loop.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { runWorker, send, serve } from '../lib/worker-channel.js'

const BODY = Buffer.from('{"ok":true}')

runWorker(async () => {
  const server = createServer((req, res) => {
    req.resume()
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': BODY.length })
    res.end(BODY)
  })
  server.keepAliveTimeout = 60_000
  let connections = 0
  let requests = 0
  server.on('connection', () => connections++)
  server.on('request', () => requests++)
  // Connections opened and requests served so far: a client that does not reuse connections shows here.
  serve({ counters: () => ({ connections, requests }) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  await send('listening', { port: (server.address() as AddressInfo).port })
  // Serves until the parent disconnects (worker-channel exits the process then).
  await new Promise(() => undefined)
})
