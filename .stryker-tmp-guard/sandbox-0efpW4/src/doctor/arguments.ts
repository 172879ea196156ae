// @ts-nocheck
import { parseArgs } from 'node:util'
import { isSecureOrLoopback } from '../resources/loopback.js'

/** Client authentication methods the doctor can use: it only takes a client secret. */
export type DoctorClientAuth = 'client_secret_basic' | 'client_secret_post'

/** One `--resource URL=SCOPE[=INDICATOR]`. */
export interface DoctorResource {
  url: string
  scope: string
  indicator?: string
}

/** What `resource-tokens doctor` was asked to do, validated. */
export interface DoctorOptions {
  issuer: URL
  clientId: string
  clientSecret: string
  /** Chosen from discovery when not given. */
  clientAuth: DoctorClientAuth | undefined
  resources: DoctorResource[]
  login: boolean
  logout: boolean
  /** Port of the loopback redirect URI `http://127.0.0.1:<port>/callback`; 0 picks a free one. */
  redirectPort: number
  loginTimeoutSeconds: number
  json: boolean
}

/** Bad command-line arguments: the doctor exits with status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** Environment variable read when `--client-secret` is not given (keeps the secret out of the process list). */
export const SECRET_ENV = 'RESOURCE_TOKENS_CLIENT_SECRET'

export const DEFAULT_REDIRECT_PORT = 8765

export const USAGE = `usage: resource-tokens doctor --issuer URL --client-id ID [--client-secret SECRET]
                              [--resource URL=SCOPE[=INDICATOR]]... [--client-auth METHOD]
                              [--login [--redirect-port N] [--login-timeout SECONDS] [--logout]] [--json]

Reads the provider's discovery document and reports what it supports for resource-tokens. With --login,
opens a loopback callback at http://127.0.0.1:<port>/callback (register it at the provider), prints a URL
to log in with, then probes refresh behaviour per resource and recommends a configuration.

  --issuer URL                 the provider's issuer (https, or http on loopback)
  --client-id ID               the client's client_id
  --client-secret SECRET       the client's secret (or set ${SECRET_ENV}); never printed
  --client-auth METHOD         client_secret_basic or client_secret_post (default: from discovery)
  --resource URL=SCOPE[=IND]   a protected API: its base URL, the scope to ask for, and optionally its
                               RFC 8707 resource indicator; repeat for each API (at least one with --login)
  --login                      log in and probe refresh behaviour (down-scoping, narrowing, rotation)
  --redirect-port N            port of the loopback redirect URI (default ${DEFAULT_REDIRECT_PORT}; 0: any free port)
  --login-timeout SECONDS      how long to wait for the login (default 300)
  --logout                     after probing, log out: revoke the grant at the provider
  --json                       print the report as JSON
  -h, --help                   show this help

Exit status: 0 when the configuration is sound, 1 when it is not (or the probe failed), 2 on bad arguments.`

/**
 * Parses `doctor`'s arguments (without the `doctor` word). Throws {@link UsageError} naming the argument.
 * Returns `'help'` for `--help`.
 */
export function parseDoctorArguments(args: readonly string[], env: Readonly<Record<string, string | undefined>>): DoctorOptions | 'help' {
  let values: ReturnType<typeof parse>['values']
  try {
    ;({ values } = parse(args))
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : 'bad arguments')
  }
  if (values.help === true) return 'help'

  const issuer = requireUrl(values.issuer, '--issuer')
  if (issuer.search !== '' || issuer.hash !== '') throw new UsageError('--issuer must not have a query or fragment')
  const clientId = requireValue(values['client-id'], '--client-id')
  const clientSecret = values['client-secret'] ?? env[SECRET_ENV]
  if (clientSecret === undefined || clientSecret === '') throw new UsageError(`--client-secret (or ${SECRET_ENV}) is required`)
  const clientAuth = values['client-auth']
  if (clientAuth !== undefined && clientAuth !== 'client_secret_basic' && clientAuth !== 'client_secret_post') {
    throw new UsageError('--client-auth must be client_secret_basic or client_secret_post')
  }
  const resources = (values.resource ?? []).map((value, index) => parseResource(value, index))
  const login = values.login === true
  if (login && resources.length === 0) throw new UsageError('--login needs at least one --resource')
  if (values.logout === true && !login) throw new UsageError('--logout needs --login')
  const redirectPort = integer(values['redirect-port'], '--redirect-port', DEFAULT_REDIRECT_PORT, 0, 65535)
  const loginTimeoutSeconds = integer(values['login-timeout'], '--login-timeout', 300, 1, 24 * 3600)
  return {
    issuer,
    clientId,
    clientSecret,
    clientAuth,
    resources,
    login,
    logout: values.logout === true,
    redirectPort,
    loginTimeoutSeconds,
    json: values.json === true,
  }
}

function parse(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    strict: true,
    allowPositionals: false,
    options: {
      issuer: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'client-auth': { type: 'string' },
      resource: { type: 'string', multiple: true },
      login: { type: 'boolean' },
      logout: { type: 'boolean' },
      'redirect-port': { type: 'string' },
      'login-timeout': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}

/** `URL=SCOPE[=INDICATOR]`: split at the first two `=` (a scope has none; an indicator may). */
function parseResource(value: string, index: number): DoctorResource {
  const at = `--resource #${index + 1}`
  const first = value.indexOf('=')
  if (first < 1) throw new UsageError(`${at} must be URL=SCOPE[=INDICATOR]`)
  const url = requireUrl(value.slice(0, first), at)
  const rest = value.slice(first + 1)
  const second = rest.indexOf('=')
  const scope = (second === -1 ? rest : rest.slice(0, second)).trim()
  if (scope === '') throw new UsageError(`${at} has an empty scope`)
  if (second === -1) return { url: url.href, scope }
  // Kept as written: providers compare indicators as strings.
  const indicator = rest.slice(second + 1)
  let parsed: URL
  try {
    parsed = new URL(indicator)
  } catch {
    throw new UsageError(`${at} indicator must be an absolute URI`)
  }
  if (parsed.hash !== '') throw new UsageError(`${at} indicator must not have a fragment (RFC 8707)`)
  return { url: url.href, scope, indicator }
}

function requireValue(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw new UsageError(`${name} is required`)
  return value
}

function requireUrl(value: string | undefined, name: string): URL {
  const text = requireValue(value, name)
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new UsageError(`${name} must be an absolute URL`)
  }
  if (!isSecureOrLoopback(url)) throw new UsageError(`${name} must be https (http only on loopback)`)
  return url
}

function integer(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < min || n > max) throw new UsageError(`${name} must be an integer from ${min} to ${max}`)
  return n
}
