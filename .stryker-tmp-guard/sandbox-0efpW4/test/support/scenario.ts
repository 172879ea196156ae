// @ts-nocheck
// A ready-made world for integration tests: a test provider, two resource servers (contacts, calendar)
// that accept only their own tokens, and a helper that logs a user in headlessly.
import { createResourceClient, type ResourceClient, type ResourceClientOptions } from 'resource-tokens'
import { startTestProvider, type TestProvider, type TestProviderOptions } from './provider.js'
import { startResourceServer, type TestResourceServer } from './resource-server.js'

export interface Scenario {
  op: TestProvider
  contacts: TestResourceServer
  calendar: TestResourceServer
  /** Base URLs registered as resources (and used as indicators). */
  contactsUrl: string
  calendarUrl: string
  options(overrides?: Partial<ResourceClientOptions>): ResourceClientOptions
  client(overrides?: Partial<ResourceClientOptions>): Promise<ResourceClient>
  login(client: ResourceClient, key: string, accountId?: string): Promise<void>
  close(): Promise<void>
}

export interface ScenarioOptions {
  provider?: TestProviderOptions
  /** Register resources with indicators (default true). With false, resources are scope-only and tokens opaque. */
  indicators?: boolean
  /** Leeway of the resource servers for `exp` (default 0: a token is refused the second it expires). */
  resourceClockToleranceSeconds?: number
}

export async function startScenario(options: ScenarioOptions = {}): Promise<Scenario> {
  const indicators = options.indicators ?? true
  const op = await startTestProvider({
    ...(indicators ? {} : { resourceIndicators: false, extraScopes: ['contacts:read', 'calendar:read'] }),
    ...options.provider,
  })
  const introspection = { clientId: 'rs', clientSecret: 'rs-secret-for-tests-only-0123456789' }
  const contacts = await startResourceServer({
    name: 'contacts',
    issuer: op.issuer,
    scope: 'contacts:read',
    clockToleranceSeconds: options.resourceClockToleranceSeconds ?? 0,
    ...(indicators ? { audience: (url: string) => `${url}/api` } : {}),
    introspection,
  })
  const calendar = await startResourceServer({
    name: 'calendar',
    issuer: op.issuer,
    scope: 'calendar:read',
    clockToleranceSeconds: options.resourceClockToleranceSeconds ?? 0,
    ...(indicators ? { audience: (url: string) => `${url}/` } : {}),
    introspection,
  })
  const contactsUrl = `${contacts.url}/api`
  const calendarUrl = `${calendar.url}/`
  if (indicators) {
    op.registerResource({ indicator: contactsUrl, scope: 'contacts:read contacts:write' })
    op.registerResource({ indicator: calendarUrl, scope: 'calendar:read' })
  }
  const clients: ResourceClient[] = []
  const scenario: Scenario = {
    op,
    contacts,
    calendar,
    contactsUrl,
    calendarUrl,
    options: (overrides = {}) => ({
      issuer: op.issuer,
      clientId: op.clientId,
      clientSecret: op.clientSecret,
      redirectUri: op.redirectUri,
      postLogoutRedirectUri: op.postLogoutRedirectUri,
      resources: [
        { url: contactsUrl, scope: 'contacts:read', name: 'contacts', ...(indicators ? { indicator: contactsUrl } : {}) },
        { url: calendarUrl, scope: 'calendar:read', name: 'calendar', ...(indicators ? { indicator: calendarUrl } : {}) },
      ],
      logger: {},
      ...overrides,
    }),
    client: async (overrides) => {
      const client = await createResourceClient(scenario.options(overrides))
      clients.push(client)
      return client
    },
    login: async (client, key, accountId) => {
      const { url } = await client.startLogin(key, { returnTo: '/home' })
      const callback = await op.login(url, accountId === undefined ? {} : { accountId })
      await client.finishLogin(key, callback)
    },
    close: async () => {
      await Promise.all(clients.map((c) => c.close()))
      await Promise.all([contacts.close(), calendar.close()])
      await op.close()
    },
  }
  return scenario
}
