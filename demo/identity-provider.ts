// The demo's OpenID Provider: oidc-provider with a real sign-in and consent page (its own interaction
// routes, devInteractions off), RFC 8707 resource indicators for the two APIs, refresh-token rotation,
// revocation, introspection, RP-initiated logout and back-channel logout (signing out here ends the app's session too).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import express, { type NextFunction, type Request, type Response } from 'express'
import { exportJWK, generateKeyPair } from 'jose'
import { consentPage, loggedOutPage, loginPage, logoutPage, providerErrorPage, type ConsentItem } from './pages/provider-pages.js'
import { PAGE_CSP } from './pages/html.js'
import { memoryAdapter } from './provider-storage.js'

/** The one person who can sign in. The password is printed on the sign-in page: this is a demo. */
export const DEMO_USER = { id: 'alice', password: 'wonderland', name: 'Alice Liddell', email: 'alice@wonderland.test' } as const

/** An API the provider issues audience-restricted tokens for. */
export interface DemoApi {
  /** RFC 8707 resource indicator, also the token's `aud`. */
  indicator: string
  /** Scope the API's tokens may carry. */
  scope: string
  /** For the consent page, e.g. `Contacts API`. */
  title: string
  /** CSS accent on the consent page. */
  kind: string
}

export interface IdentityProviderOptions {
  issuer: string
  client: { id: string; secret: string; name: string; redirectUri: string; postLogoutRedirectUri: string; backchannelLogoutUri: string }
  apis: DemoApi[]
  /** Lifetime of the APIs' access tokens, in seconds. */
  accessTokenTtlSeconds: number
}

// ---- the parts of oidc-provider used here (it ships no types)
interface Grant {
  addOIDCScope(scope: string): void
  addOIDCClaims(claims: string[]): void
  addResourceScope(indicator: string, scope: string): void
  save(): Promise<string>
}
interface InteractionDetails {
  uid: string
  prompt: { name: string; details: { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> } }
  params: Record<string, unknown>
  session?: { accountId?: string }
  grantId?: string
}
interface KoaContext {
  type: string
  body: string
  status: number
  set(name: string, value: string): void
  oidc?: { client?: { clientName?: string }; entities?: Record<string, { authTime?: number } | undefined> }
}
interface OidcProvider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>
  interactionFinished(req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>, options?: { mergeWithLastSubmission?: boolean }): Promise<void>
  Grant: { new (init: { accountId: string; clientId: string }): Grant; find(id: string): Promise<Grant | undefined> }
  on(event: string, listener: (...args: unknown[]) => void): void
}
interface OidcModule {
  Provider: new (issuer: string, configuration: Record<string, unknown>) => OidcProvider
  errors: { InvalidTarget: new (description?: string) => Error }
}

/**
 * oidc-provider announces "Unsupported runtime" on Node 20 (it prefers 22) although it works; hide that one
 * line. The specifier is a variable so TypeScript does not look for the missing declaration file.
 */
async function loadOidcProvider(): Promise<OidcModule> {
  const warn = console.warn
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('Unsupported runtime')) return
    warn(...args)
  }
  try {
    const specifier = 'oidc-provider'
    return (await import(specifier)) as OidcModule
  } finally {
    console.warn = warn
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

function passwordMatches(given: unknown): boolean {
  return typeof given === 'string' && timingSafeEqual(sha256(given), sha256(DEMO_USER.password))
}

function asList(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string')
  return typeof value === 'string' ? [value] : []
}

/** Creates the provider and returns the request handler to serve it with. */
export async function createIdentityProvider(options: IdentityProviderOptions): Promise<(req: IncomingMessage, res: ServerResponse) => void> {
  const { Provider, errors } = await loadOidcProvider()
  const apis = new Map(options.apis.map((api) => [api.indicator, api]))
  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  const signingKey = { ...(await exportJWK(privateKey)), kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' }
  const ttl = options.accessTokenTtlSeconds

  const provider = new Provider(options.issuer, {
    clients: [
      {
        client_id: options.client.id,
        client_secret: options.client.secret,
        client_name: options.client.name,
        redirect_uris: [options.client.redirectUri],
        post_logout_redirect_uris: [options.client.postLogoutRedirectUri],
        // OpenID Connect Back-Channel Logout: when the user signs out here, the provider POSTs a logout token there.
        backchannel_logout_uri: options.client.backchannelLogoutUri,
        backchannel_logout_session_required: true,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      // For `npx resource-tokens doctor --login` against the demo (docs/PROVIDERS.md); its callback is the doctor's.
      {
        client_id: 'demo-doctor',
        client_secret: 'demo-doctor-secret',
        redirect_uris: ['http://127.0.0.1:8765/callback'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    adapter: memoryAdapter(),
    // oidc-provider refuses to call special-use addresses (SSRF protection), and the demo app is on 127.0.0.1: let
    // exactly the app's back-channel logout URI through, nothing else.
    fetch: async (url: string | URL, init: RequestInit & { dispatcher?: unknown }) => {
      if (new URL(url).href !== new URL(options.client.backchannelLogoutUri).href) throw new Error('the demo provider only calls the app\'s back-channel logout URI')
      const { dispatcher: _ssrfGuard, ...rest } = init
      return fetch(url, rest)
    },
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
    // Put name and email in the ID token, so the app can greet the user without a userinfo call.
    conformIdTokenClaims: false,
    findAccount: async (_ctx: unknown, sub: string) =>
      sub === DEMO_USER.id
        ? { accountId: sub, claims: async () => ({ sub, name: DEMO_USER.name, email: DEMO_USER.email, email_verified: true }) }
        : undefined,
    pkce: { required: () => true },
    rotateRefreshToken: true,
    clientBasedCORS: () => false,
    ttl: {
      AccessToken: ttl,
      ClientCredentials: ttl,
      IdToken: 3600,
      RefreshToken: 24 * 60 * 60,
      AuthorizationCode: 60,
      Interaction: 10 * 60,
      Session: 24 * 60 * 60,
      Grant: 24 * 60 * 60,
      DeviceCode: 600,
      BackchannelAuthenticationRequest: 600,
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    // RFC 9470 section 5: access tokens say when the user signed in, so an API can ask for a recent sign-in.
    extraTokenClaims: (ctx: KoaContext) => {
      const source = ctx.oidc?.entities?.['RefreshToken'] ?? ctx.oidc?.entities?.['AuthorizationCode']
      return source?.authTime === undefined ? undefined : { auth_time: source.authTime }
    },
    features: {
      devInteractions: { enabled: false },
      // Clients may revoke and introspect their own tokens only.
      revocation: { enabled: true, allowedPolicy: ownTokensOnly },
      introspection: { enabled: true, allowedPolicy: ownTokensOnly },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx: KoaContext, form: string) => {
          ctx.set('Content-Security-Policy', PAGE_CSP)
          ctx.body = logoutPage({ form, clientName: ctx.oidc?.client?.clientName })
        },
        postLogoutSuccessSource: async (ctx: KoaContext) => {
          ctx.body = loggedOutPage()
        },
      },
      resourceIndicators: {
        enabled: true,
        // No `resource`, no API token: the code exchange gives an ID token and the refresh token only.
        defaultResource: () => undefined,
        useGrantedResource: () => false,
        getResourceServerInfo: (_ctx: unknown, indicator: string) => {
          const api = apis.get(indicator)
          if (api === undefined) throw new errors.InvalidTarget('unknown resource indicator')
          return { scope: api.scope, audience: indicator, accessTokenTTL: ttl, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }
        },
      },
    },
    renderError: async (ctx: KoaContext, out: { error: string; error_description?: string }) => {
      ctx.type = 'html'
      ctx.body = providerErrorPage(out.error, out.error_description)
    },
  })
  // Expected during a demo (an expired form, a wrong password elsewhere); the page says what happened.
  provider.on('server_error', () => undefined)

  const app = express()
  app.disable('x-powered-by')
  const form = express.urlencoded({ extended: false, limit: '4kb' })
  const sendPage = (res: Response, body: string, status = 200) => {
    res.status(status).set({ 'Content-Security-Policy': PAGE_CSP, 'Cache-Control': 'no-store' }).type('html').send(body)
  }

  app.get('/interaction/:uid', async (req: Request, res: Response) => {
    const details = await provider.interactionDetails(req, res)
    const clientName = options.client.name
    if (details.prompt.name === 'login') {
      sendPage(res, loginPage({ uid: details.uid, clientName, demoUser: DEMO_USER.id, demoPassword: DEMO_USER.password }))
      return
    }
    if (details.prompt.name === 'consent') {
      sendPage(res, consentPage({ uid: details.uid, clientName, accountName: DEMO_USER.name, items: consentItems(details, apis) }))
      return
    }
    sendPage(res, providerErrorPage('unsupported_prompt', 'This sign-in step is not supported by the demo.'), 400)
  })

  app.post('/interaction/:uid/login', form, async (req: Request, res: Response) => {
    const details = await provider.interactionDetails(req, res)
    const body = (req.body ?? {}) as Record<string, unknown>
    const username = typeof body['username'] === 'string' ? body['username'].trim().toLowerCase() : ''
    if (details.prompt.name !== 'login') {
      sendPage(res, providerErrorPage('invalid_request', 'This sign-in form has already been used.'), 400)
      return
    }
    if (username !== DEMO_USER.id || !passwordMatches(body['password'])) {
      const page = loginPage({
        uid: details.uid,
        clientName: options.client.name,
        username,
        error: 'Wrong username or password.',
        demoUser: DEMO_USER.id,
        demoPassword: DEMO_USER.password,
      })
      sendPage(res, page, 401)
      return
    }
    await provider.interactionFinished(req, res, { login: { accountId: DEMO_USER.id } }, { mergeWithLastSubmission: false })
  })

  app.post('/interaction/:uid/confirm', async (req: Request, res: Response) => {
    const details = await provider.interactionDetails(req, res)
    const accountId = details.session?.accountId
    if (details.prompt.name !== 'consent' || accountId === undefined) {
      sendPage(res, providerErrorPage('invalid_request', 'This consent form has already been used.'), 400)
      return
    }
    // One grant per authorization, holding everything this request asked for. A new login (step-up, another
    // API) then gets a refresh token of its own grant, and the app revoking the replaced refresh token
    // (oidc-provider revokes its whole grant) does not take the new one with it.
    const grant = new provider.Grant({ accountId, clientId: String(details.params['client_id']) })
    const scopes = new Set(asList(details.params['scope']).flatMap((s) => s.split(' ')))
    grant.addOIDCScope(['openid', 'offline_access', 'profile', 'email'].filter((s) => scopes.has(s)).join(' '))
    const { missingOIDCClaims } = details.prompt.details
    if (missingOIDCClaims !== undefined) grant.addOIDCClaims(missingOIDCClaims)
    for (const indicator of asList(details.params['resource'])) {
      const api = apis.get(indicator)
      if (api !== undefined) grant.addResourceScope(indicator, api.scope)
    }
    const grantId = await grant.save()
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true })
  })

  app.post('/interaction/:uid/abort', async (req: Request, res: Response) => {
    await provider.interactionDetails(req, res)
    await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'the user declined' }, { mergeWithLastSubmission: false })
  })

  // An interaction that expired or was finished in another tab: say so, plainly.
  app.use('/interaction', (err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err)
      return
    }
    sendPage(res, providerErrorPage('interaction_expired', 'This sign-in page has expired. Go back to the app and sign in again.'), 400)
  })

  app.use(provider.callback())
  return app
}

function ownTokensOnly(_ctx: unknown, client: { clientId: string }, token: { clientId?: string }): boolean {
  return token.clientId === client.clientId
}

/** What the consent page lists: sign-in, staying signed in, and one line per API with its audience and scope. */
function consentItems(details: InteractionDetails, apis: Map<string, DemoApi>): ConsentItem[] {
  const scopes = new Set(asList(details.params['scope']).flatMap((s) => s.split(' ')).filter(Boolean))
  const items: ConsentItem[] = []
  const identity = ['openid', 'profile', 'email'].filter((s) => scopes.has(s))
  if (identity.length > 0) items.push({ kind: '', title: 'Know who you are', detail: `scope ${identity.join(' ')}` })
  if (scopes.has('offline_access')) {
    items.push({ kind: '', title: 'Stay connected (one refresh token, kept on the app\'s server)', detail: 'scope offline_access' })
  }
  for (const indicator of asList(details.params['resource'])) {
    const api = apis.get(indicator)
    if (api === undefined) continue
    items.push({ kind: api.kind, title: api.title, detail: `audience ${indicator} · scope ${api.scope}` })
  }
  return items
}
