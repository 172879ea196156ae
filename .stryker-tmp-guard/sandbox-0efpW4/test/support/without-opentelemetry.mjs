// @ts-nocheck
// Loaded with --import: makes @opentelemetry/* unresolvable, as in an app that does not install it, and
// records every module URL that is loaded, so a test can show that nothing of OpenTelemetry was.
import { register } from 'node:module'
import { MessageChannel } from 'node:worker_threads'

const { port1, port2 } = new MessageChannel()
globalThis.__loadedModules = []
port1.on('message', (url) => globalThis.__loadedModules.push(url))
port1.unref()

const hooks = `
let port
export function initialize(data) { port = data.port }
export async function resolve(specifier, context, next) {
  if (specifier.startsWith('@opentelemetry/')) {
    const err = new Error('Cannot find package ' + specifier)
    err.code = 'ERR_MODULE_NOT_FOUND'
    throw err
  }
  return next(specifier, context)
}
export async function load(url, context, next) {
  port.postMessage(url)
  return next(url, context)
}
`
register(`data:text/javascript,${encodeURIComponent(hooks)}`, { data: { port: port2 }, transferList: [port2] })
