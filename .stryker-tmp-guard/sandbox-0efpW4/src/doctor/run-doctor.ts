// @ts-nocheck
import * as client from 'openid-client'
import { ResourceTokensConfigError } from '../errors/resource-tokens-error.js'
import { isLoopbackHost } from '../resources/loopback.js'
import { parseDoctorArguments, USAGE, UsageError, type DoctorOptions } from './arguments.js'
import { chooseClientAuth, readCapabilities } from './capabilities.js'
import { probeEndpoints } from './endpoint-probe.js'
import { probeLogin, type ProbeResult } from './login-probe.js'
import { MASKED_SECRET, painter, renderJson, renderText, type DoctorReport } from './report.js'
import { judge } from './verdict.js'

/** Where the doctor writes: the report to stdout, progress to stderr. */
export interface DoctorIo {
  stdout: { write(text: string): unknown; isTTY?: boolean }
  stderr: { write(text: string): unknown }
  env: Readonly<Record<string, string | undefined>>
}

/** Exit statuses of `resource-tokens doctor`. */
export const EXIT = { sound: 0, notSound: 1, usage: 2 } as const

/**
 * `resource-tokens doctor`: reads the provider's discovery document, optionally logs in and probes refresh
 * behaviour, prints the report and returns the exit status (0 sound, 1 not sound or failed, 2 bad arguments).
 * Never prints the client secret or a token.
 */
export async function runDoctor(args: readonly string[], io: DoctorIo): Promise<number> {
  let options: DoctorOptions | 'help'
  try {
    options = parseDoctorArguments(args, io.env)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    io.stderr.write(`resource-tokens doctor: ${err.message}\n\n${USAGE}\n`)
    return EXIT.usage
  }
  if (options === 'help') {
    io.stdout.write(`${USAGE}\n`)
    return EXIT.sound
  }
  const progress = (line: string) => io.stderr.write(`doctor: ${line}\n`)
  const paint = painter(io.stdout.isTTY === true && io.env['NO_COLOR'] === undefined)

  const discoveryUrl = wellKnown(options.issuer)
  progress(`reading discovery from ${discoveryUrl}`)
  let metadata: Readonly<Record<string, unknown>>
  try {
    const config = await client.discovery(options.issuer, options.clientId, undefined, undefined, {
      execute: options.issuer.protocol === 'http:' && isLoopbackHost(options.issuer.hostname) ? [client.allowInsecureRequests] : [],
      timeout: 15,
    })
    metadata = config.serverMetadata()
  } catch (err) {
    const reason = await diagnoseDiscovery(options.issuer, discoveryUrl, err)
    const report = failedDiscovery(options, reason)
    io.stdout.write(options.json ? renderJson(report) : renderText(report, paint))
    return EXIT.notSound
  }

  const clientAuth = options.clientAuth ?? chooseClientAuth(metadata)
  const capabilities = readCapabilities(metadata, discoveryUrl, clientAuth)
  let probe: ProbeResult | undefined
  if (options.login) {
    try {
      probe = await probeLogin(options, clientAuth, {
        progress,
        loginUrl: (url) => progress(`open this URL in a browser and log in: ${url.href}`),
      })
      if (probe.login.ok) {
        progress('asking the token and revocation endpoints about a made-up token')
        probe.endpoints = await probeEndpoints(options, clientAuth, metadata)
      }
    } catch (err) {
      if (err instanceof ResourceTokensConfigError) {
        io.stderr.write(`resource-tokens doctor: ${err.message}\n`)
        return EXIT.usage
      }
      if (isAddressInUse(err)) {
        io.stderr.write(`resource-tokens doctor: port ${options.redirectPort} on 127.0.0.1 is in use: pass another --redirect-port\n`)
        return EXIT.usage
      }
      throw err
    }
  }
  // The issuer exactly as the provider states it: what the configuration must say.
  const issuer = typeof metadata['issuer'] === 'string' ? metadata['issuer'] : options.issuer.href
  const verdict = judge(options, issuer, clientAuth, capabilities, probe)
  const report: DoctorReport = {
    issuer,
    clientId: options.clientId,
    clientSecret: MASKED_SECRET,
    capabilities,
    ...(probe === undefined ? {} : { probe }),
    verdict,
  }
  progress(verdict.sound ? 'done: sound' : 'done: not sound')
  io.stdout.write(options.json ? renderJson(report) : renderText(report, paint))
  return verdict.sound ? EXIT.sound : EXIT.notSound
}

/** OpenID Connect Discovery 1.0 section 4: the issuer with `/.well-known/openid-configuration` appended. */
function wellKnown(issuer: URL): string {
  return `${issuer.href.replace(/\/$/, '')}/.well-known/openid-configuration`
}

/** Why discovery failed, in words a person can act on: the URL, the HTTP status, a slash-only document. */
async function diagnoseDiscovery(issuer: URL, url: string, err: unknown): Promise<string> {
  const reason = err instanceof Error ? err.message : 'unknown error'
  let status: number | undefined
  try {
    status = (await fetch(url, { signal: AbortSignal.timeout(10_000) })).status
  } catch {
    return `${url} could not be fetched: ${reason}`
  }
  if (status === 404) {
    try {
      const slash = await fetch(`${url}/`, { signal: AbortSignal.timeout(10_000) })
      if (slash.ok && (await slash.json().catch(() => undefined)) !== undefined) {
        return `${url} answered HTTP 404, but ${url}/ (with a trailing slash) serves the document: the library reads the standard URL only (OpenID Connect Discovery 1.0 section 4); serve it there, e.g. with a redirect in front of the provider`
      }
    } catch {
      /* the slash variant is only a hint */
    }
  }
  const issuerHint = /issuer/i.test(reason) ? `; the issuer must be exactly ${issuer.href} as the document says it` : ''
  return `${url} answered HTTP ${status}: ${reason}${issuerHint}`
}

function failedDiscovery(options: DoctorOptions, reason: string): DoctorReport {
  return {
    issuer: options.issuer.href,
    clientId: options.clientId,
    clientSecret: MASKED_SECRET,
    discoveryError: reason,
    capabilities: [],
    verdict: {
      sound: false,
      summary: 'discovery failed: nothing else could be checked',
      problems: [`discovery failed: ${reason}`],
      notes: [],
      configuration: { issuer: options.issuer.href, clientId: options.clientId, clientAuth: options.clientAuth ?? 'client_secret_basic', downscoping: 'scope', resources: options.resources },
    },
  }
}

function isAddressInUse(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'EADDRINUSE'
}
