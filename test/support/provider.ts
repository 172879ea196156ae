// A real oidc-provider (v9) authorization server for integration tests, with instrumentation
// the library's tests need: token-endpoint request log, refresh-token reuse counter, fault
// injection, a mutable resource-indicator registry and a headless login.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

import { basicAuth, closeServer, listenOnLoopback, readAll } from './http.js';
import { TEST_SIGNING_KEYS } from './keys.js';

export interface TestResource {
  indicator: string;
  /** space-separated, e.g. 'contacts:read contacts:write' */
  scope: string;
  accessTokenFormat?: 'jwt' | 'opaque';
  accessTokenTTL?: number;
}

export interface TestProviderOptions {
  /** default true (features.resourceIndicators) */
  resourceIndicators?: boolean;
  /** default true: rotate on EVERY use */
  rotateRefreshToken?: boolean;
  /** default 'jwt' (for resource-indicator tokens) */
  accessTokenFormat?: 'jwt' | 'opaque';
  /** seconds, default 300 */
  accessTokenTTL?: number;
  idTokenTTL?: number;
  resources?: TestResource[];
  /** scopes to list in `scopes` (needed when resourceIndicators is false, e.g. contacts:read) */
  extraScopes?: string[];
  /** extra oidc-provider client metadata; a default confidential client is always registered */
  clients?: object[];
  /** default true */
  pkceRequired?: boolean;
  /** demand DPoP nonces at the token endpoint (features.dPoP.requireNonce) */
  dpopNonce?: boolean;
  /** Behaviours of real providers, off by default; see ProviderQuirks. */
  quirks?: ProviderQuirks;
  /** Offer RFC 8693 token exchange of an access token for a resource-restricted one (advertised in discovery). */
  tokenExchange?: boolean;
}

/**
 * Switches for behaviours seen at widely deployed providers (issue 7). Each is off by default. Where
 * oidc-provider can be configured to do it, it is (its own checks then give the error); the rest is a
 * small rewrite in front of it, and the tests using those say "(simulated provider quirk: ...)".
 */
export interface ProviderQuirks {
  /**
   * A refresh with `scope` narrows the refresh token to that scope: the rotated one ('rotated'), or the very
   * token presented when refresh tokens do not rotate ('same', implies no rotation). The provider's own scope
   * check then refuses any other scope with invalid_scope (RFC 6749 section 6 forbids the narrowing).
   */
  narrowRefreshToken?: 'rotated' | 'same';
  /** `scope` on refresh is ignored: the access token carries the refresh token's full scope. */
  ignoreRefreshScope?: boolean;
  /** `resource` on refresh sticks to the (rotated) refresh token: any other resource is invalid_target afterwards. */
  stickyResource?: boolean;
  /** On reuse of a rotated refresh token: revoke the whole grant (oidc-provider's default), or only reject the request. */
  reuse?: 'revoke-grant' | 'reject-only';
  /** A refresh that arrives while another with the same refresh token is in flight gets an HTML 500 or invalid_grant (counted as reuse). */
  concurrentRefresh?: 'server-error' | 'invalid_grant';
  /** Error responses of the token endpoint become an empty 400 or an HTML 500 page instead of JSON. */
  errorBody?: 'empty-400' | 'html-500';
  /** Endpoints left out of the discovery document (they still work at their usual routes). */
  omitDiscovery?: Array<'revocation_endpoint' | 'introspection_endpoint' | 'end_session_endpoint'>;
  /** RFC 9207 `iss` is sent in authorization responses but `authorization_response_iss_parameter_supported` is not advertised. */
  issUnadvertised?: boolean;
  /** The discovery document answers only at `/.well-known/openid-configuration/` (trailing slash); 404 without. */
  discoveryTrailingSlashOnly?: boolean;
  /** client_secret_basic credentials that were percent-encoded (RFC 6749 section 2.3.1) are refused with invalid_client. */
  rejectEncodedBasic?: boolean;
  /** Refresh responses never carry an ID token. */
  noIdTokenOnRefresh?: boolean;
  /** `sub` is an opaque pairwise identifier (subject_type pairwise for the default client). */
  opaqueSub?: boolean;
  /** ID tokens carry `auth_time: 0`. */
  authTimeZero?: boolean;
}

export interface TokenRequestRecord {
  grantType: string;
  scope?: string;
  resource?: string[];
  /** sha256 hex of the presented refresh_token, never the raw token */
  refreshTokenHash?: string;
  /** HTTP status sent; 0 while in flight or when the socket was reset */
  status: number;
  at: number;
  /** set when the provider found this refresh token already rotated away (counted by reusedRefreshTokens) */
  reusedRefreshToken?: boolean;
}

export type TokenFault = { status: number; body?: string; contentType?: string } | 'reset';

export interface TokenEndpointHookContext {
  grantType: string;
  body: URLSearchParams;
}

export interface LoginOptions {
  /** default: the request's login_hint, else 'alice' */
  accountId?: string;
  /** end the first interaction with access_denied */
  deny?: boolean;
}

export interface TestProvider {
  issuer: string;
  port: number;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  postLogoutRedirectUri: string;
  provider: unknown;
  tokenRequests: TokenRequestRecord[];
  reusedRefreshTokens(): number;
  resetCounters(): void;
  registerResource(r: TestResource): void;
  failTokenRequests(count: number, fault: TokenFault): void;
  /** Bodies of pushed authorization requests (PAR), in order; client_secret/client_assertion removed. */
  parRequests: URLSearchParams[];
  /** The next `count` revocation-endpoint requests fail with `fault` (default 503) before reaching oidc-provider. */
  failRevocation(count: number, fault?: TokenFault): void;
  setTokenEndpointHook(hook?: (ctx: TokenEndpointHookContext) => Promise<void> | void): void;
  login(authorizationUrl: string | URL, options?: LoginOptions): Promise<string>;
  introspect(token: string): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/** Credentials of the resource-server client allowed to introspect every client's tokens. */
export const RS_CLIENT = { clientId: 'rs', clientSecret: 'rs-secret-for-tests-only-0123456789' } as const;

const CLIENT_ID = 'app';
const CLIENT_SECRET = 'app-secret-for-tests-only-0123456789';

// Routes pinned in the configuration so the middleware below can match them without discovery.
const ROUTES = {
  authorization: '/auth',
  token: '/token',
  pushed_authorization_request: '/request',
  introspection: '/token/introspection',
  revocation: '/token/revocation',
  jwks: '/jwks',
  end_session: '/session/end',
  userinfo: '/me',
} as const;

// ---------------------------------------------------------------------------------------------
// Loose typing of the parts of oidc-provider we touch (the package ships no types).

interface Grant {
  getResourceScopeFiltered(resource: string, scopes: string[]): string;
  getOIDCScopeFiltered(scopes: Set<string>): string;
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  addResourceScope(indicator: string, scope: string): void;
  save(): Promise<string>;
}
interface InteractionDetails {
  uid: string;
  prompt: {
    name: string;
    details: {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
  };
  params: Record<string, unknown>;
  session?: { accountId?: string };
  grantId?: string;
}
interface OidcProvider {
  callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: Record<string, unknown>,
    options?: { mergeWithLastSubmission?: boolean },
  ): Promise<void>;
  Grant: { new (init: { accountId: string; clientId: string }): Grant; find(id: string): Promise<Grant | undefined> };
  AccessToken: {
    new (init: Record<string, unknown>): IssuedAccessToken;
    find(value: string): Promise<IssuedAccessToken | undefined>;
  };
  ResourceServer: new (identifier: string, info: Record<string, unknown>) => unknown;
  registerGrantType(name: string, handler: (ctx: never) => Promise<void>, params: string[], dupes?: string[]): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
}
interface IssuedAccessToken {
  accountId: string;
  clientId: string;
  grantId: string;
  sessionUid?: string;
  sid?: string;
  isExpired: boolean;
  scope?: string;
  resourceServer?: unknown;
  tokenType: string;
  expiration: number;
  save(): Promise<string>;
}
type OidcError = new (description?: string, detail?: string) => Error;
interface OidcModule {
  Provider: new (issuer: string, configuration: Record<string, unknown>) => OidcProvider;
  errors: { InvalidTarget: OidcError; InvalidGrant: OidcError; InvalidRequest: OidcError; InvalidScope: OidcError };
}

let oidcModule: Promise<OidcModule> | undefined;

/**
 * oidc-provider prints "Unsupported runtime" at import time on Node 20 (it wants 22+) although
 * everything works; filter that single line out of console.warn for the duration of the import.
 * The specifier is a variable so TypeScript types the import as `any` instead of failing on the
 * missing declaration file.
 */
function loadOidcProvider(): Promise<OidcModule> {
  oidcModule ??= (async () => {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].includes('Unsupported runtime')) return;
      warn(...args);
    };
    try {
      const specifier = 'oidc-provider';
      return (await import(specifier)) as OidcModule;
    } finally {
      console.warn = warn;
    }
  })();
  return oidcModule;
}

// ---------------------------------------------------------------------------------------------
// Per-provider storage. oidc-provider's default memory adapter is one process-wide LRU capped at
// 1000 entries, so busy tests could see tokens evicted (spurious invalid_grant); this one is
// unbounded, isolated per provider, and keeps the grant index that revokeByGrantId needs (the
// provider revokes a whole grant on refresh-token reuse).

type Payload = Record<string, unknown> & { grantId?: string; uid?: string; userCode?: string };

class ExpiringMap {
  readonly #entries = new Map<string, { value: unknown; expiresAt: number }>();
  get(key: string): unknown {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }
  set(key: string, value: unknown, expiresIn?: number): void {
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
    this.#entries.set(key, { value, expiresAt });
  }
  delete(key: string): void {
    this.#entries.delete(key);
  }
}

const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

/** Observes the provider's own refresh-token bookkeeping; see reuse detection below. */
interface AdapterObserver {
  onFind(model: string, id: string): void;
  onConsume(model: string, id: string): void;
  /** May change what is stored (quirks that narrow a refresh token). */
  onUpsert?(model: string, id: string, payload: Payload): void;
  /** False to keep a grant that oidc-provider is about to revoke (quirk reuse: 'reject-only'). */
  mayRevokeGrant?(): boolean;
}

interface Storage {
  adapter: (model: string) => object;
  /** The stored payload itself (mutations stick), for quirks that change a token after it was issued. */
  payload(model: string, id: string): Payload | undefined;
}

function adapterFactory(observer: AdapterObserver): Storage {
  const store = new ExpiringMap();
  const grants = new Map<string, Set<string>>();
  const payload = (model: string, id: string) => store.get(`${model}:${id}`) as Payload | undefined;
  const adapter = (model: string) => {
    const key = (id: string) => `${model}:${id}`;
    const find = async (id: string | undefined) => {
      if (id === undefined) return undefined;
      observer.onFind(model, id);
      return store.get(key(id)) as Payload | undefined;
    };
    return {
      async upsert(id: string, payload: Payload, expiresIn?: number) {
        observer.onUpsert?.(model, id, payload);
        store.set(key(id), payload, expiresIn);
        if (model === 'Session' && payload.uid) store.set(`sessionUid:${payload.uid}`, id, expiresIn);
        if (payload.userCode) store.set(`userCode:${payload.userCode}`, id, expiresIn);
        if (GRANTABLE.has(model) && payload.grantId) {
          const members = grants.get(payload.grantId) ?? new Set<string>();
          members.add(key(id));
          grants.set(payload.grantId, members);
        }
      },
      find,
      findByUid: async (uid: string) => find(store.get(`sessionUid:${uid}`) as string | undefined),
      findByUserCode: async (code: string) => find(store.get(`userCode:${code}`) as string | undefined),
      async consume(id: string) {
        const payload = store.get(key(id)) as Payload | undefined;
        if (payload) payload['consumed'] = Math.floor(Date.now() / 1000);
        observer.onConsume(model, id);
      },
      async destroy(id: string) {
        if (model === 'Grant' && observer.mayRevokeGrant?.() === false) return;
        store.delete(key(id));
      },
      async revokeByGrantId(grantId: string) {
        if (observer.mayRevokeGrant?.() === false) return;
        for (const member of grants.get(grantId) ?? []) store.delete(member);
        grants.delete(grantId);
      },
    };
  };
  return { adapter, payload };
}

// ---------------------------------------------------------------------------------------------

export async function startTestProvider(options: TestProviderOptions = {}): Promise<TestProvider> {
  const { Provider, errors } = await loadOidcProvider();
  const quirks = options.quirks ?? {};
  const accessTokenTTL = options.accessTokenTTL ?? 300;
  const registry = new Map<string, TestResource>();
  for (const r of options.resources ?? []) registry.set(r.indicator, r);

  // Listen first: the issuer must contain the port, and the provider needs the issuer.
  let handler: (req: IncomingMessage, res: ServerResponse) => Promise<void> = async (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = createServer((req, res) => {
    handler(req, res).catch((err: unknown) => {
      if (res.headersSent) res.destroy();
      else {
        res.statusCode = 500;
        res.setHeader('content-type', 'text/plain');
        res.end(`test provider error: ${String(err)}`);
      }
    });
  });
  const port = await listenOnLoopback(server);
  const issuer = `http://127.0.0.1:${port}`;
  // Served by nothing on purpose: login() captures the callback instead of requesting it.
  const redirectUri = `${issuer}/cb-app`;
  const postLogoutRedirectUri = `${issuer}/logged-out-app`;

  // ---- instrumentation state
  const tokenRequests: TokenRequestRecord[] = [];
  const parRequests: URLSearchParams[] = [];
  const faults: TokenFault[] = [];
  const revocationFaults: TokenFault[] = [];
  let hook: ((ctx: TokenEndpointHookContext) => Promise<void> | void) | undefined;
  // Reuse is judged where the provider judges it: when it looks up a refresh token it has already
  // consumed (rotated away). Deciding at arrival would miss two concurrent requests with the same
  // token (both arrive before either consumes it) and would wrongly count a retry after an error
  // the provider raises before rotating (e.g. invalid_scope).
  const consumedRefreshTokens = new Set<string>(); // sha256 of values
  const inFlight = new AsyncLocalStorage<TokenRequestRecord>();
  let reused = 0;
  // quirk concurrentRefresh: sha256 of refresh tokens whose refresh request is being processed
  const refreshesInFlight = new Set<string>();
  const observer: AdapterObserver = {
    onUpsert(model, _id, payload) {
      // quirks narrowRefreshToken 'rotated' / stickyResource: the rotated refresh token keeps only what was asked
      const record = inFlight.getStore();
      if (model === 'RefreshToken' && record?.grantType === 'refresh_token' && quirks.narrowRefreshToken !== 'same') narrowRefreshToken(payload, record);
    },
    mayRevokeGrant() {
      return !(quirks.reuse === 'reject-only' && inFlight.getStore()?.reusedRefreshToken === true);
    },
    onConsume(model, id) {
      // Opaque refresh tokens are stored under their value, so id is the token itself.
      if (model === 'RefreshToken') consumedRefreshTokens.add(sha256(id));
    },
    onFind(model, id) {
      const record = inFlight.getStore();
      if (model !== 'RefreshToken' || record?.grantType !== 'refresh_token' || record.reusedRefreshToken) return;
      const hash = sha256(id);
      if (hash === record.refreshTokenHash && consumedRefreshTokens.has(hash)) {
        record.reusedRefreshToken = true;
        reused += 1;
      }
    },
  };

  /** Narrows a stored refresh token to what `record` asked for (quirks narrowRefreshToken, stickyResource). */
  function narrowRefreshToken(payload: Payload, record: TokenRequestRecord): void {
    if (quirks.narrowRefreshToken !== undefined && record.scope !== undefined && typeof payload['scope'] === 'string') {
      const asked = new Set(record.scope.split(' '));
      payload['scope'] = payload['scope'].split(' ').filter((s) => asked.has(s)).join(' ');
    }
    if (quirks.stickyResource === true && record.resource?.[0] !== undefined) payload['resource'] = record.resource[0];
  }

  const storage = adapterFactory(observer);
  const provider = new Provider(issuer, {
    jwks: { keys: TEST_SIGNING_KEYS.map((k) => ({ ...k })) },
    routes: ROUTES,
    adapter: storage.adapter,
    cookies: { keys: ['test-cookie-key-0123456789'] },
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [redirectUri],
        post_logout_redirect_uris: [postLogoutRedirectUri],
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials', ...(options.tokenExchange === true ? [TOKEN_EXCHANGE_GRANT] : [])],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        ...(quirks.opaqueSub === true ? { subject_type: 'pairwise' } : {}),
        ...(quirks.authTimeZero === true ? { require_auth_time: true } : {}),
      },
      // Plays the resource servers' part at the introspection endpoint; cannot obtain tokens.
      {
        client_id: RS_CLIENT.clientId,
        client_secret: RS_CLIENT.clientSecret,
        redirect_uris: [],
        response_types: [],
        grant_types: [],
      },
      ...(options.clients ?? []),
    ],
    responseTypes: ['code'],
    scopes: ['openid', 'offline_access', 'email', 'profile', ...(options.extraScopes ?? [])],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    findAccount: async (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: async () => ({ sub, email: `${sub}@example.test`, email_verified: true, name: `Test ${sub}` }),
    }),
    pkce: { required: () => options.pkceRequired ?? true },
    rotateRefreshToken: options.rotateRefreshToken ?? quirks.narrowRefreshToken !== 'same',
    ...(quirks.opaqueSub === true
      ? {
          subjectTypes: ['public', 'pairwise'],
          pairwiseIdentifier: async (_ctx: unknown, accountId: string, client: { sectorIdentifier: string }) =>
            sha256(`${client.sectorIdentifier}:${accountId}:pairwise-salt`).slice(0, 40),
        }
      : {}),
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(t: string): boolean }, code: { scopes: Set<string> }) =>
      client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    // Defaults print "you SHOULD change it" notices; these are the same policies, stated.
    clientBasedCORS: () => true,
    ttl: {
      // A resource's own TTL (registerResource) wins; oidc-provider's default reads it only without a number here.
      AccessToken: (_ctx: unknown, token: { resourceServer?: { accessTokenTTL?: number } }) => token.resourceServer?.accessTokenTTL ?? accessTokenTTL,
      ClientCredentials: (_ctx: unknown, token: { resourceServer?: { accessTokenTTL?: number } }) => token.resourceServer?.accessTokenTTL ?? accessTokenTTL,
      IdToken: options.idTokenTTL ?? 3600,
      RefreshToken: 24 * 60 * 60,
      AuthorizationCode: 60,
      Interaction: 600,
      Session: 24 * 60 * 60,
      Grant: 24 * 60 * 60,
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true, allowedPolicy: revocationAllowed },
      introspection: { enabled: true, allowedPolicy: introspectionAllowed },
      rpInitiatedLogout: { enabled: true },
      clientCredentials: { enabled: true },
      dPoP: {
        enabled: true,
        ...(options.dpopNonce === true ? { nonceSecret: Buffer.alloc(32, 7), requireNonce: () => true } : {}),
      },
      resourceIndicators: {
        enabled: options.resourceIndicators ?? true,
        // No resource parameter: no resource-server token (opaque, userinfo only).
        defaultResource: () => undefined,
        // Code exchange without `resource` must not silently pick a granted resource.
        useGrantedResource: () => false,
        getResourceServerInfo: (_ctx: unknown, indicator: string) => {
          const r = registry.get(indicator);
          if (!r) throw new errors.InvalidTarget(`unknown resource indicator: ${indicator}`);
          const format = r.accessTokenFormat ?? options.accessTokenFormat ?? 'jwt';
          return {
            scope: r.scope,
            audience: indicator,
            accessTokenTTL: r.accessTokenTTL ?? accessTokenTTL,
            accessTokenFormat: format,
            ...(format === 'jwt' ? { jwt: { sign: { alg: 'RS256' } } } : {}),
          };
        },
      },
    },
  });
  const callback = provider.callback();
  if (options.tokenExchange === true) registerTokenExchange(provider, errors, registry, accessTokenTTL);

  async function onTokenRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readAll(req);
    const body = new URLSearchParams(raw.toString('utf8'));
    const refreshToken = body.get('refresh_token');
    const record: TokenRequestRecord = { grantType: body.get('grant_type') ?? '', status: 0, at: Date.now() };
    const scope = body.get('scope');
    if (scope !== null) record.scope = scope;
    const resource = body.getAll('resource');
    if (resource.length > 0) record.resource = resource;
    if (refreshToken !== null) record.refreshTokenHash = sha256(refreshToken);
    tokenRequests.push(record);
    // The fault is chosen in arrival order, before any hook delay, so tests are deterministic.
    const fault = faults.shift();

    // quirk concurrentRefresh: claimed at arrival, so a duplicate delayed by the hook still overlaps
    const concurrent = quirks.concurrentRefresh !== undefined && record.refreshTokenHash !== undefined && refreshesInFlight.has(record.refreshTokenHash);
    const claimed = quirks.concurrentRefresh !== undefined && record.refreshTokenHash !== undefined && !concurrent ? record.refreshTokenHash : undefined;
    if (claimed !== undefined) {
      refreshesInFlight.add(claimed);
      res.once('close', () => refreshesInFlight.delete(claimed));
    }
    await hook?.({ grantType: record.grantType, body });

    if (fault) {
      record.status = fault === 'reset' ? 0 : fault.status;
      sendFault(req, res, fault);
      return;
    }
    if (concurrent) {
      record.reusedRefreshToken = true;
      reused += 1;
      record.status = quirks.concurrentRefresh === 'server-error' ? 500 : 400;
      sendFault(req, res, quirks.concurrentRefresh === 'server-error' ? HTML_500 : { status: 400, body: JSON.stringify({ error: 'invalid_grant', error_description: 'concurrent use' }) });
      return;
    }

    let replayed = raw;
    if (quirks.ignoreRefreshScope === true && record.grantType === 'refresh_token' && body.has('scope')) {
      const stripped = new URLSearchParams(body);
      stripped.delete('scope');
      replayed = Buffer.from(stripped.toString(), 'utf8');
    }
    rewriteTokenResponse(res, record, refreshToken);
    res.once('finish', () => {
      record.status = res.statusCode;
    });
    await inFlight.run(record, () => callback(replayRequest(req, replayed), res));
  }

  /** Quirks that change what the token endpoint answers: error bodies, no ID token, narrowing a non-rotating refresh token. */
  function rewriteTokenResponse(res: ServerResponse, record: TokenRequestRecord, refreshToken: string | null): void {
    const narrowsSameToken = quirks.narrowRefreshToken === 'same' || (quirks.stickyResource === true && options.rotateRefreshToken === false);
    if (quirks.errorBody === undefined && quirks.noIdTokenOnRefresh !== true && !narrowsSameToken) return;
    rewriteResponse(res, (status, body) => {
      if (status >= 400 && quirks.errorBody === 'empty-400') return { status: 400, body: '' };
      if (status >= 400 && quirks.errorBody === 'html-500') return { status: HTML_500.status, body: HTML_500.body, contentType: HTML_500.contentType };
      if (status !== 200 || record.grantType !== 'refresh_token') return undefined;
      if (refreshToken !== null && narrowsSameToken) {
        // Not rotated: the token presented is the one that keeps only what was asked.
        const stored = storage.payload('RefreshToken', refreshToken);
        if (stored !== undefined) narrowRefreshToken(stored, record);
      }
      if (quirks.noIdTokenOnRefresh !== true) return undefined;
      const json = JSON.parse(body) as Record<string, unknown>;
      delete json['id_token'];
      return { status, body: JSON.stringify(json), contentType: 'application/json; charset=utf-8' };
    });
  }

  async function onInteraction(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (url.searchParams.get('deny') === '1') {
      await provider.interactionFinished(
        req,
        res,
        { error: 'access_denied', error_description: 'end-user denied the request (test)' },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    if (details.prompt.name === 'login') {
      const hint = details.params['login_hint'];
      const accountId = url.searchParams.get('account') ?? (typeof hint === 'string' ? hint : 'alice');
      // quirk authTimeZero: the login is dated to the epoch, so ID tokens say auth_time 0
      const login = quirks.authTimeZero === true ? { accountId, ts: 0 } : { accountId };
      await provider.interactionFinished(req, res, { login }, { mergeWithLastSubmission: false });
      return;
    }
    if (details.prompt.name === 'consent') {
      const accountId = details.session?.accountId;
      if (!accountId) throw new Error('consent prompt without a logged-in session');
      const existing = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
      const grant = existing ?? new provider.Grant({ accountId, clientId: String(details.params['client_id']) });
      // Grant exactly what the provider says is missing, i.e. everything requested.
      const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = details.prompt.details;
      if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
      if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    throw new Error(`unsupported prompt: ${details.prompt.name}`);
  }

  async function onParRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readAll(req);
    const body = new URLSearchParams(raw.toString('utf8'));
    body.delete('client_secret'); // never keep credentials in test records
    body.delete('client_assertion');
    parRequests.push(body);
    await callback(replayRequest(req, raw), res);
  }

  async function onRevocationRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const fault = revocationFaults.shift();
    if (!fault) return callback(req, res);
    await readAll(req); // drain, so a keep-alive connection stays usable
    sendFault(req, res, fault);
  }

  /** Quirks of the discovery document: endpoints left out, RFC 9207 not advertised, served only with a trailing slash. */
  async function onDiscovery(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const slash = url.pathname.endsWith('/');
    if (quirks.discoveryTrailingSlashOnly === true && !slash) {
      res.statusCode = 404;
      res.setHeader('content-type', 'text/html');
      res.end('<html><body><h1>404 Not Found</h1></body></html>');
      return;
    }
    if (slash) req.url = `${DISCOVERY}${url.search}`;
    const omit = [...(quirks.omitDiscovery ?? []), ...(quirks.issUnadvertised === true ? ['authorization_response_iss_parameter_supported'] : [])];
    if (omit.length > 0) {
      rewriteResponse(res, (status, body) => {
        if (status !== 200) return undefined;
        const json = JSON.parse(body) as Record<string, unknown>;
        for (const name of omit) delete json[name];
        return { status, body: JSON.stringify(json), contentType: 'application/json; charset=utf-8' };
      });
    }
    await callback(req, res);
  }

  handler = async (req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    if (req.method === 'GET' && (url.pathname === DISCOVERY || url.pathname === `${DISCOVERY}/`)) return onDiscovery(req, res, url);
    if (req.method === 'POST' && quirks.rejectEncodedBasic === true && CLIENT_AUTH_ROUTES.has(url.pathname) && hasEncodedBasic(req)) {
      // quirk rejectEncodedBasic: the provider compares the Basic credentials without form-decoding them
      await readAll(req);
      res.statusCode = 401;
      // as oidc-provider itself answers a failed client authentication (RFC 6749 section 5.2)
      res.setHeader('www-authenticate', `Basic realm="${issuer}", error="invalid_client", error_description="client authentication failed"`);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ error: 'invalid_client', error_description: 'client authentication failed' }));
      return;
    }
    if (req.method === 'POST' && url.pathname === ROUTES.token) return onTokenRequest(req, res);
    if (req.method === 'POST' && url.pathname === ROUTES.pushed_authorization_request) return onParRequest(req, res);
    if (req.method === 'POST' && url.pathname === ROUTES.revocation) return onRevocationRequest(req, res);
    if (req.method === 'GET' && /^\/interaction\/[^/]+$/.test(url.pathname)) return onInteraction(req, res, url);
    return callback(req, res);
  };

  // ---- headless login: follow the provider's redirects, never request the client's callback
  async function login(authorizationUrl: string | URL, loginOptions: LoginOptions = {}): Promise<string> {
    const jar = new CookieJar();
    let url = new URL(authorizationUrl);
    for (let hop = 0; hop < 20; hop += 1) {
      if (url.origin === issuer && url.pathname.startsWith('/interaction/')) {
        // Tell our interaction handler what to do; it is the only consumer of these parameters.
        if (loginOptions.accountId !== undefined) url.searchParams.set('account', loginOptions.accountId);
        if (loginOptions.deny) url.searchParams.set('deny', '1');
      }
      const res = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header(url) } });
      jar.store(url, res.headers.getSetCookie());
      const text = await res.text();
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) {
        throw new Error(`login stopped at ${url.pathname} with HTTP ${res.status}: ${text.slice(0, 500)}`);
      }
      const next = new URL(location, url);
      // Anything that is not the provider's own authorization/interaction flow is the client's
      // redirect URI (ours, or one of options.clients'), i.e. the callback to hand back.
      const ownFlow =
        next.origin === issuer &&
        (next.pathname === ROUTES.authorization ||
          next.pathname.startsWith(`${ROUTES.authorization}/`) ||
          next.pathname.startsWith('/interaction/'));
      if (!ownFlow) return next.href;
      url = next;
    }
    throw new Error('login: too many redirects');
  }

  async function introspect(token: string): Promise<Record<string, unknown>> {
    const res = await fetch(`${issuer}${ROUTES.introspection}`, {
      method: 'POST',
      headers: {
        authorization: basicAuth(RS_CLIENT.clientId, RS_CLIENT.clientSecret),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token }),
    });
    if (!res.ok) throw new Error(`introspection failed: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  }

  return {
    issuer,
    port,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUri,
    postLogoutRedirectUri,
    provider,
    tokenRequests,
    parRequests,
    reusedRefreshTokens: () => reused,
    resetCounters() {
      // Only records and counts: pending faults and the hook stay armed. The provider's memory of
      // consumed refresh tokens is kept too: a token rotated before the reset and presented after
      // it is still a reuse.
      tokenRequests.length = 0;
      parRequests.length = 0;
      reused = 0;
    },
    registerResource(r) {
      registry.set(r.indicator, r);
    },
    failTokenRequests(count, fault) {
      for (let i = 0; i < count; i += 1) faults.push(fault);
    },
    failRevocation(count, fault = { status: 503, body: '{"error":"temporarily_unavailable"}' }) {
      for (let i = 0; i < count; i += 1) revocationFaults.push(fault);
    },
    setTokenEndpointHook(h) {
      hook = h;
    },
    login,
    introspect,
    close: () => closeServer(server),
  };
}

const DISCOVERY = '/.well-known/openid-configuration';
const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const CLIENT_AUTH_ROUTES = new Set<string>([ROUTES.token, ROUTES.pushed_authorization_request, ROUTES.revocation, ROUTES.introspection]);
const HTML_500 = { status: 500, body: '<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head><body><h1>Something went wrong</h1></body></html>', contentType: 'text/html' } as const;

function hasEncodedBasic(req: IncomingMessage): boolean {
  const header = req.headers.authorization ?? '';
  if (!/^basic /i.test(header)) return false;
  return Buffer.from(header.slice(6).trim(), 'base64').toString('utf8').includes('%');
}

/**
 * Lets a quirk rewrite a response oidc-provider (Koa) is about to send. Koa sends a buffered body with a
 * single res.end(body), headers not yet flushed, so the status, headers and body can still be swapped there.
 */
function rewriteResponse(
  res: ServerResponse,
  rewrite: (status: number, body: string) => { status: number; body: string; contentType?: string } | undefined,
): void {
  const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
  res.end = ((chunk?: unknown, ...rest: unknown[]) => {
    if (res.headersSent || typeof rest[0] === 'function' || (chunk !== undefined && typeof chunk !== 'string' && !Buffer.isBuffer(chunk))) {
      return (end as (...args: unknown[]) => ServerResponse)(chunk, ...rest);
    }
    const text = chunk === undefined ? '' : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : chunk;
    const next = rewrite(res.statusCode, text);
    if (next === undefined) return end(chunk);
    res.statusCode = next.status;
    if (next.contentType === undefined) res.removeHeader('content-type');
    else res.setHeader('content-type', next.contentType);
    res.setHeader('content-length', Buffer.byteLength(next.body));
    return end(next.body);
  }) as typeof res.end;
}

interface TokenExchangeContext {
  oidc: {
    params: Record<string, unknown>;
    client: { clientId: string };
    entity(name: string, value: unknown): void;
  };
  body: unknown;
}

/**
 * RFC 8693 token exchange, which oidc-provider does not ship: an access token of a user's grant (the subject
 * token, found with AccessToken.find, so opaque tokens only) is exchanged for one restricted to `resource`,
 * with the scope asked for, within what the grant allows for that resource.
 */
function registerTokenExchange(provider: OidcProvider, errors: OidcModule['errors'], registry: Map<string, TestResource>, accessTokenTTL: number): void {
  const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
  const handler = async (ctx: TokenExchangeContext) => {
    const { params, client } = ctx.oidc;
    const subjectToken = params['subject_token'];
    if (typeof subjectToken !== 'string' || subjectToken === '') throw new errors.InvalidRequest('missing required parameter \'subject_token\'');
    if (params['subject_token_type'] !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest('unsupported subject_token_type');
    const requestedType = params['requested_token_type'];
    if (requestedType !== undefined && requestedType !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest('unsupported requested_token_type');
    const subject = await provider.AccessToken.find(subjectToken);
    if (!subject || subject.isExpired || subject.clientId !== client.clientId) throw new errors.InvalidGrant('subject token is invalid');
    const grant = await provider.Grant.find(subject.grantId);
    if (!grant) throw new errors.InvalidGrant('grant not found');
    const asked = typeof params['scope'] === 'string' ? params['scope'].split(' ').filter((s) => s !== '') : [];
    const resource = params['resource'];
    if (Array.isArray(resource)) throw new errors.InvalidTarget('only one resource may be requested');
    const at = new provider.AccessToken({ accountId: subject.accountId, client, grantId: subject.grantId, gty: 'token-exchange', sessionUid: subject.sessionUid, sid: subject.sid });
    if (typeof resource === 'string') {
      const info = registry.get(resource);
      if (!info) throw new errors.InvalidTarget(`unknown resource indicator: ${resource}`);
      const serverScopes = new Set(info.scope.split(' '));
      const scope = grant.getResourceScopeFiltered(resource, asked.filter((s) => serverScopes.has(s)));
      if (asked.length > 0 && scope.split(' ').filter((s) => s !== '').length !== asked.length) throw new errors.InvalidScope('requested scope is not granted for this resource');
      const format = info.accessTokenFormat ?? 'jwt';
      at.resourceServer = new provider.ResourceServer(resource, {
        scope: info.scope,
        audience: resource,
        accessTokenFormat: format,
        accessTokenTTL: info.accessTokenTTL ?? accessTokenTTL,
        ...(format === 'jwt' ? { jwt: { sign: { alg: 'RS256' } } } : {}),
      });
      at.scope = scope;
    } else {
      const scope = grant.getOIDCScopeFiltered(new Set(asked));
      if (scope.split(' ').filter((s) => s !== '').length !== asked.length) throw new errors.InvalidScope('requested scope is not granted');
      at.scope = scope;
    }
    ctx.oidc.entity('AccessToken', at);
    const value = await at.save();
    ctx.body = { access_token: value, issued_token_type: ACCESS_TOKEN_TYPE, token_type: at.tokenType, expires_in: at.expiration, scope: at.scope };
  };
  provider.registerGrantType(TOKEN_EXCHANGE_GRANT, handler, ['subject_token', 'subject_token_type', 'requested_token_type', 'scope', 'resource', 'audience'], ['resource']);
}

// Allows the 'rs' client to introspect anyone's tokens; other clients only their own.
function introspectionAllowed(_ctx: unknown, client: { clientId: string }, token: { clientId?: string }): boolean {
  return client.clientId === RS_CLIENT.clientId || token.clientId === client.clientId;
}

function revocationAllowed(_ctx: unknown, client: { clientId: string }, token: { clientId?: string }): boolean {
  return token.clientId === client.clientId;
}

// ---------------------------------------------------------------------------------------------
// helpers

/** An injected failure: a destroyed socket for 'reset', else the given response. */
function sendFault(req: IncomingMessage, res: ServerResponse, fault: TokenFault): void {
  if (fault === 'reset') {
    req.socket.destroy();
    return;
  }
  res.statusCode = fault.status;
  if (fault.body !== undefined) res.setHeader('content-type', fault.contentType ?? 'application/json');
  res.end(fault.body ?? '');
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/**
 * We consumed the request body to inspect it; oidc-provider must still read it from a stream.
 * Koa and oidc-provider's body parser only use these request properties (koa/lib/request.js,
 * oidc-provider/lib/shared/selective_body.js), so a fresh Readable carrying them is enough.
 */
function replayRequest(req: IncomingMessage, body: Buffer): IncomingMessage {
  const clone = Readable.from(body.length > 0 ? [body] : [], { objectMode: false });
  // A quirk may have rewritten the body: the length must match what is replayed.
  const headers = req.headers['content-length'] === undefined ? req.headers : { ...req.headers, 'content-length': String(body.length) };
  return Object.assign(clone, {
    headers,
    rawHeaders: req.rawHeaders,
    method: req.method,
    url: req.url,
    httpVersion: req.httpVersion,
    httpVersionMajor: req.httpVersionMajor,
    httpVersionMinor: req.httpVersionMinor,
    socket: req.socket,
    connection: req.socket,
  }) as unknown as IncomingMessage;
}

/** Minimal cookie jar for one host: honours Path (oidc-provider scopes cookies to /interaction/<uid>). */
class CookieJar {
  readonly #cookies = new Map<string, { name: string; value: string; path: string }>();

  store(url: URL, setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = url.pathname.slice(0, url.pathname.lastIndexOf('/')) || '/';
      let expired = value === '';
      for (const attr of attrs) {
        const [k = '', v = ''] = attr.split('=').map((s) => s.trim());
        const key = k.toLowerCase();
        if (key === 'path' && v.startsWith('/')) path = v;
        if (key === 'max-age' && Number(v) <= 0) expired = true;
        if (key === 'expires' && Date.parse(v) <= Date.now()) expired = true;
      }
      const id = `${name};${path}`;
      if (expired) this.#cookies.delete(id);
      else this.#cookies.set(id, { name, value, path });
    }
  }

  header(url: URL): string {
    const p = url.pathname;
    return [...this.#cookies.values()]
      .filter((c) => p === c.path || (p.startsWith(c.path) && (c.path.endsWith('/') || p[c.path.length] === '/')))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }
}
