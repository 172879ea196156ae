import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { decodeJwt } from 'jose'
import { createResourceClient } from '../client/create-resource-client.js'
import type { ResourceClient } from '../client/resource-client.js'
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import { MemoryStore } from '../stores/memory-store.js'
import { scopeMinus, scopeSet } from '../tokens/scope.js'
import type { DoctorClientAuth, DoctorOptions, DoctorResource } from './arguments.js'

/** What one refresh for one resource did. */
export interface ProbeStep {
  /** The resource's URL, as given. */
  resource: string
  /** 1: each resource in turn; 2: the first resource again, after the others (does narrowing stick?). */
  round: 1 | 2
  outcome: 'ok' | 'broader_scope' | 'less_scope' | 'narrowed' | 'refused' | 'failed'
  requested: string
  granted?: string
  /** The library's error code, when there was an error. */
  code?: string
  /** The provider's OAuth error (`invalid_scope`, `invalid_target`, ...). */
  error?: string
  message?: string
  tokenType?: string
  format?: 'jwt' | 'opaque'
  /** `aud` of a JWT access token. */
  audience?: string[]
  rotated?: boolean
}

export interface ProbeResult {
  redirectUri: string
  login: { ok: true } | { ok: false; code: string | undefined; error: string | undefined; message: string }
  steps: ProbeStep[]
  /** Whether the refresh token changed on refresh. */
  rotation: 'yes' | 'no' | 'unknown'
  logout?: { refreshToken: string; endSessionUrl: string | undefined }
}

export interface ProbeIo {
  progress(line: string): void
  /** Where the person is told to log in; the line always ends with the URL. */
  loginUrl(url: URL): void
}

const KEY = 'doctor'
// Each probe round moves the client's clock this far, so every cached token is due and the next call refreshes.
const ROUND_MS = 400 * 24 * 3600 * 1000

/**
 * Logs in through a loopback callback and probes refresh behaviour with the library's own client, the way
 * an app would use it: a token per resource (round 1), then the first resource again (round 2). The client
 * never presents a refresh token twice, so the grant survives the probe; it is revoked only with --logout.
 */
export async function probeLogin(options: DoctorOptions, clientAuth: DoctorClientAuth, io: ProbeIo): Promise<ProbeResult> {
  const server = createServer()
  const port = await listen(server, options.redirectPort)
  const redirectUri = `http://127.0.0.1:${port}/callback`
  io.progress(`callback listening at ${redirectUri} (it must be a registered redirect URI of ${options.clientId})`)
  let offset = 0
  let client: ResourceClient | undefined
  try {
    client = await createResourceClient({
      issuer: options.issuer.href,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      clientAuth,
      redirectUri,
      resources: options.resources.map((r) => ({ url: r.url, scope: r.scope, name: r.url, ...(r.indicator === undefined ? {} : { indicator: r.indicator }) })),
      store: new MemoryStore(),
      logger: {},
      timeoutSeconds: 15,
      now: () => Date.now() + offset,
    })
    const rotations: boolean[] = []
    client.on('token', (event) => rotations.push(event.rotated))

    const login = await logIn(client, server, redirectUri, options.loginTimeoutSeconds, io)
    const result: ProbeResult = { redirectUri, login, steps: [], rotation: 'unknown' }
    if (!login.ok) return result

    const [first] = options.resources
    for (const resource of options.resources) {
      io.progress(`refreshing for ${resource.url} (scope "${resource.scope}")`)
      result.steps.push(await step(client, resource, 1, rotations))
    }
    if (first !== undefined && result.steps[0]?.code === undefined) {
      offset += ROUND_MS
      io.progress(`refreshing for ${first.url} again${options.resources.length > 1 ? ', after the others' : ''}`)
      result.steps.push(await step(client, first, 2, rotations))
    }
    result.rotation = rotations.length === 0 ? 'unknown' : rotations.some(Boolean) ? 'yes' : 'no'

    if (options.logout) {
      io.progress('logging out: revoking the grant at the provider')
      const outcome = await client.logout(KEY)
      result.logout = { refreshToken: outcome.revocation.refreshToken, endSessionUrl: outcome.endSessionUrl?.href }
    }
    return result
  } finally {
    await client?.close()
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

async function logIn(client: ResourceClient, server: Server, redirectUri: string, timeoutSeconds: number, io: ProbeIo): Promise<ProbeResult['login']> {
  let url: URL
  try {
    ;({ url } = await client.startLogin(KEY))
  } catch (err) {
    return loginFailure(err)
  }
  const callback = new Promise<ProbeResult['login']>((resolve) => {
    server.on('request', (req, res) => {
      const received = new URL(req.url ?? '/', redirectUri)
      if (req.method !== 'GET' || received.pathname !== '/callback') {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n')
        return
      }
      client.finishLogin(KEY, received).then(
        () => {
          res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('resource-tokens doctor: logged in. Return to the terminal.\n')
          resolve({ ok: true })
        },
        (err: unknown) => {
          res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('resource-tokens doctor: the login failed. See the terminal.\n')
          resolve(loginFailure(err))
        },
      )
    })
  })
  io.loginUrl(url)
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<ProbeResult['login']>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, code: undefined, error: undefined, message: `no login within ${timeoutSeconds} seconds` }), timeoutSeconds * 1000)
  })
  try {
    return await Promise.race([callback, timeout])
  } finally {
    clearTimeout(timer)
  }
}

async function step(client: ResourceClient, resource: DoctorResource, round: 1 | 2, rotations: boolean[]): Promise<ProbeStep> {
  const base: ProbeStep = { resource: resource.url, round, outcome: 'ok', requested: resource.scope }
  const seen = rotations.length
  try {
    const token = await client.accessToken(KEY, resource.url)
    const granted = token.scope ?? ''
    const requested = scopeSet(resource.scope)
    const grantedSet = scopeSet(granted)
    const outcome = scopeMinus(grantedSet, requested).length > 0 ? 'broader_scope' : scopeMinus(requested, grantedSet).length > 0 ? 'less_scope' : 'ok'
    const result: ProbeStep = { ...base, outcome, granted, tokenType: token.type, format: 'opaque' }
    const audience = jwtAudience(token.value)
    if (audience !== undefined) {
      result.format = 'jwt'
      result.audience = audience
    }
    const rotated = rotations[seen]
    if (rotated !== undefined) result.rotated = rotated
    return result
  } catch (err) {
    if (!(err instanceof ResourceTokensError)) return { ...base, outcome: 'failed', message: err instanceof Error ? err.message : 'unknown error' }
    const outcome = err.code === 'refresh_token_narrowed' ? 'narrowed' : err.code === 'token_endpoint_error' ? 'refused' : 'failed'
    const result: ProbeStep = { ...base, outcome, code: err.code, message: err.message }
    if (err.error !== undefined) result.error = err.error
    return result
  }
}

/** `aud` of a JWT access token as a list; undefined for an opaque token. Only decoded, never trusted. */
function jwtAudience(token: string): string[] | undefined {
  try {
    const claims = decodeJwt(token)
    return claims.aud === undefined ? [] : [claims.aud].flat()
  } catch {
    return undefined
  }
}

function loginFailure(err: unknown): ProbeResult['login'] {
  if (err instanceof ResourceTokensError) return { ok: false, code: err.code, error: err.error, message: err.message }
  return { ok: false, code: undefined, error: undefined, message: err instanceof Error ? err.message : 'unknown error' }
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port))
  })
}
