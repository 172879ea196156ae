// @ts-nocheck
// RFC 9068 JWT access tokens: signature by the issuer's JWKS (jose, with its refetch cooldown), `typ`,
// `iss`, `aud`, `exp`, `nbf`. A failure to reach the issuer is a ResourceTokensError, never a refusal.
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
import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTVerifyOptions, type JWTVerifyResult } from 'jose';
import { ResourceTokensError } from '../errors/resource-tokens-error.js';
import type { AuthorizationServerEndpoints } from './authorization-server-metadata.js';
import type { GuardScheme, TokenRefusal } from './guard-error.js';
import type { ResolvedOptions } from './resolve-options.js';
type JwksFunction = ReturnType<typeof createRemoteJWKSet>;

// Marks a failure to reach the issuer while resolving a key, so it is not mistaken for a bad token.
class KeySourceUnavailable extends Error {}
export class JwtAccessTokens {
  readonly #config: ResolvedOptions;
  readonly #resolveEndpoints: () => Promise<AuthorizationServerEndpoints>;
  readonly #refuse: TokenRefusal;
  #jwks: Promise<JwksFunction> | undefined;
  constructor(config: ResolvedOptions, resolveEndpoints: () => Promise<AuthorizationServerEndpoints>, refuse: TokenRefusal) {
    if (stryMutAct_9fa48("185")) {
      {}
    } else {
      stryCov_9fa48("185");
      this.#config = config;
      this.#resolveEndpoints = resolveEndpoints;
      this.#refuse = refuse;
    }
  }

  /** The verified claims of `token`. Throws a refusal, or `discovery_failed` when the keys cannot be fetched. */
  async verify(token: string, scheme: GuardScheme): Promise<Record<string, unknown>> {
    if (stryMutAct_9fa48("186")) {
      {}
    } else {
      stryCov_9fa48("186");
      const config = this.#config;
      const verifyOptions: JWTVerifyOptions = stryMutAct_9fa48("187") ? {} : (stryCov_9fa48("187"), {
        issuer: config.issuer,
        audience: config.audience,
        algorithms: config.algorithms,
        typ: stryMutAct_9fa48("188") ? "" : (stryCov_9fa48("188"), 'at+jwt'),
        // jose compares media types, so `application/at+jwt` passes too
        clockTolerance: config.leewaySeconds,
        requiredClaims: stryMutAct_9fa48("189") ? [] : (stryCov_9fa48("189"), [stryMutAct_9fa48("190") ? "" : (stryCov_9fa48("190"), 'exp')]),
        currentDate: new Date(config.now())
      });
      try {
        if (stryMutAct_9fa48("191")) {
          {}
        } else {
          stryCov_9fa48("191");
          return (await this.#verifyWithJwks(token, verifyOptions)).payload;
        }
      } catch (err) {
        if (stryMutAct_9fa48("192")) {
          {}
        } else {
          stryCov_9fa48("192");
          if (stryMutAct_9fa48("195") ? false : stryMutAct_9fa48("194") ? true : stryMutAct_9fa48("193") ? err instanceof KeySourceUnavailable : (stryCov_9fa48("193", "194", "195"), !(err instanceof KeySourceUnavailable))) throw this.#refuse(stryMutAct_9fa48("196") ? "" : (stryCov_9fa48("196"), 'invalid_token'), describeJwtFailure(err), scheme, stryMutAct_9fa48("197") ? {} : (stryCov_9fa48("197"), {
            cause: err
          }));
          const cause = err.cause;
          if (stryMutAct_9fa48("199") ? false : stryMutAct_9fa48("198") ? true : (stryCov_9fa48("198", "199"), cause instanceof ResourceTokensError)) throw cause;
          throw new ResourceTokensError(stryMutAct_9fa48("200") ? "" : (stryCov_9fa48("200"), 'discovery_failed'), stryMutAct_9fa48("201") ? `` : (stryCov_9fa48("201"), `could not fetch the json web key set of ${config.issuer}`), stryMutAct_9fa48("202") ? {} : (stryCov_9fa48("202"), {
            cause
          }));
        }
      }
    }
  }
  async #verifyWithJwks(token: string, options: JWTVerifyOptions): Promise<JWTVerifyResult> {
    if (stryMutAct_9fa48("203")) {
      {}
    } else {
      stryCov_9fa48("203");
      try {
        if (stryMutAct_9fa48("204")) {
          {}
        } else {
          stryCov_9fa48("204");
          return await jwtVerify(token, stryMutAct_9fa48("205") ? () => undefined : (stryCov_9fa48("205"), (header, jws) => this.#key(header, jws)), options);
        }
      } catch (err) {
        if (stryMutAct_9fa48("206")) {
          {}
        } else {
          stryCov_9fa48("206");
          // Several keys fit a token without `kid`: try each (see jose's createRemoteJWKSet docs).
          if (stryMutAct_9fa48("209") ? false : stryMutAct_9fa48("208") ? true : stryMutAct_9fa48("207") ? err instanceof errors.JWKSMultipleMatchingKeys : (stryCov_9fa48("207", "208", "209"), !(err instanceof errors.JWKSMultipleMatchingKeys))) throw err;
          return verifyWithAnyKey(token, err, options);
        }
      }
    }
  }
  async #key(...args: Parameters<JwksFunction>): ReturnType<JwksFunction> {
    if (stryMutAct_9fa48("210")) {
      {}
    } else {
      stryCov_9fa48("210");
      let keys: JwksFunction;
      try {
        if (stryMutAct_9fa48("211")) {
          {}
        } else {
          stryCov_9fa48("211");
          keys = await this.#getJwks();
        }
      } catch (cause) {
        if (stryMutAct_9fa48("212")) {
          {}
        } else {
          stryCov_9fa48("212");
          throw new KeySourceUnavailable(stryMutAct_9fa48("213") ? "" : (stryCov_9fa48("213"), 'jwks unavailable'), stryMutAct_9fa48("214") ? {} : (stryCov_9fa48("214"), {
            cause
          }));
        }
      }
      try {
        if (stryMutAct_9fa48("215")) {
          {}
        } else {
          stryCov_9fa48("215");
          return await keys(...args);
        }
      } catch (err) {
        if (stryMutAct_9fa48("216")) {
          {}
        } else {
          stryCov_9fa48("216");
          if (stryMutAct_9fa48("219") ? err instanceof errors.JWKSNoMatchingKey && err instanceof errors.JWKSMultipleMatchingKeys : stryMutAct_9fa48("218") ? false : stryMutAct_9fa48("217") ? true : (stryCov_9fa48("217", "218", "219"), err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys)) throw err;
          throw new KeySourceUnavailable(stryMutAct_9fa48("220") ? "" : (stryCov_9fa48("220"), 'jwks unavailable'), stryMutAct_9fa48("221") ? {} : (stryCov_9fa48("221"), {
            cause: err
          }));
        }
      }
    }
  }
  #getJwks(): Promise<JwksFunction> {
    if (stryMutAct_9fa48("222")) {
      {}
    } else {
      stryCov_9fa48("222");
      const config = this.#config;
      stryMutAct_9fa48("223") ? this.#jwks &&= (async () => {
        const url = config.jwksUri ?? (await this.#resolveEndpoints()).jwksUri;
        if (url === undefined) throw new ResourceTokensError('discovery_failed', `the discovery document of ${config.issuer} has no "jwks_uri"`);
        return createRemoteJWKSet(url, {
          cooldownDuration: config.jwksCooldownMs,
          [customFetch]: (input, init) => config.fetch(input, init)
        });
      })().catch((err: unknown) => {
        this.#jwks = undefined;
        throw err;
      }) : (stryCov_9fa48("223"), this.#jwks ??= (async () => {
        if (stryMutAct_9fa48("224")) {
          {}
        } else {
          stryCov_9fa48("224");
          const url = stryMutAct_9fa48("225") ? config.jwksUri && (await this.#resolveEndpoints()).jwksUri : (stryCov_9fa48("225"), config.jwksUri ?? (await this.#resolveEndpoints()).jwksUri);
          if (stryMutAct_9fa48("228") ? url !== undefined : stryMutAct_9fa48("227") ? false : stryMutAct_9fa48("226") ? true : (stryCov_9fa48("226", "227", "228"), url === undefined)) throw new ResourceTokensError(stryMutAct_9fa48("229") ? "" : (stryCov_9fa48("229"), 'discovery_failed'), stryMutAct_9fa48("230") ? `` : (stryCov_9fa48("230"), `the discovery document of ${config.issuer} has no "jwks_uri"`));
          return createRemoteJWKSet(url, stryMutAct_9fa48("231") ? {} : (stryCov_9fa48("231"), {
            cooldownDuration: config.jwksCooldownMs,
            [customFetch]: stryMutAct_9fa48("232") ? () => undefined : (stryCov_9fa48("232"), (input, init) => config.fetch(input, init))
          }));
        }
      })().catch((err: unknown) => {
        if (stryMutAct_9fa48("233")) {
          {}
        } else {
          stryCov_9fa48("233");
          this.#jwks = undefined;
          throw err;
        }
      }));
      return this.#jwks;
    }
  }
}
async function verifyWithAnyKey(token: string, candidates: errors.JWKSMultipleMatchingKeys, options: JWTVerifyOptions): Promise<JWTVerifyResult> {
  if (stryMutAct_9fa48("234")) {
    {}
  } else {
    stryCov_9fa48("234");
    let lastError: unknown = candidates;
    for await (const key of candidates) {
      if (stryMutAct_9fa48("235")) {
        {}
      } else {
        stryCov_9fa48("235");
        try {
          if (stryMutAct_9fa48("236")) {
            {}
          } else {
            stryCov_9fa48("236");
            return await jwtVerify(token, key, options);
          }
        } catch (err) {
          if (stryMutAct_9fa48("237")) {
            {}
          } else {
            stryCov_9fa48("237");
            lastError = err;
            if (stryMutAct_9fa48("240") ? false : stryMutAct_9fa48("239") ? true : stryMutAct_9fa48("238") ? err instanceof errors.JWSSignatureVerificationFailed : (stryCov_9fa48("238", "239", "240"), !(err instanceof errors.JWSSignatureVerificationFailed))) break;
          }
        }
      }
    }
    throw lastError;
  }
}
function describeJwtFailure(err: unknown): string {
  if (stryMutAct_9fa48("241")) {
    {}
  } else {
    stryCov_9fa48("241");
    if (stryMutAct_9fa48("243") ? false : stryMutAct_9fa48("242") ? true : (stryCov_9fa48("242", "243"), err instanceof errors.JWTExpired)) return stryMutAct_9fa48("244") ? "" : (stryCov_9fa48("244"), 'access token expired');
    if (stryMutAct_9fa48("246") ? false : stryMutAct_9fa48("245") ? true : (stryCov_9fa48("245", "246"), err instanceof errors.JOSEAlgNotAllowed)) return stryMutAct_9fa48("247") ? "" : (stryCov_9fa48("247"), 'access token alg is not allowed');
    if (stryMutAct_9fa48("249") ? false : stryMutAct_9fa48("248") ? true : (stryCov_9fa48("248", "249"), err instanceof errors.JWSSignatureVerificationFailed)) return stryMutAct_9fa48("250") ? "" : (stryCov_9fa48("250"), 'access token signature is invalid');
    if (stryMutAct_9fa48("252") ? false : stryMutAct_9fa48("251") ? true : (stryCov_9fa48("251", "252"), err instanceof errors.JWKSNoMatchingKey)) return stryMutAct_9fa48("253") ? "" : (stryCov_9fa48("253"), 'no key of the issuer matches the access token');
    if (stryMutAct_9fa48("255") ? false : stryMutAct_9fa48("254") ? true : (stryCov_9fa48("254", "255"), err instanceof errors.JWTClaimValidationFailed)) {
      if (stryMutAct_9fa48("256")) {
        {}
      } else {
        stryCov_9fa48("256");
        if (stryMutAct_9fa48("259") ? err.reason !== 'missing' : stryMutAct_9fa48("258") ? false : stryMutAct_9fa48("257") ? true : (stryCov_9fa48("257", "258", "259"), err.reason === (stryMutAct_9fa48("260") ? "" : (stryCov_9fa48("260"), 'missing')))) return stryMutAct_9fa48("261") ? `` : (stryCov_9fa48("261"), `access token is missing the "${err.claim}" claim`);
        switch (err.claim) {
          case stryMutAct_9fa48("263") ? "" : (stryCov_9fa48("263"), 'typ'):
            if (stryMutAct_9fa48("262")) {} else {
              stryCov_9fa48("262");
              return stryMutAct_9fa48("264") ? "" : (stryCov_9fa48("264"), 'access token typ must be at+jwt');
            }
          case stryMutAct_9fa48("266") ? "" : (stryCov_9fa48("266"), 'iss'):
            if (stryMutAct_9fa48("265")) {} else {
              stryCov_9fa48("265");
              return stryMutAct_9fa48("267") ? "" : (stryCov_9fa48("267"), 'access token has an unexpected issuer');
            }
          case stryMutAct_9fa48("269") ? "" : (stryCov_9fa48("269"), 'aud'):
            if (stryMutAct_9fa48("268")) {} else {
              stryCov_9fa48("268");
              return stryMutAct_9fa48("270") ? "" : (stryCov_9fa48("270"), 'access token is not intended for this resource');
            }
          case stryMutAct_9fa48("272") ? "" : (stryCov_9fa48("272"), 'nbf'):
            if (stryMutAct_9fa48("271")) {} else {
              stryCov_9fa48("271");
              return stryMutAct_9fa48("273") ? "" : (stryCov_9fa48("273"), 'access token is not yet valid');
            }
          default:
            if (stryMutAct_9fa48("274")) {} else {
              stryCov_9fa48("274");
              return stryMutAct_9fa48("275") ? `` : (stryCov_9fa48("275"), `access token "${err.claim}" claim is invalid`);
            }
        }
      }
    }
    return stryMutAct_9fa48("276") ? "" : (stryCov_9fa48("276"), 'malformed access token');
  }
}