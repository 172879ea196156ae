// The test OpenID provider (oidc-provider, from test/support) in a process of its own: like a real
// provider it does not share the client's event loop, and its AsyncLocalStorage (which makes every
// promise of a process pay for async hooks) stays out of the client's process.
import { startTestProvider, type TestProviderOptions, type TestResource, type TokenFault } from '../../test/support/provider.js'
import { receive, runWorker, send, serve } from '../lib/worker-channel.js'

runWorker(async () => {
  const op = await startTestProvider(await receive<TestProviderOptions>())
  serve({
    registerResource: (resource: TestResource) => op.registerResource(resource),
    login: (url: string) => op.login(url),
    tokenRequestCount: () => op.tokenRequests.length,
    tokenRequests: (since: number) => op.tokenRequests.slice(since),
    reusedRefreshTokens: () => op.reusedRefreshTokens(),
    failTokenRequestsBetween: (from: number, until: number, fault: TokenFault) => op.failTokenRequestsBetween(from, until, fault),
  })
  await send('ready', { issuer: op.issuer, clientId: op.clientId, clientSecret: op.clientSecret, redirectUri: op.redirectUri })
  // Keeps serving until the parent disconnects; the listening server holds the process open.
  await new Promise(() => undefined)
})
