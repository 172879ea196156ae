// @ts-nocheck
// A deliberately misbehaving OpenID Provider for the attack suite. It is just correct enough for
// openid-client's discovery, the authorization code flow with PKCE (S256) and the refresh grant, and
// carries exactly one defect per instance. It records every request it receives, so a test can prove
// that the client did nothing further (no token request, no userinfo call) after refusing.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'

import { SignJWT, base64url, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose'

import { closeServer, listenOnLoopback, readAll } from './http.js'

/** The one thing this provider gets wrong. `none` is an honest provider (the control case). */
export type RogueDefect =
  | 'none'
  // ID token at login
  | 'id_token_wrong_aud'
  | 'id_token_missing_aud'
  | 'id_token_extra_aud'
  | 'id_token_wrong_iss'
  | 'id_token_expired'
  | 'id_token_old_iat'
  | 'id_token_wrong_nonce'
  | 'id_token_missing_nonce'
  | 'id_token_alg_none'
  | 'id_token_hs256_public_key'
  | 'id_token_unknown_key'
  | 'id_token_bad_signature'
  // authorization response (RFC 9207)
  | 'auth_response_wrong_iss'
  | 'auth_response_missing_iss'
  // discovery (RFC 8414 section 3.3)
  | 'discovery_issuer_mismatch'
  // ID token of a refresh (OpenID Connect Core 12.2)
  | 'refresh_id_token_other_sub'
  | 'refresh_id_token_other_iss'
  // token response quirks the client must tolerate
  | 'token_type_case_variant'
  | 'no_expires_in'

export interface RogueProviderOptions {
  defect?: RogueDefect
  /** `authorization_response_iss_parameter_supported` in discovery. Default true. */
  issParameterSupported?: boolean
  /** `id_token_signing_alg_values_supported` in discovery. Default `['RS256']`. */
  idTokenSigningAlgs?: string[]
  /** The end-user's `sub`. Default `alice`. */
  subject?: string
}

export type RogueEndpoint = 'discovery' | 'jwks' | 'authorization' | 'token' | 'userinfo' | 'revocation' | 'other'

export interface RogueRequest {
  method: string
  path: string
  endpoint: RogueEndpoint
  /** For token requests: the `grant_type`. */
  grantType?: string
  at: number
}

export interface RogueProvider {
  /** The issuer this provider is served at (and claims to be, unless the defect says otherwise). */
  issuer: string
  clientId: string
  clientSecret: string
  /** The registered redirect URI; served by nothing, tests hand the callback URL to the client themselves. */
  redirectUri: string
  defect: RogueDefect
  /** Every request received, in order. */
  requests: RogueRequest[]
  /** Requests to one endpoint (token requests optionally of one grant type). */
  requestsTo(endpoint: RogueEndpoint, grantType?: string): RogueRequest[]
  /** Every access token this provider issued, in order. */
  issuedAccessTokens: string[]
  /** Every ID token this provider issued (login and refresh), in order: for checking the harness itself. */
  issuedIdTokens: string[]
  close(): Promise<void>
}

interface CodeRecord {
  clientId: string
  redirectUri: string
  codeChallenge: string
  nonce: string | undefined
  scope: string
  expiresAt: number
}

interface RefreshRecord {
  scope: string
}

const ROUTES = {
  discovery: '/.well-known/openid-configuration',
  jwks: '/jwks',
  authorization: '/authorize',
  token: '/token',
  userinfo: '/userinfo',
  revocation: '/revoke',
} as const

const CLIENT_ID = 'rogue-app'
const CLIENT_SECRET = 'rogue-app-secret-for-tests-only-0123456789'

const SIGNING_KID = 'rogue-rs256'

interface RogueKeys {
  /** Signs this provider's ID tokens; its public half is the only key in the JWKS. */
  signing: CryptoKey
  publicJwk: JWK
  /** The same public key as SPKI PEM: the classic HMAC-with-the-public-key secret. */
  publicPem: string
  /** A key the JWKS never lists. */
  unknown: CryptoKey
}

let keys: Promise<RogueKeys> | undefined

/**
 * Keys of its own, generated once per process: an ID token of this provider must never verify against
 * another test provider's JWKS, or the mix-up tests would prove nothing.
 */
function rogueKeys(): Promise<RogueKeys> {
  keys ??= (async () => {
    const [pair, unknown] = await Promise.all([generateKeyPair('RS256', { extractable: true }), generateKeyPair('RS256')])
    const jwk = await exportJWK(pair.publicKey)
    return {
      signing: pair.privateKey,
      publicJwk: { kty: 'RSA', n: String(jwk.n), e: String(jwk.e), kid: SIGNING_KID, alg: 'RS256', use: 'sig' },
      publicPem: await exportSPKI(pair.publicKey),
      unknown: unknown.privateKey,
    }
  })()
  return keys
}

/**
 * Starts a provider on 127.0.0.1 with a free port (unref'd: a forgotten close() does not hold the test run).
 * One client is registered: `clientId` / `clientSecret` (client_secret_basic) with `redirectUri`.
 */
export async function startRogueProvider(options: RogueProviderOptions = {}): Promise<RogueProvider> {
  await rogueKeys()
  const defect = options.defect ?? 'none'
  const subject = options.subject ?? 'alice'
  const requests: RogueRequest[] = []
  const issuedAccessTokens: string[] = []
  const issuedIdTokens: string[] = []
  const codes = new Map<string, CodeRecord>()
  const refreshTokens = new Map<string, RefreshRecord>()

  let handler: (req: IncomingMessage, res: ServerResponse) => Promise<void> = async (_req, res) => {
    res.statusCode = 503
    res.end()
  }
  const server = createServer((req, res) => {
    handler(req, res).catch((err: unknown) => {
      if (res.headersSent) res.destroy()
      else sendJson(res, 500, { error: 'server_error', error_description: String(err) })
    })
  })
  const port = await listenOnLoopback(server)
  const issuer = `http://127.0.0.1:${port}`
  const redirectUri = `${issuer}/callback`
  // An issuer this provider is not: for the discovery, ID token and refresh defects.
  const otherIssuer = `http://127.0.0.1:${port}/other-tenant`

  function discovery(): Record<string, unknown> {
    return {
      issuer: defect === 'discovery_issuer_mismatch' ? otherIssuer : issuer,
      authorization_endpoint: `${issuer}${ROUTES.authorization}`,
      token_endpoint: `${issuer}${ROUTES.token}`,
      jwks_uri: `${issuer}${ROUTES.jwks}`,
      userinfo_endpoint: `${issuer}${ROUTES.userinfo}`,
      revocation_endpoint: `${issuer}${ROUTES.revocation}`,
      scopes_supported: ['openid', 'offline_access', 'profile', 'api:read', 'api:write', 'other:read'],
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      subject_types_supported: ['public'],
      code_challenge_methods_supported: ['S256'],
      id_token_signing_alg_values_supported: options.idTokenSigningAlgs ?? ['RS256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic'],
      revocation_endpoint_auth_methods_supported: ['client_secret_basic'],
      authorization_response_iss_parameter_supported: options.issParameterSupported ?? true,
    }
  }

  function onAuthorization(res: ServerResponse, url: URL): void {
    const p = url.searchParams
    const clientId = p.get('client_id')
    const redirect = p.get('redirect_uri')
    // Never redirect to an unregistered URI: answer in place instead.
    if (clientId !== CLIENT_ID || redirect !== redirectUri) return sendJson(res, 400, { error: 'invalid_request', error_description: 'unknown client or redirect_uri' })
    const back = new URL(redirectUri)
    const state = p.get('state')
    if (state !== null) back.searchParams.set('state', state)
    const challenge = p.get('code_challenge')
    if (p.get('response_type') !== 'code' || challenge === null || p.get('code_challenge_method') !== 'S256') {
      back.searchParams.set('error', 'invalid_request')
    } else {
      const code = randomToken()
      codes.set(code, {
        clientId,
        redirectUri: redirect,
        codeChallenge: challenge,
        nonce: p.get('nonce') ?? undefined,
        scope: p.get('scope') ?? 'openid',
        expiresAt: Date.now() + 60_000,
      })
      back.searchParams.set('code', code)
    }
    if (defect === 'auth_response_wrong_iss') back.searchParams.set('iss', otherIssuer)
    else if (defect !== 'auth_response_missing_iss') back.searchParams.set('iss', issuer)
    res.statusCode = 302
    res.setHeader('location', back.href)
    res.end()
  }

  async function onToken(req: IncomingMessage, res: ServerResponse, body: URLSearchParams): Promise<void> {
    if (!authenticated(req)) {
      res.setHeader('www-authenticate', 'Basic realm="rogue"')
      return sendJson(res, 401, { error: 'invalid_client' })
    }
    const grantType = body.get('grant_type')
    if (grantType === 'authorization_code') {
      const code = body.get('code') ?? ''
      const record = codes.get(code)
      codes.delete(code) // single use, even when the request fails below
      const verifier = body.get('code_verifier') ?? ''
      if (
        record === undefined ||
        record.expiresAt < Date.now() ||
        record.clientId !== CLIENT_ID ||
        body.get('redirect_uri') !== record.redirectUri ||
        !safeEqual(base64url.encode(createHash('sha256').update(verifier).digest()), record.codeChallenge)
      ) {
        return sendJson(res, 400, { error: 'invalid_grant' })
      }
      const refreshToken = randomToken()
      refreshTokens.set(refreshToken, { scope: record.scope })
      const idToken = await loginIdToken(record.nonce)
      return sendTokens(res, { scope: record.scope, refreshToken, idToken })
    }
    if (grantType === 'refresh_token') {
      const presented = body.get('refresh_token') ?? ''
      const record = refreshTokens.get(presented)
      if (record === undefined) return sendJson(res, 400, { error: 'invalid_grant' })
      refreshTokens.delete(presented) // rotate on every use
      const refreshToken = randomToken()
      refreshTokens.set(refreshToken, record)
      return sendTokens(res, { scope: body.get('scope') ?? record.scope, refreshToken, idToken: await refreshIdToken() })
    }
    return sendJson(res, 400, { error: 'unsupported_grant_type' })
  }

  function sendTokens(res: ServerResponse, tokens: { scope: string; refreshToken: string; idToken: string }): void {
    const accessToken = randomToken()
    issuedAccessTokens.push(accessToken)
    issuedIdTokens.push(tokens.idToken)
    const body: Record<string, unknown> = {
      access_token: accessToken,
      token_type: defect === 'token_type_case_variant' ? 'BeArEr' : 'Bearer',
      scope: tokens.scope,
      refresh_token: tokens.refreshToken,
      id_token: tokens.idToken,
    }
    if (defect !== 'no_expires_in') body['expires_in'] = 300
    res.setHeader('cache-control', 'no-store')
    sendJson(res, 200, body)
  }

  /** The login's ID token, with the defect when it is an ID token defect. */
  async function loginIdToken(nonce: string | undefined): Promise<string> {
    const now = Math.floor(Date.now() / 1000)
    const claims: JWTPayload = { iss: issuer, sub: subject, aud: CLIENT_ID, iat: now, exp: now + 300, auth_time: now }
    if (nonce !== undefined) claims['nonce'] = nonce
    switch (defect) {
      case 'id_token_wrong_aud':
        claims.aud = 'another-client'
        break
      case 'id_token_missing_aud':
        delete claims.aud
        break
      case 'id_token_extra_aud':
        claims.aud = [CLIENT_ID, 'another-client'] // and no azp
        break
      case 'id_token_wrong_iss':
        claims.iss = otherIssuer
        break
      case 'id_token_expired':
        claims.iat = now - 7200
        claims.exp = now - 3600
        break
      case 'id_token_old_iat':
        claims.iat = now - 7 * 24 * 3600 // a week old, though still unexpired
        claims['auth_time'] = claims.iat
        break
      case 'id_token_wrong_nonce':
        claims['nonce'] = base64url.encode(randomBytes(32))
        break
      case 'id_token_missing_nonce':
        delete claims['nonce']
        break
      default:
        break
    }
    return sign(claims)
  }

  /** A refresh's ID token (OpenID Connect Core 12.2): same iss, sub and aud, no nonce; unless the defect says otherwise. */
  async function refreshIdToken(): Promise<string> {
    const now = Math.floor(Date.now() / 1000)
    const claims: JWTPayload = { iss: issuer, sub: subject, aud: CLIENT_ID, iat: now, exp: now + 300 }
    if (defect === 'refresh_id_token_other_sub') claims.sub = `${subject}-impostor`
    if (defect === 'refresh_id_token_other_iss') claims.iss = otherIssuer
    return signRs256(claims)
  }

  /** Signs a login ID token, applying the signature defects. */
  async function sign(claims: JWTPayload): Promise<string> {
    switch (defect) {
      case 'id_token_alg_none':
        return `${encodeSegment({ alg: 'none', typ: 'JWT' })}.${encodeSegment(claims)}.`
      case 'id_token_hs256_public_key': {
        // Algorithm confusion: HMAC keyed with the published RSA public key (as PEM, what naive verifiers pass on).
        const input = `${encodeSegment({ alg: 'HS256', typ: 'JWT', kid: SIGNING_KID })}.${encodeSegment(claims)}`
        const mac = createHmac('sha256', (await rogueKeys()).publicPem).update(input).digest()
        return `${input}.${base64url.encode(mac)}`
      }
      case 'id_token_unknown_key':
        return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'not-in-jwks' }).sign((await rogueKeys()).unknown)
      case 'id_token_bad_signature': {
        const jwt = await signRs256(claims)
        const [header, payload, signature = ''] = jwt.split('.')
        const bytes = base64url.decode(signature)
        bytes[0] = (bytes[0] ?? 0) ^ 0x01
        return `${header}.${payload}.${base64url.encode(bytes)}`
      }
      default:
        return signRs256(claims)
    }
  }

  async function signRs256(claims: JWTPayload): Promise<string> {
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: SIGNING_KID }).sign((await rogueKeys()).signing)
  }

  function authenticated(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? ''
    const match = /^Basic +([A-Za-z0-9+/=]+)$/i.exec(header)
    if (!match?.[1]) return false
    const decoded = Buffer.from(match[1], 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon < 0) return false
    // RFC 6749 section 2.3.1: both parts are form-encoded.
    const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '))
    return decode(decoded.slice(0, colon)) === CLIENT_ID && safeEqual(decode(decoded.slice(colon + 1)), CLIENT_SECRET)
  }

  handler = async (req, res) => {
    const url = new URL(req.url ?? '/', issuer)
    const raw = await readAll(req)
    const body = new URLSearchParams(raw.toString('utf8'))
    const endpoint = endpointOf(url.pathname)
    const record: RogueRequest = { method: req.method ?? 'GET', path: url.pathname, endpoint, at: Date.now() }
    if (endpoint === 'token') record.grantType = body.get('grant_type') ?? ''
    requests.push(record)

    switch (endpoint) {
      case 'discovery':
        return sendJson(res, 200, discovery())
      case 'jwks':
        return sendJson(res, 200, { keys: [(await rogueKeys()).publicJwk] })
      case 'authorization':
        return onAuthorization(res, url)
      case 'token':
        if (req.method !== 'POST') return sendJson(res, 405, { error: 'invalid_request' })
        return onToken(req, res, body)
      case 'userinfo': {
        const token = /^Bearer +(\S+)$/i.exec(req.headers.authorization ?? '')?.[1]
        if (token === undefined || !issuedAccessTokens.includes(token)) {
          res.setHeader('www-authenticate', 'Bearer error="invalid_token"')
          return sendJson(res, 401, { error: 'invalid_token' })
        }
        return sendJson(res, 200, { sub: subject })
      }
      case 'revocation':
        if (!authenticated(req)) return sendJson(res, 401, { error: 'invalid_client' })
        refreshTokens.delete(body.get('token') ?? '')
        res.statusCode = 200
        res.end()
        return
      case 'other':
        return sendJson(res, 404, { error: 'not_found' })
    }
  }

  return {
    issuer,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUri,
    defect,
    requests,
    requestsTo: (endpoint, grantType) => requests.filter((r) => r.endpoint === endpoint && (grantType === undefined || r.grantType === grantType)),
    issuedAccessTokens,
    issuedIdTokens,
    close: () => closeServer(server),
  }
}

/**
 * Plays the browser at the authorization endpoint: one GET without following the redirect, and the
 * `Location` it answers with, which is the callback URL to hand to `finishLogin`.
 */
export async function followAuthorization(authorizationUrl: string | URL): Promise<string> {
  const res = await fetch(authorizationUrl, { redirect: 'manual' })
  const location = res.headers.get('location')
  await res.body?.cancel()
  if (res.status !== 302 || location === null) throw new Error(`the authorization endpoint answered HTTP ${res.status} without a redirect`)
  return new URL(location, authorizationUrl).href
}

function endpointOf(path: string): RogueEndpoint {
  for (const [name, route] of Object.entries(ROUTES)) if (path === route) return name as RogueEndpoint
  return 'other'
}

function randomToken(): string {
  return base64url.encode(randomBytes(32))
}

function encodeSegment(value: object): string {
  return base64url.encode(JSON.stringify(value))
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.statusCode = status
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify(value))
}
