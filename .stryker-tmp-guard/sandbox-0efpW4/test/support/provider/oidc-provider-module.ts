// @ts-nocheck
// Loose typing of the parts of oidc-provider the test provider touches (the package ships no types),
// and its loader.
import type { IncomingMessage, ServerResponse } from 'node:http'

/** A grant of consent: which scopes and resource scopes a user gave one client. */
export interface Grant {
  getResourceScopeFiltered(resource: string, scopes: string[]): string
  getOIDCScopeFiltered(scopes: Set<string>): string
  addOIDCScope(scope: string): void
  addOIDCClaims(claims: string[]): void
  addResourceScope(indicator: string, scope: string): void
  save(): Promise<string>
}

/** What `provider.interactionDetails()` tells about a pending login or consent prompt. */
export interface InteractionDetails {
  uid: string
  prompt: {
    name: string
    details: {
      missingOIDCScope?: string[]
      missingOIDCClaims?: string[]
      missingResourceScopes?: Record<string, string[]>
    }
  }
  params: Record<string, unknown>
  session?: { accountId?: string }
  grantId?: string
}

/** An access token as oidc-provider models it (found by value, or about to be issued). */
export interface IssuedAccessToken {
  accountId: string
  clientId: string
  grantId: string
  sessionUid?: string
  sid?: string
  isExpired: boolean
  scope?: string
  resourceServer?: unknown
  tokenType: string
  expiration: number
  save(): Promise<string>
}

/** A node:http request listener, as `provider.callback()` returns it. */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => Promise<void>

/** An oidc-provider `Provider` instance. */
export interface OidcProvider {
  callback(): RequestListener
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: Record<string, unknown>,
    options?: { mergeWithLastSubmission?: boolean },
  ): Promise<void>
  Grant: { new (init: { accountId: string; clientId: string }): Grant; find(id: string): Promise<Grant | undefined> }
  AccessToken: {
    new (init: Record<string, unknown>): IssuedAccessToken
    find(value: string): Promise<IssuedAccessToken | undefined>
  }
  ResourceServer: new (identifier: string, info: Record<string, unknown>) => unknown
  registerGrantType(name: string, handler: (ctx: never) => Promise<void>, params: string[], dupes?: string[]): void
  on(event: string, listener: (...args: unknown[]) => void): void
}

type OidcError = new (description?: string, detail?: string) => Error

/** The OAuth errors oidc-provider turns into proper error responses when a handler throws them. */
export interface OidcErrors {
  InvalidTarget: OidcError
  InvalidGrant: OidcError
  InvalidRequest: OidcError
  InvalidScope: OidcError
}

/** The module's exports the test provider uses. */
export interface OidcModule {
  Provider: new (issuer: string, configuration: Record<string, unknown>) => OidcProvider
  errors: OidcErrors
}

let oidcModule: Promise<OidcModule> | undefined

/**
 * Imports oidc-provider once. It prints "Unsupported runtime" at import time on Node 20 (it wants 22+)
 * although everything works, so that single line is filtered out of console.warn during the import.
 * The specifier is a variable so TypeScript types the import as `any` instead of failing on the
 * missing declaration file.
 */
export function loadOidcProvider(): Promise<OidcModule> {
  oidcModule ??= importQuietly()
  return oidcModule
}

async function importQuietly(): Promise<OidcModule> {
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
