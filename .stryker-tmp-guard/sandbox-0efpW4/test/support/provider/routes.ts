// @ts-nocheck
// Routes pinned in the provider's configuration, so the request router can match them without discovery.

/** oidc-provider's `routes` setting. */
export const ROUTES = {
  authorization: '/auth',
  token: '/token',
  pushed_authorization_request: '/request',
  introspection: '/token/introspection',
  revocation: '/token/revocation',
  jwks: '/jwks',
  end_session: '/session/end',
  userinfo: '/me',
} as const

/** The discovery document's path (served with and without a trailing slash). */
export const DISCOVERY = '/.well-known/openid-configuration'

/** The routes where a client authenticates. */
export const CLIENT_AUTH_ROUTES = new Set<string>([ROUTES.token, ROUTES.pushed_authorization_request, ROUTES.revocation, ROUTES.introspection])

/** Whether `pathname` belongs to an interaction (login or consent prompt). */
export function isInteraction(pathname: string): boolean {
  return /^\/interaction\/[^/]+$/.test(pathname)
}
