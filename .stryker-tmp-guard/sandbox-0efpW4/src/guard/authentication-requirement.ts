// @ts-nocheck
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
import { ResourceTokensConfigError } from '../errors/resource-tokens-error.js';
import { GuardError, type GuardChallengeContext, type GuardScheme } from './guard-error.js';

/** RFC 9470 requirements of one verifier (one route): acceptable `acr` values, most seconds since authentication. */
export interface AuthenticationRequirement {
  readonly acrValues: readonly string[] | undefined;
  readonly maxAgeSeconds: number | undefined;
}
const ACR_VALUE = stryMutAct_9fa48("90") ? /^[^\x21\x23-\x5b\x5d-\x7e]{1,256}$/ : stryMutAct_9fa48("89") ? /^[\x21\x23-\x5b\x5d-\x7e]$/ : stryMutAct_9fa48("88") ? /^[\x21\x23-\x5b\x5d-\x7e]{1,256}/ : stryMutAct_9fa48("87") ? /[\x21\x23-\x5b\x5d-\x7e]{1,256}$/ : (stryCov_9fa48("87", "88", "89", "90"), /^[\x21\x23-\x5b\x5d-\x7e]{1,256}$/);

/** Validates the `acrValues` and `maxAgeSeconds` options; `undefined` when neither is set. */
export function resolveAuthenticationRequirement(options: {
  acrValues?: readonly string[] | undefined;
  maxAgeSeconds?: number | undefined;
}): AuthenticationRequirement | undefined {
  if (stryMutAct_9fa48("91")) {
    {}
  } else {
    stryCov_9fa48("91");
    const {
      acrValues,
      maxAgeSeconds
    } = options;
    if (stryMutAct_9fa48("94") ? acrValues === undefined || maxAgeSeconds === undefined : stryMutAct_9fa48("93") ? false : stryMutAct_9fa48("92") ? true : (stryCov_9fa48("92", "93", "94"), (stryMutAct_9fa48("96") ? acrValues !== undefined : stryMutAct_9fa48("95") ? true : (stryCov_9fa48("95", "96"), acrValues === undefined)) && (stryMutAct_9fa48("98") ? maxAgeSeconds !== undefined : stryMutAct_9fa48("97") ? true : (stryCov_9fa48("97", "98"), maxAgeSeconds === undefined)))) return undefined;
    if (stryMutAct_9fa48("101") ? acrValues !== undefined || !Array.isArray(acrValues) || acrValues.length === 0 || !acrValues.every(v => typeof v === 'string' && ACR_VALUE.test(v)) : stryMutAct_9fa48("100") ? false : stryMutAct_9fa48("99") ? true : (stryCov_9fa48("99", "100", "101"), (stryMutAct_9fa48("103") ? acrValues === undefined : stryMutAct_9fa48("102") ? true : (stryCov_9fa48("102", "103"), acrValues !== undefined)) && (stryMutAct_9fa48("105") ? (!Array.isArray(acrValues) || acrValues.length === 0) && !acrValues.every(v => typeof v === 'string' && ACR_VALUE.test(v)) : stryMutAct_9fa48("104") ? true : (stryCov_9fa48("104", "105"), (stryMutAct_9fa48("107") ? !Array.isArray(acrValues) && acrValues.length === 0 : stryMutAct_9fa48("106") ? false : (stryCov_9fa48("106", "107"), (stryMutAct_9fa48("108") ? Array.isArray(acrValues) : (stryCov_9fa48("108"), !Array.isArray(acrValues))) || (stryMutAct_9fa48("110") ? acrValues.length !== 0 : stryMutAct_9fa48("109") ? false : (stryCov_9fa48("109", "110"), acrValues.length === 0)))) || (stryMutAct_9fa48("111") ? acrValues.every(v => typeof v === 'string' && ACR_VALUE.test(v)) : (stryCov_9fa48("111"), !(stryMutAct_9fa48("112") ? acrValues.some(v => typeof v === 'string' && ACR_VALUE.test(v)) : (stryCov_9fa48("112"), acrValues.every(stryMutAct_9fa48("113") ? () => undefined : (stryCov_9fa48("113"), v => stryMutAct_9fa48("116") ? typeof v === 'string' || ACR_VALUE.test(v) : stryMutAct_9fa48("115") ? false : stryMutAct_9fa48("114") ? true : (stryCov_9fa48("114", "115", "116"), (stryMutAct_9fa48("118") ? typeof v !== 'string' : stryMutAct_9fa48("117") ? true : (stryCov_9fa48("117", "118"), typeof v === (stryMutAct_9fa48("119") ? "" : (stryCov_9fa48("119"), 'string')))) && ACR_VALUE.test(v)))))))))))) {
      if (stryMutAct_9fa48("120")) {
        {}
      } else {
        stryCov_9fa48("120");
        throw new ResourceTokensConfigError(stryMutAct_9fa48("121") ? "" : (stryCov_9fa48("121"), '"acrValues" must be a non-empty array of acr values (no spaces or quotes)'));
      }
    }
    if (stryMutAct_9fa48("124") ? maxAgeSeconds !== undefined || typeof maxAgeSeconds !== 'number' || !Number.isInteger(maxAgeSeconds) || maxAgeSeconds < 0 : stryMutAct_9fa48("123") ? false : stryMutAct_9fa48("122") ? true : (stryCov_9fa48("122", "123", "124"), (stryMutAct_9fa48("126") ? maxAgeSeconds === undefined : stryMutAct_9fa48("125") ? true : (stryCov_9fa48("125", "126"), maxAgeSeconds !== undefined)) && (stryMutAct_9fa48("128") ? (typeof maxAgeSeconds !== 'number' || !Number.isInteger(maxAgeSeconds)) && maxAgeSeconds < 0 : stryMutAct_9fa48("127") ? true : (stryCov_9fa48("127", "128"), (stryMutAct_9fa48("130") ? typeof maxAgeSeconds !== 'number' && !Number.isInteger(maxAgeSeconds) : stryMutAct_9fa48("129") ? false : (stryCov_9fa48("129", "130"), (stryMutAct_9fa48("132") ? typeof maxAgeSeconds === 'number' : stryMutAct_9fa48("131") ? false : (stryCov_9fa48("131", "132"), typeof maxAgeSeconds !== (stryMutAct_9fa48("133") ? "" : (stryCov_9fa48("133"), 'number')))) || (stryMutAct_9fa48("134") ? Number.isInteger(maxAgeSeconds) : (stryCov_9fa48("134"), !Number.isInteger(maxAgeSeconds))))) || (stryMutAct_9fa48("137") ? maxAgeSeconds >= 0 : stryMutAct_9fa48("136") ? maxAgeSeconds <= 0 : stryMutAct_9fa48("135") ? false : (stryCov_9fa48("135", "136", "137"), maxAgeSeconds < 0)))))) {
      if (stryMutAct_9fa48("138")) {
        {}
      } else {
        stryCov_9fa48("138");
        throw new ResourceTokensConfigError(stryMutAct_9fa48("139") ? "" : (stryCov_9fa48("139"), '"maxAgeSeconds" must be an integer of at least 0'));
      }
    }
    return stryMutAct_9fa48("140") ? {} : (stryCov_9fa48("140"), {
      acrValues,
      maxAgeSeconds
    });
  }
}

/**
 * RFC 9470 section 3: refuses a token whose `acr` is not one of those required, or whose `auth_time` is
 * older than allowed (or absent), with `insufficient_user_authentication` and a challenge that says what
 * would do. The client library turns that challenge into the login parameters of a step-up.
 */
export function checkAuthentication(claims: Record<string, unknown>, requirement: AuthenticationRequirement, nowMs: number, leewaySeconds: number, scheme: GuardScheme, challenge: GuardChallengeContext): void {
  if (stryMutAct_9fa48("141")) {
    {}
  } else {
    stryCov_9fa48("141");
    const refusal = stryMutAct_9fa48("142") ? () => undefined : (stryCov_9fa48("142"), (() => {
      const refusal = (description: string): GuardError => new GuardError(stryMutAct_9fa48("143") ? "" : (stryCov_9fa48("143"), 'insufficient_user_authentication'), description, stryMutAct_9fa48("144") ? {} : (stryCov_9fa48("144"), {
        scheme,
        challenge,
        ...((stryMutAct_9fa48("147") ? requirement.acrValues !== undefined : stryMutAct_9fa48("146") ? false : stryMutAct_9fa48("145") ? true : (stryCov_9fa48("145", "146", "147"), requirement.acrValues === undefined)) ? {} : stryMutAct_9fa48("148") ? {} : (stryCov_9fa48("148"), {
          acrValues: requirement.acrValues.join(stryMutAct_9fa48("149") ? "" : (stryCov_9fa48("149"), ' '))
        })),
        ...((stryMutAct_9fa48("152") ? requirement.maxAgeSeconds !== undefined : stryMutAct_9fa48("151") ? false : stryMutAct_9fa48("150") ? true : (stryCov_9fa48("150", "151", "152"), requirement.maxAgeSeconds === undefined)) ? {} : stryMutAct_9fa48("153") ? {} : (stryCov_9fa48("153"), {
          maxAge: requirement.maxAgeSeconds
        }))
      }));
      return refusal;
    })());
    if (stryMutAct_9fa48("156") ? requirement.acrValues === undefined : stryMutAct_9fa48("155") ? false : stryMutAct_9fa48("154") ? true : (stryCov_9fa48("154", "155", "156"), requirement.acrValues !== undefined)) {
      if (stryMutAct_9fa48("157")) {
        {}
      } else {
        stryCov_9fa48("157");
        const acr = claims[stryMutAct_9fa48("158") ? "" : (stryCov_9fa48("158"), 'acr')];
        if (stryMutAct_9fa48("161") ? typeof acr !== 'string' && !requirement.acrValues.includes(acr) : stryMutAct_9fa48("160") ? false : stryMutAct_9fa48("159") ? true : (stryCov_9fa48("159", "160", "161"), (stryMutAct_9fa48("163") ? typeof acr === 'string' : stryMutAct_9fa48("162") ? false : (stryCov_9fa48("162", "163"), typeof acr !== (stryMutAct_9fa48("164") ? "" : (stryCov_9fa48("164"), 'string')))) || (stryMutAct_9fa48("165") ? requirement.acrValues.includes(acr) : (stryCov_9fa48("165"), !requirement.acrValues.includes(acr))))) throw refusal(stryMutAct_9fa48("166") ? "" : (stryCov_9fa48("166"), 'a stronger authentication is required'));
      }
    }
    if (stryMutAct_9fa48("169") ? requirement.maxAgeSeconds === undefined : stryMutAct_9fa48("168") ? false : stryMutAct_9fa48("167") ? true : (stryCov_9fa48("167", "168", "169"), requirement.maxAgeSeconds !== undefined)) {
      if (stryMutAct_9fa48("170")) {
        {}
      } else {
        stryCov_9fa48("170");
        const authTime = claims[stryMutAct_9fa48("171") ? "" : (stryCov_9fa48("171"), 'auth_time')];
        if (stryMutAct_9fa48("174") ? typeof authTime !== 'number' && nowMs / 1000 - authTime > requirement.maxAgeSeconds + leewaySeconds : stryMutAct_9fa48("173") ? false : stryMutAct_9fa48("172") ? true : (stryCov_9fa48("172", "173", "174"), (stryMutAct_9fa48("176") ? typeof authTime === 'number' : stryMutAct_9fa48("175") ? false : (stryCov_9fa48("175", "176"), typeof authTime !== (stryMutAct_9fa48("177") ? "" : (stryCov_9fa48("177"), 'number')))) || (stryMutAct_9fa48("180") ? nowMs / 1000 - authTime <= requirement.maxAgeSeconds + leewaySeconds : stryMutAct_9fa48("179") ? nowMs / 1000 - authTime >= requirement.maxAgeSeconds + leewaySeconds : stryMutAct_9fa48("178") ? false : (stryCov_9fa48("178", "179", "180"), (stryMutAct_9fa48("181") ? nowMs / 1000 + authTime : (stryCov_9fa48("181"), (stryMutAct_9fa48("182") ? nowMs * 1000 : (stryCov_9fa48("182"), nowMs / 1000)) - authTime)) > (stryMutAct_9fa48("183") ? requirement.maxAgeSeconds - leewaySeconds : (stryCov_9fa48("183"), requirement.maxAgeSeconds + leewaySeconds)))))) throw refusal(stryMutAct_9fa48("184") ? "" : (stryCov_9fa48("184"), 'a more recent authentication is required'));
      }
    }
  }
}