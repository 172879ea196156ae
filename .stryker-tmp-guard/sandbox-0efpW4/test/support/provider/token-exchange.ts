// @ts-nocheck
// RFC 8693 token exchange, which oidc-provider does not ship: an access token of a user's grant (the
// subject token, found with AccessToken.find, so opaque tokens only) is exchanged for one restricted to
// `resource`, with the scope asked for, within what the grant allows for that resource.
import { resourceServerInfo, type TestResource } from './resources.js'
import type { Grant, IssuedAccessToken, OidcErrors, OidcProvider } from './oidc-provider-module.js'

/** The grant type of RFC 8693. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange'

const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token'
const PARAMETERS = ['subject_token', 'subject_token_type', 'requested_token_type', 'scope', 'resource', 'audience']

/** What oidc-provider hands a grant-type handler. */
interface GrantContext {
  oidc: {
    params: Record<string, unknown>
    client: { clientId: string }
    entity(name: string, value: unknown): void
  }
  body: unknown
}

/** What the exchange needs besides the request. */
export interface TokenExchangeContext {
  provider: OidcProvider
  errors: OidcErrors
  registry: Map<string, TestResource>
  /** seconds, for resources without their own */
  accessTokenTTL: number
}

/** Registers the token-exchange grant type with `ctx.provider`. */
export function registerTokenExchange(ctx: TokenExchangeContext): void {
  const handler = (grantCtx: GrantContext) => exchange(ctx, grantCtx)
  ctx.provider.registerGrantType(TOKEN_EXCHANGE_GRANT, handler, PARAMETERS, ['resource'])
}

async function exchange(ctx: TokenExchangeContext, grantCtx: GrantContext): Promise<void> {
  const { params, client } = grantCtx.oidc
  const subjectToken = checkedSubjectToken(ctx.errors, params)
  const subject = await ctx.provider.AccessToken.find(subjectToken)
  if (!subject || subject.isExpired || subject.clientId !== client.clientId) throw new ctx.errors.InvalidGrant('subject token is invalid')
  const grant = await ctx.provider.Grant.find(subject.grantId)
  if (!grant) throw new ctx.errors.InvalidGrant('grant not found')
  const asked = typeof params['scope'] === 'string' ? params['scope'].split(' ').filter((s) => s !== '') : []
  const resource = params['resource']
  if (Array.isArray(resource)) throw new ctx.errors.InvalidTarget('only one resource may be requested')
  const at = new ctx.provider.AccessToken({ accountId: subject.accountId, client, grantId: subject.grantId, gty: 'token-exchange', sessionUid: subject.sessionUid, sid: subject.sid })
  if (typeof resource === 'string') restrictToResource(ctx, at, grant, resource, asked)
  else at.scope = grantedOidcScope(ctx.errors, grant, asked)
  grantCtx.oidc.entity('AccessToken', at)
  const value = await at.save()
  grantCtx.body = { access_token: value, issued_token_type: ACCESS_TOKEN_TYPE, token_type: at.tokenType, expires_in: at.expiration, scope: at.scope }
}

/** The subject token, once the token types asked for are ones this exchange issues. */
function checkedSubjectToken(errors: OidcErrors, params: Record<string, unknown>): string {
  const subjectToken = params['subject_token']
  if (typeof subjectToken !== 'string' || subjectToken === '') throw new errors.InvalidRequest('missing required parameter \'subject_token\'')
  if (params['subject_token_type'] !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest('unsupported subject_token_type')
  const requestedType = params['requested_token_type']
  if (requestedType !== undefined && requestedType !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest('unsupported requested_token_type')
  return subjectToken
}

/** Makes `at` a token for `resource` with the scope asked for, all of which the grant must allow there. */
function restrictToResource(ctx: TokenExchangeContext, at: IssuedAccessToken, grant: Grant, resource: string, asked: string[]): void {
  const info = ctx.registry.get(resource)
  if (!info) throw new ctx.errors.InvalidTarget(`unknown resource indicator: ${resource}`)
  const serverScopes = new Set(info.scope.split(' '))
  const scope = grant.getResourceScopeFiltered(resource, asked.filter((s) => serverScopes.has(s)))
  if (asked.length > 0 && countScopes(scope) !== asked.length) throw new ctx.errors.InvalidScope('requested scope is not granted for this resource')
  at.resourceServer = new ctx.provider.ResourceServer(resource, resourceServerInfo(info, 'jwt', ctx.accessTokenTTL))
  at.scope = scope
}

/** The OpenID scope asked for, all of which the grant must allow. */
function grantedOidcScope(errors: OidcErrors, grant: Grant, asked: string[]): string {
  const scope = grant.getOIDCScopeFiltered(new Set(asked))
  if (countScopes(scope) !== asked.length) throw new errors.InvalidScope('requested scope is not granted')
  return scope
}

function countScopes(scope: string): number {
  return scope.split(' ').filter((s) => s !== '').length
}
