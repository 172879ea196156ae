// Proves the integration harness (test/support) against the real oidc-provider and openid-client,
// without the library: if these fail, library integration failures mean nothing.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import * as client from 'openid-client';

import { RS_CLIENT, startTestProvider, type LoginOptions, type TestProvider } from '../support/provider.js';
import { startRecordingServer, startResourceServer, type TestResourceServer } from '../support/resource-server.js';

const SCOPE = 'openid offline_access contacts:read calendar:read';

async function connect(tp: TestProvider): Promise<client.Configuration> {
  return client.discovery(
    new URL(tp.issuer),
    tp.clientId,
    { redirect_uris: [tp.redirectUri] },
    client.ClientSecretBasic(tp.clientSecret),
    { execute: [client.allowInsecureRequests] }, // loopback http issuer only
  );
}

/** Authorization request with PKCE and one `resource` parameter per indicator, then headless login. */
async function authorize(
  tp: TestProvider,
  config: client.Configuration,
  resources: string[],
  loginOptions?: LoginOptions,
  scope = SCOPE,
) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: tp.redirectUri,
    scope,
    prompt: 'consent', // without it the provider silently drops offline_access
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  for (const resource of resources) url.searchParams.append('resource', resource);
  const callback = new URL(await tp.login(url, loginOptions));
  return { callback, verifier, state };
}

async function signIn(
  tp: TestProvider,
  config: client.Configuration,
  resources: string[],
  loginOptions?: LoginOptions,
  scope = SCOPE,
) {
  const { callback, verifier, state } = await authorize(tp, config, resources, loginOptions, scope);
  return client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, idTokenExpected: true });
}

function call(rs: TestResourceServer, token?: string): Promise<Response> {
  return fetch(`${rs.url}/api/items`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
}

function oauthError(code: string) {
  return (err: unknown) => (err as { error?: unknown }).error === code;
}

function jwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
}

describe('test provider + resource servers (resource indicators, JWT access tokens)', () => {
  let tp: TestProvider;
  let config: client.Configuration;
  let contacts: TestResourceServer;
  let calendar: TestResourceServer;
  let contactsApi: string;
  let calendarApi: string;

  before(async () => {
    // Provider first (resources are registered once their URLs exist); resource servers discover
    // it lazily. Each server's audience is its own indicator, `${url}/api`.
    tp = await startTestProvider();
    [contacts, calendar] = await Promise.all([
      startResourceServer({ name: 'contacts', issuer: tp.issuer, scope: 'contacts:read', audience: (url) => `${url}/api` }),
      startResourceServer({ name: 'calendar', issuer: tp.issuer, scope: 'calendar:read', audience: (url) => `${url}/api` }),
    ]);
    contactsApi = `${contacts.url}/api`;
    calendarApi = `${calendar.url}/api`;
    tp.registerResource({ indicator: contactsApi, scope: 'contacts:read contacts:write' });
    tp.registerResource({ indicator: calendarApi, scope: 'calendar:read' });
    config = await connect(tp);
  });

  after(async () => {
    await Promise.all([tp.close(), contacts.close(), calendar.close()]);
  });

  test('discovery advertises the pinned endpoints the harness relies on', () => {
    const md = config.serverMetadata();
    assert.equal(md.issuer, tp.issuer);
    assert.equal(md.jwks_uri, `${tp.issuer}/jwks`);
    assert.equal(md.introspection_endpoint, `${tp.issuer}/token/introspection`);
    assert.deepEqual(md.code_challenge_methods_supported, ['S256']);
  });

  test('code flow, then one audience-restricted token per resource via refresh', async () => {
    const tokens = await signIn(tp, config, [contactsApi, calendarApi]);
    // Code exchange without `resource`: opaque, userinfo-only token; resource scopes not listed.
    assert.equal(tokens.scope, 'openid offline_access');
    assert.equal(tokens.access_token.split('.').length, 1);
    assert.ok(tokens.refresh_token);
    assert.equal(tokens.claims()?.sub, 'alice');

    const forContacts = await client.refreshTokenGrant(config, tokens.refresh_token, { resource: contactsApi, scope: 'contacts:read' });
    assert.equal(forContacts.scope, 'contacts:read');
    assert.notEqual(forContacts.refresh_token, tokens.refresh_token, 'rotated on every use');
    assert.equal(jwtPayload(forContacts.access_token)['aud'], contactsApi);

    const forCalendar = await client.refreshTokenGrant(config, forContacts.refresh_token!, { resource: calendarApi, scope: 'calendar:read' });
    assert.equal(forCalendar.scope, 'calendar:read');

    const ok = await call(contacts, forContacts.access_token);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { resource: 'contacts', sub: 'alice', aud: contactsApi, scope: 'contacts:read', path: '/api/items' });
    assert.equal((await call(calendar, forCalendar.access_token)).status, 200);

    // The contacts token is refused by the calendar API: wrong audience.
    const wrongAud = await call(calendar, forContacts.access_token);
    assert.equal(wrongAud.status, 401);
    assert.match(wrongAud.headers.get('www-authenticate') ?? '', /^Bearer realm="calendar", error="invalid_token"/);

    const none = await call(contacts);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="contacts"');

    // A scope the resource does not have: success with an empty scope (silent), then 403 at the API.
    const empty = await client.refreshTokenGrant(config, forCalendar.refresh_token!, { resource: contactsApi, scope: 'calendar:read' });
    assert.equal(empty.scope, '');
    const forbidden = await call(contacts, empty.access_token);
    assert.equal(forbidden.status, 403);
    assert.equal(
      forbidden.headers.get('www-authenticate'),
      'Bearer realm="contacts", error="insufficient_scope", scope="contacts:read", error_description="missing scope: contacts:read"',
    );
  });

  test('token requests are recorded in order, refresh tokens only as sha256', async () => {
    const tokens = await signIn(tp, config, [contactsApi]);
    tp.resetCounters();
    await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: contactsApi });
    assert.equal(tp.tokenRequests.length, 1);
    const [record] = tp.tokenRequests;
    assert.equal(record?.grantType, 'refresh_token');
    assert.deepEqual(record?.resource, [contactsApi]);
    assert.equal(record?.status, 200);
    assert.equal(record?.refreshTokenHash, createHash('sha256').update(tokens.refresh_token!).digest('hex'));
    assert.ok(!JSON.stringify(tp.tokenRequests).includes(tokens.refresh_token!));
  });

  test('presenting a rotated refresh token counts as one reuse and revokes the grant', async () => {
    const tokens = await signIn(tp, config, [contactsApi]);
    const rotated = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: contactsApi });
    assert.equal(tp.reusedRefreshTokens(), 0);
    tp.resetCounters();

    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!, { resource: contactsApi }), oauthError('invalid_grant'));
    assert.equal(tp.reusedRefreshTokens(), 1);
    assert.equal(tp.tokenRequests[0]?.reusedRefreshToken, true);

    // The provider revoked the whole grant: the newest token is dead too, but was never reused.
    await assert.rejects(client.refreshTokenGrant(config, rotated.refresh_token!, { resource: contactsApi }), oauthError('invalid_grant'));
    assert.equal(tp.reusedRefreshTokens(), 1);
  });

  test('two concurrent refreshes with one token: the provider sees a reuse (setTokenEndpointHook delays)', async () => {
    const tokens = await signIn(tp, config, [contactsApi, calendarApi]);
    tp.resetCounters();
    tp.setTokenEndpointHook(() => sleep(30)); // both requests are in flight before either is processed
    try {
      const results = await Promise.allSettled([
        client.refreshTokenGrant(config, tokens.refresh_token!, { resource: contactsApi }),
        client.refreshTokenGrant(config, tokens.refresh_token!, { resource: calendarApi }),
      ]);
      assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
      assert.equal(tp.reusedRefreshTokens(), 1);
    } finally {
      tp.setTokenEndpointHook();
    }
  });

  test('failTokenRequests fails exactly the next request, before the provider sees it', async () => {
    const tokens = await signIn(tp, config, [contactsApi]);
    tp.resetCounters();
    tp.failTokenRequests(1, { status: 503, body: '{"error":"temporarily_unavailable"}' });
    // openid-client parses OAuth error bodies only on 400/401; a 503 is a ClientError whose cause is the Response.
    await assert.rejects(
      client.refreshTokenGrant(config, tokens.refresh_token!, { resource: contactsApi }),
      (err: unknown) => (err as { cause?: unknown }).cause instanceof Response && ((err as { cause: Response }).cause.status === 503),
    );
    // The same refresh token still works: the provider never consumed it, so this is no reuse.
    const ok = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: contactsApi });
    assert.ok(ok.access_token);
    assert.deepEqual(tp.tokenRequests.map((r) => r.status), [503, 200]);
    assert.equal(tp.reusedRefreshTokens(), 0);

    tp.failTokenRequests(1, 'reset');
    await assert.rejects(client.refreshTokenGrant(config, ok.refresh_token!, { resource: contactsApi }), TypeError); // fetch failed
    assert.equal(tp.tokenRequests.at(-1)?.status, 0);
    await client.refreshTokenGrant(config, ok.refresh_token!, { resource: contactsApi });
    assert.equal(tp.reusedRefreshTokens(), 0);
  });

  test('failTokenRequestsBetween fails every request in the window, none before or after it', async () => {
    const tokens = await signIn(tp, config, [contactsApi]);
    tp.resetCounters();
    const from = Date.now() + 150;
    tp.failTokenRequestsBetween(from, from + 300, { status: 503, body: '{"error":"temporarily_unavailable"}' });
    const before = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: contactsApi });
    await sleep(from - Date.now() + 10);
    for (let i = 0; i < 3; i++) {
      await assert.rejects(client.refreshTokenGrant(config, before.refresh_token!, { resource: contactsApi }), (err: unknown) => (err as { cause?: unknown }).cause instanceof Response);
    }
    await sleep(from + 300 - Date.now() + 10);
    const afterOutage = await client.refreshTokenGrant(config, before.refresh_token!, { resource: contactsApi });
    assert.ok(afterOutage.access_token);
    assert.deepEqual(tp.tokenRequests.map((r) => r.status), [200, 503, 503, 503, 200]);
    assert.equal(tp.reusedRefreshTokens(), 0);
  });

  test('denied consent returns access_denied to the redirect URI', async () => {
    const { callback, verifier, state } = await authorize(tp, config, [contactsApi], { deny: true });
    assert.ok(callback.href.startsWith(tp.redirectUri));
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    await assert.rejects(
      client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state }),
      oauthError('access_denied'),
    );
  });

  test('login honours accountId; unknown resource indicators are rejected; registerResource adds opaque ones', async () => {
    const bob = await signIn(tp, config, [contactsApi], { accountId: 'bob' });
    assert.equal(bob.claims()?.sub, 'bob');

    const files = await startResourceServer({ name: 'files', issuer: tp.issuer, scope: 'files:read', introspection: RS_CLIENT });
    try {
      const filesApi = `${files.url}/api`;
      const { callback } = await authorize(tp, config, [filesApi]);
      assert.equal(callback.searchParams.get('error'), 'invalid_target');

      tp.registerResource({ indicator: filesApi, scope: 'files:read', accessTokenFormat: 'opaque' });
      const tokens = await signIn(tp, config, [filesApi], {}, 'openid offline_access files:read');
      const forFiles = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: filesApi });
      assert.equal(forFiles.access_token.split('.').length, 1, 'opaque');
      const info = await tp.introspect(forFiles.access_token);
      assert.equal(info['aud'], filesApi);
      assert.equal(info['scope'], 'files:read');
      const res = await call(files, forFiles.access_token);
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { aud: string }).aud, filesApi);
    } finally {
      await files.close();
    }
  });

  test('PAR requests are recorded and still reach the provider; failRevocation fails revocation', async () => {
    tp.resetCounters();
    const verifier = client.randomPKCECodeVerifier();
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: tp.redirectUri,
      scope: SCOPE,
      prompt: 'consent',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      resource: contactsApi,
    });
    assert.equal(tp.parRequests.length, 1);
    assert.equal(tp.parRequests[0]?.get('resource'), contactsApi);
    assert.equal(tp.parRequests[0]?.get('client_secret'), null);
    const tokens = await client.authorizationCodeGrant(config, new URL(await tp.login(url)), { pkceCodeVerifier: verifier });
    assert.ok(tokens.refresh_token);

    tp.failRevocation(1);
    await assert.rejects(client.tokenRevocation(config, tokens.refresh_token));
    await client.tokenRevocation(config, tokens.refresh_token);
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token, { resource: contactsApi }), oauthError('invalid_grant'));
  });

  test('DPoP-bound tokens: accepted with a proof, refused as bearer', async () => {
    const tokens = await signIn(tp, config, [contactsApi]);
    const dpop = client.getDPoPHandle(config, await client.randomDPoPKeyPair());
    const bound = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: contactsApi }, { DPoP: dpop });
    assert.equal(bound.token_type, 'dpop');
    const ok = await client.fetchProtectedResource(config, bound.access_token, new URL(`${contacts.url}/api/items`), 'GET', undefined, undefined, { DPoP: dpop });
    assert.equal(ok.status, 200);
    assert.equal((await call(contacts, bound.access_token)).status, 401);
  });
});

describe('test provider without resource indicators (opaque tokens, introspection)', () => {
  let tp: TestProvider;
  let config: client.Configuration;
  let contacts: TestResourceServer;

  before(async () => {
    tp = await startTestProvider({ resourceIndicators: false, extraScopes: ['contacts:read', 'calendar:read'] });
    contacts = await startResourceServer({ name: 'contacts', issuer: tp.issuer, scope: 'contacts:read', introspection: RS_CLIENT });
    config = await connect(tp);
  });

  after(async () => {
    await Promise.all([tp.close(), contacts.close()]);
  });

  test('scopes live in one opaque token; narrowing by scope works; resource servers introspect', async () => {
    const tokens = await signIn(tp, config, []);
    assert.equal(tokens.scope, SCOPE);
    assert.equal(tokens.access_token.split('.').length, 1);

    const res = await call(contacts, tokens.access_token);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { scope: string }).scope, SCOPE);

    const narrowed = await client.refreshTokenGrant(config, tokens.refresh_token!, { scope: 'calendar:read' });
    assert.equal(narrowed.scope, 'calendar:read');
    assert.equal((await call(contacts, narrowed.access_token)).status, 403);

    const info = await tp.introspect(narrowed.access_token);
    assert.equal(info['active'], true);
    assert.equal(info['aud'], undefined);

    // Revoking the refresh token kills the grant's access tokens.
    await client.tokenRevocation(config, narrowed.refresh_token!);
    assert.deepEqual(await tp.introspect(tokens.access_token), { active: false });
    assert.equal((await call(contacts, tokens.access_token)).status, 401);
  });
});

describe('recording server', () => {
  test('records method, url, headers and body; respond() overrides', async () => {
    const rec = await startRecordingServer();
    try {
      const res = await fetch(`${rec.url}/x?y=1`, { method: 'POST', headers: { authorization: 'DPoP abc', dpop: 'proof' }, body: 'hello' });
      assert.deepEqual(await res.json(), { ok: true });
      assert.equal(rec.requests.length, 1);
      assert.equal(rec.requests[0]?.method, 'POST');
      assert.equal(rec.requests[0]?.url, '/x?y=1');
      assert.equal(rec.requests[0]?.headers['authorization'], 'DPoP abc');
      assert.equal(rec.requests[0]?.headers['dpop'], 'proof');
      assert.equal(rec.requests[0]?.body, 'hello');

      rec.respond((_req, r) => {
        r.statusCode = 401;
        r.setHeader('www-authenticate', 'Bearer error="invalid_token"');
        r.end();
        return true;
      });
      assert.equal((await fetch(rec.url)).status, 401);
      rec.respond();
      assert.equal((await fetch(rec.url)).status, 200);
      assert.equal(rec.requests.length, 3);
    } finally {
      await rec.close();
    }
  });
});
