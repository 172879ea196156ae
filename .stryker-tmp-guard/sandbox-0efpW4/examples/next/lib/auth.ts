// @ts-nocheck
// One place for the client and the adapter. Configuration comes from the environment at the first request,
// so `next build` needs no provider.
import { createResourceClient } from 'resource-tokens'
import { resourceTokens } from 'resource-tokens/next'

function env(name: string): string {
  const value = process.env[name]
  if (value === undefined || value === '') throw new Error(`set ${name} (see README.md)`)
  return value
}

/** The app's public URL; the provider must have `${APP_URL}/auth/callback` registered. */
export const appUrl = process.env['APP_URL'] ?? 'http://localhost:3000'

/** `base` + `/` + `path`, whether or not `base` ends with a slash. */
export const endpoint = (base: string, path: string): string => `${base.replace(/\/+$/, '')}/${path}`

export const apis = {
  contacts: () => endpoint(env('CONTACTS_URL'), 'people'),
  calendar: () => endpoint(env('CALENDAR_URL'), 'events'),
}

export const auth = resourceTokens({
  baseUrl: appUrl,
  client: () => createResourceClient({
    issuer: env('ISSUER'),
    clientId: env('CLIENT_ID'),
    clientSecret: env('CLIENT_SECRET'),
    redirectUri: `${appUrl}/auth/callback`,
    postLogoutRedirectUri: `${appUrl}/`,
    resources: [
      { name: 'contacts', url: env('CONTACTS_URL'), indicator: env('CONTACTS_URL'), scope: 'contacts:read' },
      // The demo's calendar API takes DPoP-bound tokens only (RFC 9449).
      { name: 'calendar', url: env('CALENDAR_URL'), indicator: env('CALENDAR_URL'), scope: 'calendar:read', dpop: process.env['CALENDAR_DPOP'] === '1' },
    ],
  }),
})
