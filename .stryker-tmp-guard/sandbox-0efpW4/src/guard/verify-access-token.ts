// @ts-nocheck
// The verifier: reads the token from the request, has it checked as a JWT or by introspection, checks
// its DPoP binding and the required scopes. The options and result types of the guard's public API.
function stryNS_9fa48() {
  var g = typeof globalThis === 'object' && globalThis && globalThis.Math === Math && globalThis || new Function("return this")();
  var ns = g.__stryker__ || (g.__stryker__ = {});
  if (ns.activeMutant === undefined && g.process && g.process.env && g.process.env.__STRYKER_ACTIVE_MUTANT__) {
    ns.activeMutant = g.process.env.__STRYKER_ACTIVE_MUTANT__;
  }
  function retrieveNS() {
    return ns;
  }
  stryNS_9fa48 = retrieveNS;
  return retrieveNS();
}
stryNS_9fa48();
function stryCov_9fa48() {
  var ns = stryNS_9fa48();
  var cov = ns.mutantCoverage || (ns.mutantCoverage = {
    static: {},
    perTest: {}
  });
  function cover() {
    var c = cov.static;
    if (ns.currentTestId) {
      c = cov.perTest[ns.currentTestId] = cov.perTest[ns.currentTestId] || {};
    }
    var a = arguments;
    for (var i = 0; i < a.length; i++) {
      c[a[i]] = (c[a[i]] || 0) + 1;
    }
  }
  stryCov_9fa48 = cover;
  cover.apply(null, arguments);
}
function stryMutAct_9fa48(id) {
  var ns = stryNS_9fa48();
  function isActive(id) {
    if (ns.activeMutant === id) {
      if (ns.hitCount !== void 0 && ++ns.hitCount > ns.hitLimit) {
        throw new Error('Stryker: Hit count limit reached (' + ns.hitCount + ')');
      }
      return true;
    }
    return false;
  }
  stryMutAct_9fa48 = isActive;
  return isActive(id);
}
import { ResourceTokensError } from '../errors/resource-tokens-error.js';
import { readTokenFacts, type TokenFacts } from './access-token-claims.js';
import { checkAuthentication, resolveAuthenticationRequirement } from './authentication-requirement.js';
import { createEndpointResolver } from './authorization-server-metadata.js';
import { DpopProofVerifier, normalizeHtu } from './dpop-proof.js';
import { tokenRefusal, type GuardScheme } from './guard-error.js';
import { JwtAccessTokens } from './jwt-access-token.js';
import { OpaqueAccessTokens } from './opaque-access-token.js';
import { headerValues, readAuthorization, type RequestHeaders } from './request-credentials.js';
import { resolveOptions } from './resolve-options.js';
import { LazyTelemetry } from '../telemetry/create-telemetry.js';
import { ATTR, SPAN } from '../telemetry/names.js';
import { resolveTelemetryOptions, type TelemetryOptions } from '../telemetry/options.js';
import { NOOP_SCOPE, type OperationScope } from '../telemetry/telemetry.js';
import type { TokenStore } from '../stores/token-store.js';

/**
 * How a resource server checks access tokens. Validated once, when the verifier is created.
 *
 * @see RFC 9068 section 4 (JWT access tokens), RFC 7662 (introspection), RFC 9449 (DPoP)
 */
export interface VerifyAccessTokenOptions extends TelemetryOptions {
  /**
   * The authorization server's issuer identifier; JWT `iss` must equal it. The JWKS URL and the
   * introspection endpoint come from its discovery document (`/.well-known/openid-configuration`, then
   * RFC 8414 `/.well-known/oauth-authorization-server`) unless given. https outside loopback.
   */
  issuer: string;
  /** This resource's identifier (RFC 8707 resource indicator); `aud` must contain it. */
  audience: string;
  /** Scopes that must all be present in the token's `scope`. Default none. */
  scopes?: string[];
  /**
   * Step-up (RFC 9470): the token's `acr` must be one of these, or the request is refused with
   * `insufficient_user_authentication` and a challenge carrying `acr_values`. Default: any. One verifier per
   * route gives per-route requirements.
   */
  acrValues?: string[];
  /**
   * Step-up (RFC 9470): the token's `auth_time` must be at most this many seconds ago (plus `leewaySeconds`),
   * or the request is refused with `insufficient_user_authentication` and `max_age`. Default: any age.
   */
  maxAgeSeconds?: number;
  /** JWT signature algorithms accepted (asymmetric only). Default `['RS256', 'PS256', 'ES256', 'EdDSA']`. */
  algorithms?: string[];
  /** Clock tolerance for `exp` and `nbf`, in seconds. Default 5. */
  leewaySeconds?: number;
  /** The issuer's JWKS URL, skipping discovery for it. */
  jwksUri?: string;
  /**
   * Minimum seconds between JWKS refetches triggered by an unknown `kid` (a refetch on every unknown
   * `kid` would let anyone make this server hammer the issuer). Default 30.
   */
  jwksCooldownSeconds?: number;
  /**
   * Enables opaque (non-JWT) access tokens, checked by RFC 7662 introspection with client_secret_basic.
   * Without it, opaque tokens are refused. `endpoint` defaults to the discovered `introspection_endpoint`;
   * answers are cached `cacheSeconds` (default 30, 0 disables) and never beyond the token's `exp`.
   */
  introspection?: {
    endpoint?: string;
    clientId: string;
    clientSecret: string;
    cacheSeconds?: number;
    requireAudience?: boolean;
  };
  /**
   * Enables DPoP (RFC 9449): DPoP-bound tokens (`cnf.jkt`) are accepted with the `DPoP` scheme and a
   * valid proof. Without it, bound tokens are refused. `required` refuses unbound tokens. `nonce`
   * turns on stateless server nonces derived from `secret` (at least 32 bytes) in windows of
   * `windowSeconds` (default 300; a nonce stays valid for two windows). `iatWindowSeconds` (default 60)
   * is how far a proof's `iat` may be from now. `algorithms` are the proof algorithms accepted
   * (default `['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256']`).
   */
  dpop?: {
    required?: boolean;
    algorithms?: string[];
    nonce?: {
      secret: string | Uint8Array;
      windowSeconds?: number;
    };
    iatWindowSeconds?: number;
  };
  /**
   * A store shared by every instance of this resource server (e.g. the `RedisStore` the client side uses), for the
   * DPoP proof replay cache: a proof is then accepted at most once across all instances (RFC 9449 section 11.1),
   * not once per instance. Entries are a hash and expire with the proof's `iat` window. A store failure refuses
   * the request with `store_unavailable` (fail closed). Without it the cache is per process. DPoP nonces need no
   * store: they are stateless, valid on every instance configured with the same `dpop.nonce.secret`.
   */
  store?: TokenStore;
  /** URL of this resource's RFC 9728 metadata, advertised as `resource_metadata` in challenges. */
  resourceMetadataUrl?: string;
  /** The fetch used for discovery, JWKS and introspection. Default the global `fetch`. */
  fetch?: typeof fetch;
  /** Clock in milliseconds since the epoch, for tests. Default `Date.now`. */
  now?: () => number;
}

/** The request being authorized, as the resource server sees it. */
export interface AccessTokenRequest {
  /** HTTP method, e.g. `GET`. Compared with a DPoP proof's `htm`. */
  method: string;
  /**
   * Absolute URL of the request as clients address it (public scheme, host and path), compared with a
   * DPoP proof's `htu`. Build it from configuration, not from `Host` or `X-Forwarded-*` you do not control.
   */
  url: string;
  /** Request headers: a Fetch `Headers`, or Node's `IncomingHttpHeaders` / `headersDistinct`. */
  headers: RequestHeaders;
}

/** An access token that passed every check. */
export interface VerifiedAccessToken {
  /** `jwt` for an RFC 9068 JWT, `opaque` for a token checked by introspection. */
  token: 'jwt' | 'opaque';
  /** The JWT claims, or the introspection response. */
  claims: Record<string, unknown>;
  /** `sub`, when present. */
  subject?: string;
  /** The granted scopes (from the space-separated `scope`). */
  scopes: string[];
  /** `client_id` (or, failing that, `azp`), when present. */
  clientId?: string;
  /** The DPoP key binding, when the token is sender-constrained (RFC 9449 section 6). */
  bound?: {
    jkt: string;
  };
}

/** Verifies the access token on one request. Rejects with {@link GuardError}. */
export type AccessTokenVerifier = (request: AccessTokenRequest) => Promise<VerifiedAccessToken>;

/** Internals shared with the Express adapter. */
export interface VerifierInternals {
  verify: AccessTokenVerifier;
  /** The DPoP nonce to advertise now, when nonces are configured. */
  currentDpopNonce: () => string | undefined;
}

/** @internal */
export function createVerifierInternals(options: VerifyAccessTokenOptions): VerifierInternals {
  if (stryMutAct_9fa48("387")) {
    {}
  } else {
    stryCov_9fa48("387");
    const config = resolveOptions(options);
    const authentication = resolveAuthenticationRequirement(options);
    const resolveEndpoints = createEndpointResolver(config.issuer, config.fetch);
    const refuse = tokenRefusal(config.challenge);
    const jwts = new JwtAccessTokens(config, resolveEndpoints, refuse);
    const opaque = new OpaqueAccessTokens(config, resolveEndpoints, refuse);
    const proofs = (stryMutAct_9fa48("390") ? config.dpop !== undefined : stryMutAct_9fa48("389") ? false : stryMutAct_9fa48("388") ? true : (stryCov_9fa48("388", "389", "390"), config.dpop === undefined)) ? undefined : new DpopProofVerifier(config.dpop, config.challenge, stryMutAct_9fa48("391") ? {} : (stryCov_9fa48("391"), {
      store: config.store,
      audience: config.audience
    }));
    const telemetry = new LazyTelemetry(resolveTelemetryOptions(options));
    const check = async (request: AccessTokenRequest, scope: OperationScope): Promise<VerifiedAccessToken> => {
      if (stryMutAct_9fa48("392")) {
        {}
      } else {
        stryCov_9fa48("392");
        checkRequest(request);
        const {
          scheme: presentedScheme,
          token
        } = readAuthorization(request.headers, config.challenge);
        const scheme: GuardScheme = (stryMutAct_9fa48("395") ? presentedScheme !== 'dpop' : stryMutAct_9fa48("394") ? false : stryMutAct_9fa48("393") ? true : (stryCov_9fa48("393", "394", "395"), presentedScheme === (stryMutAct_9fa48("396") ? "" : (stryCov_9fa48("396"), 'dpop')))) ? stryMutAct_9fa48("397") ? "" : (stryCov_9fa48("397"), 'DPoP') : stryMutAct_9fa48("398") ? "" : (stryCov_9fa48("398"), 'Bearer');
        const kind = (stryMutAct_9fa48("401") ? token.split('.').length !== 3 : stryMutAct_9fa48("400") ? false : stryMutAct_9fa48("399") ? true : (stryCov_9fa48("399", "400", "401"), token.split(stryMutAct_9fa48("402") ? "" : (stryCov_9fa48("402"), '.')).length === 3)) ? stryMutAct_9fa48("403") ? "" : (stryCov_9fa48("403"), 'jwt') : stryMutAct_9fa48("404") ? "" : (stryCov_9fa48("404"), 'opaque');
        scope.tag(stryMutAct_9fa48("405") ? {} : (stryCov_9fa48("405"), {
          [ATTR.guardScheme]: scheme,
          [ATTR.guardMethod]: (stryMutAct_9fa48("408") ? kind !== 'jwt' : stryMutAct_9fa48("407") ? false : stryMutAct_9fa48("406") ? true : (stryCov_9fa48("406", "407", "408"), kind === (stryMutAct_9fa48("409") ? "" : (stryCov_9fa48("409"), 'jwt')))) ? stryMutAct_9fa48("410") ? "" : (stryCov_9fa48("410"), 'jwt') : stryMutAct_9fa48("411") ? "" : (stryCov_9fa48("411"), 'introspection')
        }));
        if (stryMutAct_9fa48("414") ? scheme === 'Bearer' || config.dpop?.required === true : stryMutAct_9fa48("413") ? false : stryMutAct_9fa48("412") ? true : (stryCov_9fa48("412", "413", "414"), (stryMutAct_9fa48("416") ? scheme !== 'Bearer' : stryMutAct_9fa48("415") ? true : (stryCov_9fa48("415", "416"), scheme === (stryMutAct_9fa48("417") ? "" : (stryCov_9fa48("417"), 'Bearer')))) && (stryMutAct_9fa48("419") ? config.dpop?.required !== true : stryMutAct_9fa48("418") ? true : (stryCov_9fa48("418", "419"), (stryMutAct_9fa48("420") ? config.dpop.required : (stryCov_9fa48("420"), config.dpop?.required)) === (stryMutAct_9fa48("421") ? false : (stryCov_9fa48("421"), true)))))) {
          if (stryMutAct_9fa48("422")) {
            {}
          } else {
            stryCov_9fa48("422");
            throw refuse(stryMutAct_9fa48("423") ? "" : (stryCov_9fa48("423"), 'invalid_token'), stryMutAct_9fa48("424") ? "" : (stryCov_9fa48("424"), 'this resource requires dpop-bound access tokens'), stryMutAct_9fa48("425") ? "" : (stryCov_9fa48("425"), 'DPoP'));
          }
        }
        const claims = (stryMutAct_9fa48("428") ? kind !== 'jwt' : stryMutAct_9fa48("427") ? false : stryMutAct_9fa48("426") ? true : (stryCov_9fa48("426", "427", "428"), kind === (stryMutAct_9fa48("429") ? "" : (stryCov_9fa48("429"), 'jwt')))) ? await jwts.verify(token, scheme) : await opaque.verify(token, scheme);
        const facts = readTokenFacts(claims, scheme, refuse);
        const {
          jkt
        } = facts;
        if (stryMutAct_9fa48("432") ? jkt === undefined : stryMutAct_9fa48("431") ? false : stryMutAct_9fa48("430") ? true : (stryCov_9fa48("430", "431", "432"), jkt !== undefined)) {
          if (stryMutAct_9fa48("433")) {
            {}
          } else {
            stryCov_9fa48("433");
            if (stryMutAct_9fa48("436") ? proofs !== undefined : stryMutAct_9fa48("435") ? false : stryMutAct_9fa48("434") ? true : (stryCov_9fa48("434", "435", "436"), proofs === undefined)) throw refuse(stryMutAct_9fa48("437") ? "" : (stryCov_9fa48("437"), 'invalid_token'), stryMutAct_9fa48("438") ? "" : (stryCov_9fa48("438"), 'dpop-bound access tokens are not accepted'), scheme);
            if (stryMutAct_9fa48("441") ? scheme !== 'Bearer' : stryMutAct_9fa48("440") ? false : stryMutAct_9fa48("439") ? true : (stryCov_9fa48("439", "440", "441"), scheme === (stryMutAct_9fa48("442") ? "" : (stryCov_9fa48("442"), 'Bearer')))) throw refuse(stryMutAct_9fa48("443") ? "" : (stryCov_9fa48("443"), 'invalid_token'), stryMutAct_9fa48("444") ? "" : (stryCov_9fa48("444"), 'dpop-bound access token presented as bearer'), stryMutAct_9fa48("445") ? "" : (stryCov_9fa48("445"), 'Bearer'));
            const htu = normalizeHtu(request.url);
            if (stryMutAct_9fa48("448") ? htu !== undefined : stryMutAct_9fa48("447") ? false : stryMutAct_9fa48("446") ? true : (stryCov_9fa48("446", "447", "448"), htu === undefined)) throw badRequest(stryMutAct_9fa48("449") ? "" : (stryCov_9fa48("449"), '"request.url" must be an absolute http(s) URL'));
            await proofs.verify(headerValues(request.headers, stryMutAct_9fa48("450") ? "" : (stryCov_9fa48("450"), 'dpop')), stryMutAct_9fa48("451") ? {} : (stryCov_9fa48("451"), {
              method: stryMutAct_9fa48("452") ? request.method.toLowerCase() : (stryCov_9fa48("452"), request.method.toUpperCase()),
              htu,
              token,
              jkt
            }), config.now());
          }
        } else if (stryMutAct_9fa48("455") ? scheme !== 'DPoP' : stryMutAct_9fa48("454") ? false : stryMutAct_9fa48("453") ? true : (stryCov_9fa48("453", "454", "455"), scheme === (stryMutAct_9fa48("456") ? "" : (stryCov_9fa48("456"), 'DPoP')))) {
          if (stryMutAct_9fa48("457")) {
            {}
          } else {
            stryCov_9fa48("457");
            throw refuse(stryMutAct_9fa48("458") ? "" : (stryCov_9fa48("458"), 'invalid_token'), stryMutAct_9fa48("459") ? "" : (stryCov_9fa48("459"), 'access token is not dpop-bound'), stryMutAct_9fa48("460") ? "" : (stryCov_9fa48("460"), 'DPoP'));
          }
        }
        const missing = stryMutAct_9fa48("461") ? config.scopes : (stryCov_9fa48("461"), config.scopes.filter(stryMutAct_9fa48("462") ? () => undefined : (stryCov_9fa48("462"), required => stryMutAct_9fa48("463") ? facts.scopes.includes(required) : (stryCov_9fa48("463"), !facts.scopes.includes(required)))));
        if (stryMutAct_9fa48("467") ? missing.length <= 0 : stryMutAct_9fa48("466") ? missing.length >= 0 : stryMutAct_9fa48("465") ? false : stryMutAct_9fa48("464") ? true : (stryCov_9fa48("464", "465", "466", "467"), missing.length > 0)) {
          if (stryMutAct_9fa48("468")) {
            {}
          } else {
            stryCov_9fa48("468");
            throw refuse(stryMutAct_9fa48("469") ? "" : (stryCov_9fa48("469"), 'insufficient_scope'), stryMutAct_9fa48("470") ? `` : (stryCov_9fa48("470"), `access token lacks scope ${missing.join(stryMutAct_9fa48("471") ? "" : (stryCov_9fa48("471"), ' '))}`), scheme, stryMutAct_9fa48("472") ? {} : (stryCov_9fa48("472"), {
              scope: config.scopes.join(stryMutAct_9fa48("473") ? "" : (stryCov_9fa48("473"), ' '))
            }));
          }
        }
        if (stryMutAct_9fa48("476") ? authentication === undefined : stryMutAct_9fa48("475") ? false : stryMutAct_9fa48("474") ? true : (stryCov_9fa48("474", "475", "476"), authentication !== undefined)) checkAuthentication(claims, authentication, config.now(), config.leewaySeconds, scheme, config.challenge);
        return verifiedToken(kind, claims, facts);
      }
    };
    const verify: AccessTokenVerifier = async request => {
      if (stryMutAct_9fa48("477")) {
        {}
      } else {
        stryCov_9fa48("477");
        const loaded = telemetry.get();
        const current = loaded instanceof Promise ? await loaded : loaded;
        if (stryMutAct_9fa48("480") ? false : stryMutAct_9fa48("479") ? true : stryMutAct_9fa48("478") ? current.enabled : (stryCov_9fa48("478", "479", "480"), !current.enabled)) return check(request, NOOP_SCOPE);
        return current.operation(stryMutAct_9fa48("481") ? {} : (stryCov_9fa48("481"), {
          span: SPAN.guardVerify,
          count: stryMutAct_9fa48("482") ? "" : (stryCov_9fa48("482"), 'guardVerifications'),
          duration: stryMutAct_9fa48("483") ? "" : (stryCov_9fa48("483"), 'guardVerificationDuration')
        }), stryMutAct_9fa48("484") ? () => undefined : (stryCov_9fa48("484"), scope => check(request, scope)));
      }
    };
    return stryMutAct_9fa48("485") ? {} : (stryCov_9fa48("485"), {
      verify,
      currentDpopNonce: stryMutAct_9fa48("486") ? () => undefined : (stryCov_9fa48("486"), () => stryMutAct_9fa48("487") ? proofs.currentNonce(config.now()) : (stryCov_9fa48("487"), proofs?.currentNonce(config.now())))
    });
  }
}
function verifiedToken(kind: 'jwt' | 'opaque', claims: Record<string, unknown>, facts: TokenFacts): VerifiedAccessToken {
  if (stryMutAct_9fa48("488")) {
    {}
  } else {
    stryCov_9fa48("488");
    const verified: VerifiedAccessToken = stryMutAct_9fa48("489") ? {} : (stryCov_9fa48("489"), {
      token: kind,
      claims,
      scopes: facts.scopes
    });
    if (stryMutAct_9fa48("492") ? facts.subject === undefined : stryMutAct_9fa48("491") ? false : stryMutAct_9fa48("490") ? true : (stryCov_9fa48("490", "491", "492"), facts.subject !== undefined)) verified.subject = facts.subject;
    if (stryMutAct_9fa48("495") ? facts.clientId === undefined : stryMutAct_9fa48("494") ? false : stryMutAct_9fa48("493") ? true : (stryCov_9fa48("493", "494", "495"), facts.clientId !== undefined)) verified.clientId = facts.clientId;
    if (stryMutAct_9fa48("498") ? facts.jkt === undefined : stryMutAct_9fa48("497") ? false : stryMutAct_9fa48("496") ? true : (stryCov_9fa48("496", "497", "498"), facts.jkt !== undefined)) verified.bound = stryMutAct_9fa48("499") ? {} : (stryCov_9fa48("499"), {
      jkt: facts.jkt
    });
    return verified;
  }
}

/** A caller's mistake, not the client's: `invalid_argument`, never a {@link GuardError}. */
function badRequest(message: string): ResourceTokensError {
  if (stryMutAct_9fa48("500")) {
    {}
  } else {
    stryCov_9fa48("500");
    return new ResourceTokensError(stryMutAct_9fa48("501") ? "" : (stryCov_9fa48("501"), 'invalid_argument'), message);
  }
}
function checkRequest(request: AccessTokenRequest): void {
  if (stryMutAct_9fa48("502")) {
    {}
  } else {
    stryCov_9fa48("502");
    if (stryMutAct_9fa48("505") ? typeof request !== 'object' && request === null : stryMutAct_9fa48("504") ? false : stryMutAct_9fa48("503") ? true : (stryCov_9fa48("503", "504", "505"), (stryMutAct_9fa48("507") ? typeof request === 'object' : stryMutAct_9fa48("506") ? false : (stryCov_9fa48("506", "507"), typeof request !== (stryMutAct_9fa48("508") ? "" : (stryCov_9fa48("508"), 'object')))) || (stryMutAct_9fa48("510") ? request !== null : stryMutAct_9fa48("509") ? false : (stryCov_9fa48("509", "510"), request === null)))) throw badRequest(stryMutAct_9fa48("511") ? "" : (stryCov_9fa48("511"), 'request must be an object'));
    if (stryMutAct_9fa48("514") ? typeof request.method !== 'string' && request.method.length === 0 : stryMutAct_9fa48("513") ? false : stryMutAct_9fa48("512") ? true : (stryCov_9fa48("512", "513", "514"), (stryMutAct_9fa48("516") ? typeof request.method === 'string' : stryMutAct_9fa48("515") ? false : (stryCov_9fa48("515", "516"), typeof request.method !== (stryMutAct_9fa48("517") ? "" : (stryCov_9fa48("517"), 'string')))) || (stryMutAct_9fa48("519") ? request.method.length !== 0 : stryMutAct_9fa48("518") ? false : (stryCov_9fa48("518", "519"), request.method.length === 0)))) throw badRequest(stryMutAct_9fa48("520") ? "" : (stryCov_9fa48("520"), '"request.method" must be a non-empty string'));
    if (stryMutAct_9fa48("523") ? typeof request.url === 'string' : stryMutAct_9fa48("522") ? false : stryMutAct_9fa48("521") ? true : (stryCov_9fa48("521", "522", "523"), typeof request.url !== (stryMutAct_9fa48("524") ? "" : (stryCov_9fa48("524"), 'string')))) throw badRequest(stryMutAct_9fa48("525") ? "" : (stryCov_9fa48("525"), '"request.url" must be a string'));
    if (stryMutAct_9fa48("528") ? typeof request.headers !== 'object' && request.headers === null : stryMutAct_9fa48("527") ? false : stryMutAct_9fa48("526") ? true : (stryCov_9fa48("526", "527", "528"), (stryMutAct_9fa48("530") ? typeof request.headers === 'object' : stryMutAct_9fa48("529") ? false : (stryCov_9fa48("529", "530"), typeof request.headers !== (stryMutAct_9fa48("531") ? "" : (stryCov_9fa48("531"), 'object')))) || (stryMutAct_9fa48("533") ? request.headers !== null : stryMutAct_9fa48("532") ? false : (stryCov_9fa48("532", "533"), request.headers === null)))) throw badRequest(stryMutAct_9fa48("534") ? "" : (stryCov_9fa48("534"), '"request.headers" must be an object'));
  }
}

/**
 * Creates a verifier for a resource server: it reads the access token from `Authorization`, checks a JWT
 * (RFC 9068: `typ` `at+jwt`, signature by the issuer's JWKS, `iss`, `aud`, `exp`, `nbf`) or introspects an
 * opaque token (RFC 7662), checks a DPoP proof for sender-constrained tokens (RFC 9449 section 7), then the
 * required scopes. Keys, discovery and introspection answers are cached in the verifier: create it once.
 *
 * @param options - see {@link VerifyAccessTokenOptions}
 * @returns a function verifying one request, resolving to the {@link VerifiedAccessToken}
 * @throws {ResourceTokensConfigError} at once, for bad options
 * @throws {GuardError} (rejection) when the request is refused; answer with `err.challenge()`
 * @throws {ResourceTokensError} (rejection) `discovery_failed` when the issuer's discovery document or JWKS
 *   cannot be fetched, `introspection_failed` when introspection fails: the
 *   request could not be judged, answer 503; `invalid_argument` when `request` itself is malformed (a bug
 *   in the caller, answer 500)
 * @see RFC 6750 section 2.1 and 3, RFC 9068 section 4, RFC 7662 section 2, RFC 9449 sections 4.3 and 7
 * @example
 * ```ts
 * const verify = createAccessTokenVerifier({
 *   issuer: 'https://as.example.com',
 *   audience: 'https://api.example.com',
 *   scopes: ['orders:read'],
 *   dpop: {},
 * })
 * const token = await verify({ method: 'GET', url: 'https://api.example.com/orders', headers: request.headers })
 * console.log(token.subject, token.scopes)
 * ```
 */
export function createAccessTokenVerifier(options: VerifyAccessTokenOptions): AccessTokenVerifier {
  if (stryMutAct_9fa48("535")) {
    {}
  } else {
    stryCov_9fa48("535");
    return createVerifierInternals(options).verify;
  }
}
const verifiers = new WeakMap<VerifyAccessTokenOptions, AccessTokenVerifier>();

/**
 * Verifies the access token on one request, like a verifier from {@link createAccessTokenVerifier}
 * that is cached per `options` object (so JWKS, discovery and introspection caches persist): pass the
 * same object every time. Options are read on the first call; later changes to the object are ignored.
 *
 * @param request - method, absolute URL and headers of the request
 * @param options - see {@link VerifyAccessTokenOptions}
 * @returns the {@link VerifiedAccessToken}
 * @throws {ResourceTokensConfigError} for bad options
 * @throws {GuardError} when the request is refused
 * @throws {ResourceTokensError} when the issuer or its introspection endpoint cannot be reached
 * @see RFC 9068 section 4, RFC 6750 section 2.1, RFC 9449 section 7
 * @example
 * ```ts
 * const options = { issuer: 'https://as.example.com', audience: 'https://api.example.com' }
 * const token = await verifyAccessToken({ method: 'GET', url, headers }, options)
 * ```
 */
export async function verifyAccessToken(request: AccessTokenRequest, options: VerifyAccessTokenOptions): Promise<VerifiedAccessToken> {
  if (stryMutAct_9fa48("536")) {
    {}
  } else {
    stryCov_9fa48("536");
    let verify = verifiers.get(options);
    if (stryMutAct_9fa48("539") ? verify !== undefined : stryMutAct_9fa48("538") ? false : stryMutAct_9fa48("537") ? true : (stryCov_9fa48("537", "538", "539"), verify === undefined)) {
      if (stryMutAct_9fa48("540")) {
        {}
      } else {
        stryCov_9fa48("540");
        verify = createAccessTokenVerifier(options); // validates options (throws for a non-object) before caching
        verifiers.set(options, verify);
      }
    }
    return verify(request);
  }
}