// `npm start`: the whole demo on loopback. Ports from PORT_APP, PORT_OP, PORT_CONTACTS, PORT_CALENDAR, PORT_TOOLS,
// PORT_METRICS.
import { DEFAULT_PORTS, startDemo, type DemoPorts } from './start.js'

function port(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    console.error(`${name} must be a port number (0-65535), got "${raw}"`)
    process.exit(2)
  }
  return value
}

const ports: DemoPorts = {
  app: port('PORT_APP', DEFAULT_PORTS.app),
  op: port('PORT_OP', DEFAULT_PORTS.op),
  contacts: port('PORT_CONTACTS', DEFAULT_PORTS.contacts),
  calendar: port('PORT_CALENDAR', DEFAULT_PORTS.calendar),
  metrics: port('PORT_METRICS', DEFAULT_PORTS.metrics),
  tools: port('PORT_TOOLS', DEFAULT_PORTS.tools),
}

let demo: Awaited<ReturnType<typeof startDemo>>
try {
  demo = await startDemo({ ports })
} catch (err) {
  console.error(`the demo could not start: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
}

console.log(`
  resource-tokens demo: one sign-in, one audience-restricted token per API

    identity provider  ${demo.opUrl}
    contacts API       ${demo.contactsUrl}/contacts
    calendar API       ${demo.calendarUrl}/calendar
    metrics            ${demo.metricsUrl}  (Prometheus text format)
    tools API          ${demo.toolsUrl}/tools  (not configured: discovered at run time, RFC 9728)

  Open ${demo.appUrl}  (sign in as alice / wonderland)
  Ctrl-C stops everything.
`)

let stopping = false
async function stop(signal: string): Promise<void> {
  if (stopping) {
    process.exit(130) // a second Ctrl-C: do not wait
  }
  stopping = true
  console.log(`\n  ${signal}: stopping…`)
  // Should something hang on to the event loop, do not hang with it.
  setTimeout(() => process.exit(0), 3000).unref()
  await demo.close()
  console.log('  stopped.')
}
process.on('SIGINT', (signal) => void stop(signal))
process.on('SIGTERM', (signal) => void stop(signal))
