// @ts-nocheck
import type { DownscopingStrategy } from '../config/options.js'
import type { DoctorClientAuth, DoctorOptions } from './arguments.js'
import type { Capability, CapabilityId } from './capabilities.js'
import type { ProbeResult, ProbeStep } from './login-probe.js'

/** The configuration the doctor recommends, as `createResourceClient` options (the secret left out). */
export interface RecommendedConfiguration {
  issuer: string
  clientId: string
  clientAuth: DoctorClientAuth
  downscoping: DownscopingStrategy
  resourceIndicators?: true
  resources: Array<{ url: string; scope: string; indicator?: string }>
}

export interface Verdict {
  /** True when the configuration below can be used as is: the exit status is 0 only then. */
  sound: boolean
  summary: string
  /** What is wrong, each with what to do. */
  problems: string[]
  /** Worth knowing, not wrong. */
  notes: string[]
  configuration: RecommendedConfiguration
}

/**
 * Judges the provider for this library from discovery and, when there was a login, from the refresh probe;
 * updates the rows only a login can fill (resource indicators, JWT access tokens).
 */
export function judge(options: DoctorOptions, issuer: string, clientAuth: DoctorClientAuth, capabilities: Capability[], probe: ProbeResult | undefined): Verdict {
  const problems: string[] = []
  const notes: string[] = []
  const row = (id: CapabilityId) => capabilities.find((c) => c.id === id)
  const tokenExchange = row('token_exchange')?.status === 'yes'

  if (row('pkce')?.status === 'no') problems.push('the provider does not offer PKCE S256, which the library always uses (RFC 9700 section 2.1.1): enable it at the provider')
  if (row('refresh_token')?.status === 'no') problems.push('the refresh_token grant is not offered: per-resource tokens need a refresh token; allow it for this client')
  if (row('client_auth')?.status === 'no') problems.push(`the provider does not list ${clientAuth}: pass --client-auth with one it lists (the library also supports private_key_jwt and client_secret_jwt)`)
  if (row('revocation')?.status === 'no') notes.push('no revocation endpoint in discovery: logout forgets the grant but cannot revoke it; set endpoints.revocation if the provider has one')
  if (row('end_session')?.status === 'no') notes.push('no end-session endpoint in discovery: logout returns no provider logout URL; set endpoints.endSession if the provider has one')
  if (row('iss_parameter')?.status === 'no') notes.push('RFC 9207 iss is not advertised: a login is still refused when the provider sends a wrong iss')

  let downscoping: DownscopingStrategy = 'scope'
  if (probe !== undefined) {
    const verdict = judgeProbe(options, clientAuth, probe, tokenExchange)
    problems.push(...verdict.problems)
    notes.push(...verdict.notes)
    downscoping = verdict.downscoping
    updateLoginRows(options, capabilities, probe)
  } else {
    notes.push('run with --login to probe refresh behaviour: down-scoping per resource, refresh-token narrowing, rotation')
  }

  const allIndicatorsAreUrls = options.resources.length > 0 && options.resources.every((r) => r.indicator !== undefined && sameUrl(r.indicator, r.url))
  const configuration: RecommendedConfiguration = {
    issuer,
    clientId: options.clientId,
    clientAuth,
    downscoping,
    ...(allIndicatorsAreUrls ? { resourceIndicators: true as const } : {}),
    resources: options.resources.map((r) => ({ url: r.url, scope: r.scope, ...(r.indicator === undefined || allIndicatorsAreUrls ? {} : { indicator: r.indicator }) })),
  }
  const sound = problems.length === 0
  const cannotTell = probe !== undefined && probe.steps.some((s) => s.round === 1 && s.scopeBasis === 'none')
  const summary = sound
    ? probe === undefined
      ? 'discovery looks sound for resource-tokens; refresh behaviour was not probed (--login)'
      : cannotTell
        ? `each resource gets its own token with downscoping "${downscoping}", but whether it is down-scoped cannot be told: the provider omits scope and its tokens are opaque`
        : `each resource gets its own down-scoped token with downscoping "${downscoping}"`
    : downscoping === 'scope'
      ? 'see the problems below'
      : `the default configuration does not work with this provider: use downscoping "${downscoping}" (below), or fix the provider`
  return { sound, summary, problems, notes, configuration }
}

function judgeProbe(options: DoctorOptions, clientAuth: DoctorClientAuth, probe: ProbeResult, tokenExchange: boolean): { problems: string[]; notes: string[]; downscoping: DownscopingStrategy } {
  const problems: string[] = []
  const notes: string[] = []
  if (!probe.login.ok) {
    let message = `the login failed: ${probe.login.message}`
    if (probe.login.error === 'invalid_client') {
      message += clientAuth === 'client_secret_basic'
        ? '. To try client_secret_post here: --client-auth client_secret_post (the client must be registered for it)'
        : '. Check the client id, the secret and the authentication method registered for the client'
    }
    if (probe.login.error === 'invalid_target') message += '. The provider refused a resource indicator at login: register it at the provider, or drop =INDICATOR'
    problems.push(message)
    return { problems, notes, downscoping: 'scope' }
  }

  const round1 = probe.steps.filter((s) => s.round === 1)
  const round2 = probe.steps.find((s) => s.round === 2)
  const narrowed = round1.find((s) => s.outcome === 'narrowed')
  const broader = round1.filter((s) => s.outcome === 'broader_scope')
  let downscoping: DownscopingStrategy = 'scope'
  const alternative: DownscopingStrategy = tokenExchange ? 'token-exchange' : 'none'
  const alternativeText = tokenExchange
    ? 'Use downscoping "token-exchange" (the provider offers RFC 8693): one full-scope token from the refresh token, exchanged for a token per resource'
    : 'The provider offers no token exchange, so the only client-side choice is downscoping "none" (one full-scope token for every API: a compromised API can replay it on the others)'

  if (narrowed !== undefined) {
    downscoping = alternative
    const previous = round1[round1.indexOf(narrowed) - 1]
    const what = narrowed.error === 'invalid_target'
      ? `ties the refresh token to the resource asked for: ${narrowed.resource} was refused with invalid_target after the refresh for ${previous?.resource ?? 'another resource'}`
      : `narrows the refresh token to the scope asked for: ${narrowed.resource} was refused with ${narrowed.error ?? 'an error'} after the refresh for ${previous?.resource ?? 'another resource'}`
    problems.push(
      `the provider ${what} (RFC 6749 section 6: a refreshed token keeps the original scope). ${alternativeText}; ` +
        `or fix the provider: keep the refresh token's scope${probe.rotation === 'yes' ? ', or turn refresh-token rotation off if only rotated tokens are narrowed' : ''}`,
    )
    if (round2 !== undefined) {
      notes.push(round2.outcome === 'ok' ? `the narrowing sticks: ${round2.resource} still works, the other resources no longer do with this grant` : `after that, ${round2.resource} failed too (${round2.code ?? round2.outcome}): the grant is no longer usable`)
    }
  }
  if (broader.length > 0) {
    if (downscoping === 'scope') downscoping = 'none'
    for (const s of broader) {
      const silent = s.responseScope === 'omitted'
        ? ' It omits scope in responses too (RFC 6749 section 5.1 allows that only when the scope is exactly what was asked), so only the JWT access token shows it.'
        : ''
      problems.push(`the provider ignores the scope on refresh: ${s.resource} asked for "${s.requested}" and got "${s.granted ?? ''}" (${evidenceText(s)}), so a resource would get a broader token.${silent} Say so with downscoping "none" (or "token-exchange" if the provider offers it), or fix the provider's scope handling; the library refuses these tokens (strictScopes, on by default)`)
    }
  }
  const omitted = round1.filter((s) => s.responseScope === 'omitted' && s.outcome !== 'broader_scope')
  const opaqueOmitted = omitted.filter((s) => s.scopeBasis === 'none')
  const confirmed = omitted.filter((s) => s.scopeBasis === 'token')
  if (opaqueOmitted.length > 0) {
    notes.push(`the provider omits scope in responses and its access tokens are opaque, so nobody can tell whether ${opaqueOmitted.map((s) => s.resource).join(' and ')} got only the scope asked for (RFC 6749 section 5.1 lets it omit scope only when it is exactly that); the library takes it at its word. Check one token with the provider's introspection endpoint, or ask the provider for JWT access tokens (RFC 9068) or for scope in refresh responses`)
  }
  if (confirmed.length > 0) {
    notes.push(`the provider omits scope in responses; the JWT access tokens of ${confirmed.map((s) => s.resource).join(' and ')} confirm the scope asked for, and the library reads them`)
  }
  for (const s of round1) {
    if (s.extraAudience !== undefined && s.extraAudience.length > 0) {
      problems.push(`the token for ${s.resource} is also meant for ${s.extraAudience.join(', ')} (aud: ${s.audience?.join(', ') ?? ''}): a resource would get a broader token; register the resource so that its tokens carry its indicator alone`)
    }
  }
  const endpoints = probe.endpoints
  if (endpoints !== undefined) {
    const unknown = endpoints.unknownRefreshToken
    if (unknown.kind === 'oauth_error' && unknown.error !== 'invalid_grant' && unknown.error !== 'invalid_client' && unknown.error !== 'unauthorized_client') {
      notes.push(`an unknown refresh token answers ${unknown.error} (HTTP ${unknown.status}), not invalid_grant (RFC 6749 section 5.2): the library removes such a grant, and asks for a login, only when the same answer comes twice in a row for the same refresh token (docs/API.md, dead refresh tokens); until then each call fails with token_endpoint_error`)
    }
    const revocation = endpoints.revocation
    if (revocation !== undefined && revocation.outcome !== 'revoked') {
      const html = /html/.test(revocation.reason ?? '')
      notes.push(`the revocation endpoint answers ${html ? 'HTML' : 'something else than RFC 7009'} (${revocation.reason ?? revocation.outcome}): logout reports revocation as ${revocation.outcome}, and the refresh token stays valid at the provider until it expires; set endpoints.revocation if the real endpoint is elsewhere`)
    }
  }
  for (const s of round1) {
    if (s.outcome === 'less_scope') problems.push(`${s.resource} asked for "${s.requested}" and got "${s.granted ?? ''}": the provider granted less${s.granted === '' ? ' (with a resource indicator, often a scope the provider does not map to that resource)' : ''}; register the scope for this resource at the provider`)
    if (s.outcome === 'refused') {
      const hint = s.error === 'invalid_target' ? ': the provider does not know this resource indicator, or does not support RFC 8707; register it, or drop =INDICATOR' : s.error === 'invalid_scope' ? ': the provider refuses this scope on refresh; was it granted at login?' : ''
      problems.push(`${s.resource}: ${s.message ?? s.code ?? 'refused'}${hint}`)
    }
    if (s.outcome === 'failed') problems.push(`${s.resource}: ${s.message ?? s.code ?? 'failed'}`)
    const resource = options.resources.find((r) => r.url === s.resource)
    if (s.format === 'jwt' && resource?.indicator !== undefined && s.audience !== undefined && !s.audience.includes(resource.indicator)) {
      problems.push(`the token for ${s.resource} is not audience-restricted to its indicator (aud: ${s.audience.join(', ') || 'none'}): the provider ignored the resource indicator`)
    }
  }
  const jwts = round1.filter((s) => s.format === 'jwt' && s.audience !== undefined)
  const shared = jwts.filter((s, i) => jwts.some((t, j) => j !== i && t.audience?.join(' ') === s.audience?.join(' ')))
  if (shared.length > 1) notes.push(`tokens for ${shared.map((s) => s.resource).join(' and ')} carry the same audience; only their scope tells them apart (send resource indicators: --resource URL=SCOPE=INDICATOR)`)
  if (round2 !== undefined && narrowed === undefined && round2.outcome !== 'ok' && round2.outcome !== 'broader_scope') {
    problems.push(`${round2.resource} failed when refreshed again after the others: ${round2.message ?? round2.code ?? round2.outcome}`)
  }
  if (probe.rotation === 'yes') notes.push('refresh tokens rotate: the library presents each one once (single-flight and a per-grant lock); several app instances must share one store (e.g. RedisStore)')
  if (probe.rotation === 'no') notes.push('refresh tokens do not rotate (the same one came back)')
  if (probe.logout !== undefined) notes.push(`logged out: refresh token ${probe.logout.refreshToken}${probe.logout.endSessionUrl === undefined ? '' : '; end the provider session in the browser at the end-session URL'}`)
  else notes.push('the grant created for the probe stays at the provider until it expires; re-run with --logout to revoke it')
  return { problems, notes, downscoping }
}

function updateLoginRows(options: DoctorOptions, capabilities: Capability[], probe: ProbeResult): void {
  const indicators = capabilities.find((c) => c.id === 'resource_indicators')
  const jwt = capabilities.find((c) => c.id === 'jwt_access_tokens')
  if (!probe.login.ok) return
  const round1 = probe.steps.filter((s) => s.round === 1)
  if (indicators !== undefined) {
    const withIndicator = round1.filter((s) => options.resources.find((r) => r.url === s.resource)?.indicator !== undefined)
    if (withIndicator.length === 0) {
      indicators.detail = 'not tried: give --resource URL=SCOPE=INDICATOR'
    } else if (withIndicator.some((s) => s.outcome === 'refused' && s.error === 'invalid_target')) {
      indicators.status = 'no'
      indicators.detail = 'a resource indicator was refused (invalid_target)'
    } else if (withIndicator.some((s) => s.code === undefined)) {
      indicators.status = 'yes'
      indicators.detail = withIndicator.some((s) => s.format === 'jwt') ? 'accepted on refresh; JWT audience checked' : 'accepted on refresh (opaque tokens: audience not visible)'
    }
  }
  const offline = capabilities.find((c) => c.id === 'offline_access')
  if (offline !== undefined && offline.status !== 'yes') {
    offline.status = 'yes'
    offline.detail = `${offline.detail.startsWith('not in scopes_supported') ? 'not in scopes_supported, but ' : ''}a refresh token was issued at login`
  }
  const unknown = capabilities.find((c) => c.id === 'unknown_refresh_token')
  const answer = probe.endpoints?.unknownRefreshToken
  if (unknown !== undefined && answer !== undefined) {
    if (answer.kind === 'oauth_error') {
      unknown.status = answer.error === 'invalid_grant' ? 'yes' : 'no'
      unknown.detail = answer.error === 'invalid_grant' ? 'a made-up refresh token gets invalid_grant (RFC 6749 section 5.2)' : `a made-up refresh token gets ${answer.error} (HTTP ${answer.status})`
    } else {
      unknown.detail = `the probe got no OAuth answer: ${answer.message}`
    }
  }
  const revocationRow = capabilities.find((c) => c.id === 'revocation')
  const revocation = probe.endpoints?.revocation
  if (revocationRow !== undefined && revocation !== undefined) {
    if (revocation.outcome === 'revoked') revocationRow.detail += ' (answers as RFC 7009)'
    else {
      revocationRow.status = 'no'
      revocationRow.detail = `${revocationRow.detail} answers ${revocation.reason ?? revocation.outcome}: not RFC 7009`
    }
  }
  if (jwt !== undefined) {
    const tokens = round1.filter((s) => s.format !== undefined)
    if (tokens.length > 0) {
      const jwts = tokens.filter((s) => s.format === 'jwt')
      jwt.status = jwts.length > 0 ? 'yes' : 'no'
      jwt.detail = jwts.length > 0 ? jwts.map((s) => `aud ${s.audience?.join(' ') || '(none)'}`).join('; ') : 'opaque tokens: resource servers must introspect'
    }
  }
}

/** Where a step's granted scope was read from, in words. */
function evidenceText(step: ProbeStep): string {
  switch (step.scopeBasis) {
    case 'token':
      return 'read from the JWT access token; the response said nothing'
    case 'response+token':
      return 'per the response and the JWT access token'
    case 'response':
      return 'per the response'
    default:
      return step.code === 'scope_broadened' ? 'refused under strictScopes' : 'per the library'
  }
}

function sameUrl(a: string, b: string): boolean {
  try {
    return new URL(a).href === new URL(b).href
  } catch {
    return false
  }
}
