// @ts-nocheck
// The demo's identity provider (with its sign-in and consent pages) and its two APIs (contacts; calendar,
// DPoP only), for browser tests of apps other than the demo's own.
import { randomBytes } from 'node:crypto'
import { createServer, type RequestListener } from 'node:http'
import { createIdentityProvider } from '../../demo/identity-provider.js'
import { createResourceApi } from '../../demo/resource-api.js'
import { closeServer, listenOnLoopback } from './http.js'

export interface DemoBackend {
  issuer: string
  client: { id: string; secret: string }
  /** Resource URLs (= indicators); the APIs answer `<contactsUrl>/people` and `<calendarUrl>/events`. */
  contactsUrl: string
  calendarUrl: string
  close(): Promise<void>
}

async function serve(listener: () => RequestListener): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer((req, res) => listener()(req, res))
  const port = await listenOnLoopback(server)
  return { origin: `http://127.0.0.1:${port}`, close: () => closeServer(server) }
}

/** Starts the provider and both APIs for a client whose app lives at `appUrl` (callback `/auth/callback`). */
export async function startDemoBackend(appUrl: string): Promise<DemoBackend> {
  let op: RequestListener = (_req, res) => res.end()
  let contacts: RequestListener = (_req, res) => res.end()
  let calendar: RequestListener = (_req, res) => res.end()
  const servers = [await serve(() => op), await serve(() => contacts), await serve(() => calendar)]
  const [opServer, contactsServer, calendarServer] = servers as [typeof servers[0], typeof servers[0], typeof servers[0]]
  const issuer = opServer.origin
  const contactsUrl = `${contactsServer.origin}/contacts`
  const calendarUrl = `${calendarServer.origin}/calendar`
  const client = { id: 'adapter-app', secret: randomBytes(24).toString('base64url') }
  op = await createIdentityProvider({
    issuer,
    client: { ...client, name: 'Adapter App', redirectUri: `${appUrl}/auth/callback`, postLogoutRedirectUri: `${appUrl}/`, backchannelLogoutUri: `${appUrl}/auth/backchannel-logout` },
    apis: [
      { indicator: contactsUrl, scope: 'contacts:read', title: 'Contacts API', kind: 'contacts' },
      { indicator: calendarUrl, scope: 'calendar:read', title: 'Calendar API', kind: 'calendar' },
    ],
    accessTokenTtlSeconds: 120,
  })
  contacts = createResourceApi({ name: 'contacts', origin: contactsServer.origin, indicator: contactsUrl, scope: 'contacts:read', issuer, collection: 'people', items: [{ name: 'Mad Hatter' }] })
  calendar = createResourceApi({ name: 'calendar', dpop: true, origin: calendarServer.origin, indicator: calendarUrl, scope: 'calendar:read', issuer, collection: 'events', items: [{ title: 'Croquet with the Queen' }] })
  return { issuer, client, contactsUrl, calendarUrl, close: async () => { await Promise.all(servers.map((s) => s.close())) } }
}
