// Minimal protected APIs for integration tests: verify the access token the way a real resource
// server would (JWT via the provider's JWKS, opaque via introspection), and record every request
// so tests can assert what the library sent.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

import {
  EmbeddedJWK,
  calculateJwkThumbprint,
  createRemoteJWKSet,
  jwtVerify,
  type JWTPayload,
} from 'jose';

import { basicAuth, closeServer, listenOnLoopback, readAll } from './http.js';

export interface ResourceServerOptions {
  name: string;
  issuer: string;
  /**
   * required `aud` for JWT tokens (and for introspected tokens that carry one). A function gets
   * this server's own URL, for indicators like `${url}/api` that are unknown until it listens.
   */
  audience?: string | ((url: string) => string);
  /** required scope(s), space-separated */
  scope: string;
  /** for opaque tokens */
  introspection?: { clientId: string; clientSecret: string };
  /** leeway for `exp`/`nbf`, as real resource servers have (the library's guard defaults to 5 s); default 0 */
  clockToleranceSeconds?: number;
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export type RespondHandler = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

export interface TestResourceServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  close(): Promise<void>;
  /** override responses: the handler runs first for every request, return true if it responded; no argument removes it */
  respond(handler?: RespondHandler): void;
}

/** Thrown inside verification; turned into the RFC 6750 error response. */
class AuthError extends Error {
  constructor(
    readonly status: 401 | 403,
    readonly error: 'invalid_token' | 'insufficient_scope',
    description: string,
  ) {
    super(description);
  }
}

interface TokenInfo {
  sub?: string;
  aud?: string | string[];
  scope?: string;
  jkt?: string;
}

export async function startResourceServer(options: ResourceServerOptions): Promise<TestResourceServer> {
  const required = options.scope.split(' ').filter(Boolean);
  let audience: string | undefined; // resolved once listening, see below
  // Discovered on first use, so starting a resource server costs no provider round trip.
  let metadata: Promise<{ jwks: ReturnType<typeof createRemoteJWKSet>; introspectionEndpoint: string }> | undefined;
  const discover = () =>
    (metadata ??= (async () => {
      const res = await fetch(`${options.issuer}/.well-known/openid-configuration`);
      const md = (await res.json()) as { jwks_uri: string; introspection_endpoint: string };
      return { jwks: createRemoteJWKSet(new URL(md.jwks_uri)), introspectionEndpoint: md.introspection_endpoint };
    })().catch((err: unknown) => {
      metadata = undefined; // retry on the next request rather than failing forever
      throw err;
    }));

  async function verifyJwt(token: string): Promise<TokenInfo> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, (await discover()).jwks, {
        issuer: options.issuer,
        typ: 'at+jwt',
        clockTolerance: options.clockToleranceSeconds ?? 0,
        ...(audience !== undefined ? { audience } : {}),
      }));
    } catch (err) {
      throw new AuthError(401, 'invalid_token', `JWT rejected: ${(err as Error).message}`);
    }
    const cnf = payload['cnf'] as { jkt?: string } | undefined;
    return {
      ...(payload.sub !== undefined ? { sub: payload.sub } : {}),
      ...(payload.aud !== undefined ? { aud: payload.aud } : {}),
      ...(typeof payload['scope'] === 'string' ? { scope: payload['scope'] } : {}),
      ...(cnf?.jkt !== undefined ? { jkt: cnf.jkt } : {}),
    };
  }

  async function introspect(token: string): Promise<TokenInfo> {
    if (!options.introspection) throw new AuthError(401, 'invalid_token', 'opaque token and no introspection configured');
    const res = await fetch((await discover()).introspectionEndpoint, {
      method: 'POST',
      headers: {
        authorization: basicAuth(options.introspection.clientId, options.introspection.clientSecret),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token }),
    });
    if (!res.ok) throw new AuthError(401, 'invalid_token', `introspection failed: HTTP ${res.status}`);
    const info = (await res.json()) as Record<string, unknown>;
    if (info['active'] !== true) throw new AuthError(401, 'invalid_token', 'token is not active');
    const aud = info['aud'] as string | string[] | undefined;
    if (audience !== undefined && aud !== undefined && ![aud].flat().includes(audience)) {
      throw new AuthError(401, 'invalid_token', `audience mismatch: ${String(aud)}`);
    }
    const cnf = info['cnf'] as { jkt?: string } | undefined;
    return {
      ...(typeof info['sub'] === 'string' ? { sub: info['sub'] } : {}),
      ...(aud !== undefined ? { aud } : {}),
      ...(typeof info['scope'] === 'string' ? { scope: info['scope'] } : {}),
      ...(cnf?.jkt !== undefined ? { jkt: cnf.jkt } : {}),
    };
  }

  /**
   * RFC 9449 §7: a DPoP-bound token must come with the DPoP scheme and a proof signed by the bound
   * key for this request; a bearer token must not claim the DPoP scheme. Not checked: jti replay
   * and server nonces (not needed by the tests).
   */
  async function checkDpop(req: IncomingMessage, scheme: string, token: string, info: TokenInfo, url: URL): Promise<void> {
    if (info.jkt === undefined) {
      if (scheme !== 'bearer') throw new AuthError(401, 'invalid_token', 'DPoP scheme used with a bearer token');
      return;
    }
    if (scheme !== 'dpop') throw new AuthError(401, 'invalid_token', 'DPoP-bound token presented as bearer');
    const proof = req.headers['dpop'];
    if (typeof proof !== 'string') throw new AuthError(401, 'invalid_token', 'missing DPoP proof');
    try {
      const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', maxTokenAge: 300 });
      const ath = createHash('sha256').update(token).digest('base64url');
      if (payload['htm'] !== req.method) throw new Error('htm mismatch');
      if (payload['htu'] !== `${url.origin}${url.pathname}`) throw new Error('htu mismatch');
      if (payload['ath'] !== ath) throw new Error('ath mismatch');
      if ((await calculateJwkThumbprint(protectedHeader.jwk!)) !== info.jkt) throw new Error('key does not match cnf.jkt');
    } catch (err) {
      throw new AuthError(401, 'invalid_token', `DPoP proof rejected: ${(err as Error).message}`);
    }
  }

  const server = await listen(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const authorization = req.headers.authorization ?? '';
    const match = /^(Bearer|DPoP) +([^ ]+)$/i.exec(authorization);
    const scheme = match?.[1]?.toLowerCase() ?? 'bearer';
    const challengeScheme = scheme === 'dpop' ? 'DPoP' : 'Bearer';
    if (!match?.[2]) {
      // RFC 6750 §3.1: no error code when the request carried no credentials.
      res.statusCode = 401;
      res.setHeader('www-authenticate', `Bearer realm="${options.name}"`);
      return sendJson(res, { error: 'missing_token' });
    }
    const token = match[2];
    try {
      const info = token.split('.').length === 3 ? await verifyJwt(token) : await introspect(token);
      await checkDpop(req, scheme, token, info, new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`));
      const granted = new Set((info.scope ?? '').split(' '));
      const missing = required.filter((s) => !granted.has(s));
      if (missing.length > 0) throw new AuthError(403, 'insufficient_scope', `missing scope: ${missing.join(' ')}`);
      return sendJson(res, { resource: options.name, sub: info.sub, aud: info.aud, scope: info.scope, path: url.pathname });
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      res.statusCode = err.status;
      const scopeParam = err.error === 'insufficient_scope' ? `, scope="${options.scope}"` : '';
      res.setHeader(
        'www-authenticate',
        `${challengeScheme} realm="${options.name}", error="${err.error}"${scopeParam}, error_description="${err.message.replace(/["\\]/g, "'")}"`,
      );
      return sendJson(res, { error: err.error, error_description: err.message });
    }
  });
  audience = typeof options.audience === 'function' ? options.audience(server.url) : options.audience;
  return server;
}

/** Records every request (headers incl. authorization/dpop) and answers 200 {ok:true} unless respond() overrides. */
export function startRecordingServer(): Promise<TestResourceServer> {
  return listen(async (_req, res) => sendJson(res, { ok: true }));
}

async function listen(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): Promise<TestResourceServer> {
  const requests: RecordedRequest[] = [];
  let override: RespondHandler | undefined;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = (await readAll(req)).toString('utf8');
      requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: { ...req.headers }, body });
      if (override && (await override(req, res))) return;
      await handle(req, res);
    })().catch((err: unknown) => {
      if (res.headersSent) res.destroy();
      else {
        res.statusCode = 500;
        sendJson(res, { error: 'server_error', error_description: String(err) });
      }
    });
  });
  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () => closeServer(server),
    respond(handler) {
      override = handler;
    },
  };
}

function sendJson(res: ServerResponse, value: unknown): void {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(value));
}

/**
 * A `respond` handler for redirect tests: `…/redirect?status=&to=` answers with that redirect, `…/loop` redirects
 * to itself; anything else falls through.
 */
export const redirector: RespondHandler = (req, res) => {
  const url = new URL(req.url ?? '/', 'http://recorder.invalid');
  if (url.pathname.endsWith('/redirect')) {
    res.writeHead(Number(url.searchParams.get('status')), { location: url.searchParams.get('to') ?? '/' }).end();
    return true;
  }
  if (url.pathname.endsWith('/loop')) {
    res.writeHead(302, { location: url.pathname }).end();
    return true;
  }
  return false;
};
