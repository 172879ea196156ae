import * as client from 'openid-client';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestProvider } from './provider.js';
const C = 'http://127.0.0.1:1/contacts', K = 'http://127.0.0.1:1/calendar', X = 'http://127.0.0.1:1/extra';
const p = await startTestProvider({ resources: [{ indicator: C, scope: 'contacts:read contacts:write' }, { indicator: K, scope: 'calendar:read', accessTokenFormat: 'opaque' }, { indicator: X, scope: 'x:read' }] });
const config = await client.discovery(new URL(p.issuer), p.clientId, { redirect_uris: [p.redirectUri] }, client.ClientSecretBasic(p.clientSecret), { execute: [client.allowInsecureRequests] });
async function fresh() {
const verifier = client.randomPKCECodeVerifier();
const url = client.buildAuthorizationUrl(config, { redirect_uri: p.redirectUri, scope: 'openid offline_access contacts:read calendar:read', prompt: 'consent', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 'st' });
url.searchParams.append('resource', C); url.searchParams.append('resource', K);
const cb = await p.login(url, { accountId: 'bob' });
return (await client.authorizationCodeGrant(config, new URL(cb), { pkceCodeVerifier: verifier, expectedState: 'st' })).refresh_token!;
}
const show = async (label: string, f: () => Promise<any>) => { try { const r = await f(); console.log(label, { scope: r.scope, at: r.access_token.slice(0, 12), rt: r.refresh_token?.slice(0,6), tt: r.token_type }); return r; } catch (e: any) { console.log(label, 'ERR', e.name, e.code, e.error, e.error_description, e.status, e.cause?.code ?? e.cause?.message); } };
{ const rt = await fresh();
  await show('registered not authorized', () => client.refreshTokenGrant(config, rt, { resource: X }));
  await show('  then same RT again', () => client.refreshTokenGrant(config, rt, { resource: C }));
}
{ const rt = await fresh(); p.resetCounters();
  p.setTokenEndpointHook(async () => { await sleep(50); });
  const [a, b] = await Promise.all([show('race A', () => client.refreshTokenGrant(config, rt, { resource: C })), show('race B', () => client.refreshTokenGrant(config, rt, { resource: K }))]);
  p.setTokenEndpointHook();
  console.log('race reused', p.reusedRefreshTokens(), p.tokenRequests.map(r => [r.status, r.reusedRefreshToken]));
  await show('race winner RT after', () => client.refreshTokenGrant(config, (a ?? b).refresh_token, { resource: C }));
}
{ const rt = await fresh(); p.resetCounters();
  p.failTokenRequests(1, 'reset');
  await show('reset', () => client.refreshTokenGrant(config, rt, { resource: C }));
  p.failTokenRequests(1, { status: 503, body: '<html>down</html>', contentType: 'text/html' });
  await show('503 html', () => client.refreshTokenGrant(config, rt, { resource: C }));
  p.failTokenRequests(1, { status: 503 });
  await show('503 empty', () => client.refreshTokenGrant(config, rt, { resource: C }));
  await show('ok', () => client.refreshTokenGrant(config, rt, { resource: C }));
  console.log(p.tokenRequests.map(r => [r.status, r.reusedRefreshToken]), p.reusedRefreshTokens());
}
await p.close();
