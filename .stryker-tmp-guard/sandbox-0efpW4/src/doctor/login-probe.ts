// @ts-nocheck
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createResourceClient } from '../client/create-resource-client.js'
import type { ResourceClient } from '../client/resource-client.js'
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import { MemoryStore } from '../stores/memory-store.js'
import { readAccessTokenClaims, tokenEvidence, type ScopeBasis } from '../tokens/token-evidence.js'
import type { DoctorClientAuth, DoctorOptions, DoctorResource } from './arguments.js'
import type { EndpointProbe } from './endpoint-probe.js'

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
  /** Where `granted` comes from: the response's `scope`, the JWT's own claim, both, or nothing (`none`: cannot tell). */
  scopeBasis?: ScopeBasis
  /** Whether the refresh response carried `scope` (RFC 6749 section 5.1 allows leaving it out only when it is what was asked). */
  responseScope?: 'present' | 'omitted'
  /** Audiences of the JWT besides the indicator asked for (the token is good elsewhere too). */
  extraAudience?: string[]
  rotated?: boolean
}

export interface ProbeResult {
  redirectUri: string
  login: { ok: true } | { ok: false; code: string | undefined; error: string | undefined; message: string }
  steps: ProbeStep[]
  /** Whether the refresh token changed on refresh. */
  rotation: 'yes' | 'no' | 'unknown'
  logout?: { refreshToken: string; endSessionUrl: string | undefined }
  /** Made-up-token probes of the token and revocation endpoints (after a successful login). */
  endpoints?: EndpointProbe
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
  const observed = new RefreshResponses()
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
      // The probe looks at broader tokens instead of refusing them: the verdict says what strictScopes would do.
      strictScopes: false,
      now: () => Date.now() + offset,
      fetch: observed.fetch,
    })
    const rotations: boolean[] = []
    client.on('token', (event) => rotations.push(event.rotated))

    const login = await logIn(client, server, redirectUri, options.loginTimeoutSeconds, io)
    const result: ProbeResult = { redirectUri, login, steps: [], rotation: 'unknown' }
    if (!login.ok) return result

    const [first] = options.resources
    for (const resource of options.resources) {
      io.progress(`refreshing for ${resource.url} (scope "${resource.scope}")`)
      result.steps.push(await step(client, resource, 1, rotations, observed))
    }
    if (first !== undefined && result.steps[0]?.code === undefined) {
      offset += ROUND_MS
      io.progress(`refreshing for ${first.url} again${options.resources.length > 1 ? ', after the others' : ''}`)
      result.steps.push(await step(client, first, 2, rotations, observed))
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

async function step(client: ResourceClient, resource: DoctorResource, round: 1 | 2, rotations: boolean[], observed: RefreshResponses): Promise<ProbeStep> {
  const base: ProbeStep = { resource: resource.url, round, outcome: 'ok', requested: resource.scope }
  const seen = rotations.length
  observed.reset()
  try {
    const token = await client.accessToken(KEY, resource.url)
    // What the response said, read from the wire: the library fills an omitted `scope` with what was asked.
    const responseScope = observed.last()
    const evidence = tokenEvidence({ scope: resource.scope, resource: resource.indicator }, responseScope === undefined ? token.scope : responseScope.scope, token.value)
    const outcome = evidence.scope.broader.length > 0 ? 'broader_scope' : evidence.scope.narrower.length > 0 ? 'less_scope' : 'ok'
    const result: ProbeStep = { ...base, outcome, granted: evidence.scope.granted, tokenType: token.type, format: evidence.format, scopeBasis: evidence.scope.basis }
    if (responseScope !== undefined) result.responseScope = responseScope.scope === undefined ? 'omitted' : 'present'
    const claims = readAccessTokenClaims(token.value)
    if (claims.format === 'jwt') result.audience = claims.audience ?? []
    if (evidence.audience.basis === 'token' && evidence.audience.extra.length > 0) result.extraAudience = evidence.audience.extra
    const rotated = rotations[seen]
    if (rotated !== undefined) result.rotated = rotated
    return result
  } catch (err) {
    if (!(err instanceof ResourceTokensError)) return { ...base, outcome: 'failed', message: err instanceof Error ? err.message : 'unknown error' }
    const outcome = err.code === 'refresh_token_narrowed' ? 'narrowed' : err.code === 'token_endpoint_error' ? 'refused' : err.code === 'scope_broadened' ? 'broader_scope' : 'failed'
    const result: ProbeStep = { ...base, outcome, code: err.code, message: err.message }
    if (err.error !== undefined) result.error = err.error
    if (err.code === 'scope_broadened' && err.scope !== undefined) result.granted = err.scope
    return result
  }
}

/**
 * Watches the refresh responses of the probe's client through its `fetch` option, to learn whether each carried
 * `scope`: the library's token object cannot say (an omitted `scope` is taken as what was asked). Only the
 * `scope` member is kept; tokens in the body are never stored.
 */
class RefreshResponses {
  #last: { scope: string | undefined } | undefined

  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const response = await fetch(input, init)
    if (isRefresh(init?.body) && response.status === 200) {
      try {
        const json = (await response.clone().json()) as Record<string, unknown>
        this.#last = { scope: typeof json['scope'] === 'string' ? json['scope'] : undefined }
      } catch {
        /* not JSON: the library reports that itself */
      }
    }
    return response
  }

  reset(): void {
    this.#last = undefined
  }

  /** The last refresh response since reset, or undefined when none was seen. */
  last(): { scope: string | undefined } | undefined {
    return this.#last
  }
}

function isRefresh(body: unknown): boolean {
  if (body instanceof URLSearchParams) return body.get('grant_type') === 'refresh_token'
  if (typeof body === 'string') return new URLSearchParams(body).get('grant_type') === 'refresh_token'
  return false
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
