// A real oidc-provider (v9) authorization server for integration tests, with the instrumentation the
// library's tests need: a token-endpoint request log, a refresh-token reuse counter, fault injection, a
// mutable resource-indicator registry, quirks of real providers and a headless login.
import { createServer, type Server } from 'node:http'

import { basicAuth, closeServer, listenOnLoopback } from '../http.js'
import { APP_CLIENT, providerConfiguration, resolveSettings, RS_CLIENT, type ProviderSettings, type TestProviderOptions } from './configuration.js'
import { DEFAULT_REVOCATION_FAULT, FaultQueue, type TokenFault } from './faults.js'
import { headlessLogin, signOutAtProvider, type HeadlessBrowser, type LoginOptions } from './headless-login.js'
import { Instrumentation, type TokenEndpointHookContext, type TokenRequestRecord } from './instrumentation.js'
import { loadOidcProvider, type OidcModule, type OidcProvider, type RequestListener } from './oidc-provider-module.js'
import { ConcurrentRefreshes, quirkStorageHooks } from './quirks.js'
import type { TestResource } from './resources.js'
import { createRouter } from './router.js'
import { ROUTES } from './routes.js'
import { createStorage, type Storage } from './storage.js'
import { registerTokenExchange } from './token-exchange.js'

export { RS_CLIENT, type TestProviderOptions } from './configuration.js'
export type { TokenFault } from './faults.js'
export { HeadlessBrowser } from './headless-login.js'
export type { LoginOptions } from './headless-login.js'
export { sha256, type TokenEndpointHookContext, type TokenRequestRecord } from './instrumentation.js'
export type { ProviderQuirks } from './quirks.js'
export type { TestResource } from './resources.js'

/** A running test provider: its coordinates, its records, and the switches a test may flip while it runs. */
export interface TestProvider {
  issuer: string
  port: number
  clientId: string
  clientSecret: string
  redirectUri: string
  postLogoutRedirectUri: string
  provider: unknown
  tokenRequests: TokenRequestRecord[]
  reusedRefreshTokens(): number
  resetCounters(): void
  registerResource(r: TestResource): void
  failTokenRequests(count: number, fault: TokenFault): void
  /** Every token request arriving between `from` and `until` (epoch ms, `Date.now()`) fails with `fault`: an outage. */
  failTokenRequestsBetween(from: number, until: number, fault: TokenFault): void
  /** Bodies of pushed authorization requests (PAR), in order; client_secret/client_assertion removed. */
  parRequests: URLSearchParams[]
  /** The next `count` revocation-endpoint requests fail with `fault` (default 503) before reaching oidc-provider. */
  failRevocation(count: number, fault?: TokenFault): void
  setTokenEndpointHook(hook?: (ctx: TokenEndpointHookContext) => Promise<void> | void): void
  login(authorizationUrl: string | URL, options?: LoginOptions): Promise<string>
  /** Ends the provider session of `browser` (RP-independent sign-out at the provider): back-channel logout follows. */
  signOut(browser: HeadlessBrowser): Promise<string>
  introspect(token: string): Promise<Record<string, unknown>>
  close(): Promise<void>
}

/** Starts a provider on 127.0.0.1 with a free port; it does not keep the process alive. */
export async function startTestProvider(options: TestProviderOptions = {}): Promise<TestProvider> {
  const oidc = await loadOidcProvider()
  // Listen first: the issuer must contain the port, and the provider needs the issuer.
  const listening = await listen()
  const settings = resolveSettings(options, `http://127.0.0.1:${listening.port}`)
  const instrumentation = new Instrumentation()
  const storage = createStorage({
    onFind: (model, id) => instrumentation.onFind(model, id),
    onConsume: (model, id) => instrumentation.onConsume(model, id),
    ...quirkStorageHooks(settings.quirks, instrumentation),
  })
  const provider = createProvider(oidc, settings, storage)
  const parts = { settings, storage, instrumentation, provider, tokenFaults: new FaultQueue(), revocationFaults: new FaultQueue() }
  listening.serve(routerFor(parts))
  return testProviderHandle(parts, listening)
}

/** One provider's parts, shared by its router and its handle. */
interface ProviderParts {
  settings: ProviderSettings
  storage: Storage
  instrumentation: Instrumentation
  provider: OidcProvider
  tokenFaults: FaultQueue
  revocationFaults: FaultQueue
}

interface Listening {
  server: Server
  port: number
  /** Hands requests to `listener` from now on; until then they get 503. */
  serve(listener: RequestListener): void
}

async function listen(): Promise<Listening> {
  let listener: RequestListener = async (_req, res) => {
    res.statusCode = 503
    res.end()
  }
  const server = createServer((req, res) => {
    listener(req, res).catch((err: unknown) => {
      if (res.headersSent) res.destroy()
      else {
        res.statusCode = 500
        res.setHeader('content-type', 'text/plain')
        res.end(`test provider error: ${String(err)}`)
      }
    })
  })
  const port = await listenOnLoopback(server)
  return { server, port, serve: (next) => (listener = next) }
}

function createProvider(oidc: OidcModule, settings: ProviderSettings, storage: Storage): OidcProvider {
  const provider = new oidc.Provider(settings.issuer, providerConfiguration(settings, storage, oidc.errors))
  if (settings.options.tokenExchange === true) {
    registerTokenExchange({ provider, errors: oidc.errors, registry: settings.registry, accessTokenTTL: settings.accessTokenTTL })
  }
  return provider
}

function routerFor(parts: ProviderParts): RequestListener {
  const { settings, provider, instrumentation, storage } = parts
  const callback = provider.callback()
  const tokenEndpoint = {
    quirks: settings.quirks,
    rotateRefreshToken: settings.options.rotateRefreshToken,
    storage,
    instrumentation,
    faults: parts.tokenFaults,
    concurrentRefreshes: new ConcurrentRefreshes(settings.quirks),
    callback,
    firstResource: () => settings.registry.keys().next().value,
  }
  return createRouter({ issuer: settings.issuer, quirks: settings.quirks, provider, callback, instrumentation, revocationFaults: parts.revocationFaults, tokenEndpoint })
}

function testProviderHandle(parts: ProviderParts, listening: Listening): TestProvider {
  const { settings, instrumentation } = parts
  return {
    issuer: settings.issuer,
    port: listening.port,
    clientId: APP_CLIENT.clientId,
    clientSecret: APP_CLIENT.clientSecret,
    redirectUri: settings.redirectUri,
    postLogoutRedirectUri: settings.postLogoutRedirectUri,
    provider: parts.provider,
    tokenRequests: instrumentation.tokenRequests,
    parRequests: instrumentation.parRequests,
    reusedRefreshTokens: () => instrumentation.reusedRefreshTokens(),
    resetCounters: () => instrumentation.reset(),
    registerResource: (r) => settings.registry.set(r.indicator, r),
    failTokenRequests: (count, fault) => parts.tokenFaults.add(count, fault),
    failTokenRequestsBetween: (from, until, fault) => parts.tokenFaults.addWindow(from, until, fault),
    failRevocation: (count, fault = DEFAULT_REVOCATION_FAULT) => parts.revocationFaults.add(count, fault),
    setTokenEndpointHook: (hook) => (instrumentation.hook = hook),
    login: (authorizationUrl, loginOptions) => headlessLogin(settings.issuer, authorizationUrl, loginOptions),
    signOut: (browser) => signOutAtProvider(settings.issuer, browser, ROUTES.end_session),
    introspect: (token) => introspect(settings.issuer, token),
    close: () => closeServer(listening.server),
  }
}

/** Introspects `token` as the resource-server client, which may introspect every client's tokens. */
async function introspect(issuer: string, token: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${issuer}${ROUTES.introspection}`, {
    method: 'POST',
    headers: {
      authorization: basicAuth(RS_CLIENT.clientId, RS_CLIENT.clientSecret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token }),
  })
  if (!res.ok) throw new Error(`introspection failed: HTTP ${res.status} ${await res.text()}`)
  return (await res.json()) as Record<string, unknown>
}
