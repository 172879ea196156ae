// @ts-nocheck
// The claims every verified token is read for, whichever way it was checked (JWT or introspection):
// `sub`, `scope`, `client_id` / `azp` and the DPoP binding `cnf.jkt` (RFC 9449 section 6).
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
import type { GuardScheme, TokenRefusal } from './guard-error.js';
export interface TokenFacts {
  subject: string | undefined;
  scopes: string[];
  clientId: string | undefined;
  /** `cnf.jkt`, when the token is DPoP-bound. */
  jkt: string | undefined;
}

/** Reads and type-checks the claims the guard relies on. Throws an `invalid_token` refusal. */
export function readTokenFacts(claims: Record<string, unknown>, scheme: GuardScheme, refuse: TokenRefusal): TokenFacts {
  if (stryMutAct_9fa48("0")) {
    {}
  } else {
    stryCov_9fa48("0");
    const {
      sub,
      scope
    } = claims;
    const clientId = (stryMutAct_9fa48("3") ? typeof claims['client_id'] !== 'string' : stryMutAct_9fa48("2") ? false : stryMutAct_9fa48("1") ? true : (stryCov_9fa48("1", "2", "3"), typeof claims[stryMutAct_9fa48("4") ? "" : (stryCov_9fa48("4"), 'client_id')] === (stryMutAct_9fa48("5") ? "" : (stryCov_9fa48("5"), 'string')))) ? claims[stryMutAct_9fa48("6") ? "" : (stryCov_9fa48("6"), 'client_id')] : claims[stryMutAct_9fa48("7") ? "" : (stryCov_9fa48("7"), 'azp')];
    if (stryMutAct_9fa48("10") ? sub !== undefined || typeof sub !== 'string' : stryMutAct_9fa48("9") ? false : stryMutAct_9fa48("8") ? true : (stryCov_9fa48("8", "9", "10"), (stryMutAct_9fa48("12") ? sub === undefined : stryMutAct_9fa48("11") ? true : (stryCov_9fa48("11", "12"), sub !== undefined)) && (stryMutAct_9fa48("14") ? typeof sub === 'string' : stryMutAct_9fa48("13") ? true : (stryCov_9fa48("13", "14"), typeof sub !== (stryMutAct_9fa48("15") ? "" : (stryCov_9fa48("15"), 'string')))))) throw refuse(stryMutAct_9fa48("16") ? "" : (stryCov_9fa48("16"), 'invalid_token'), stryMutAct_9fa48("17") ? "" : (stryCov_9fa48("17"), 'access token "sub" must be a string'), scheme);
    if (stryMutAct_9fa48("20") ? scope !== undefined || typeof scope !== 'string' : stryMutAct_9fa48("19") ? false : stryMutAct_9fa48("18") ? true : (stryCov_9fa48("18", "19", "20"), (stryMutAct_9fa48("22") ? scope === undefined : stryMutAct_9fa48("21") ? true : (stryCov_9fa48("21", "22"), scope !== undefined)) && (stryMutAct_9fa48("24") ? typeof scope === 'string' : stryMutAct_9fa48("23") ? true : (stryCov_9fa48("23", "24"), typeof scope !== (stryMutAct_9fa48("25") ? "" : (stryCov_9fa48("25"), 'string')))))) throw refuse(stryMutAct_9fa48("26") ? "" : (stryCov_9fa48("26"), 'invalid_token'), stryMutAct_9fa48("27") ? "" : (stryCov_9fa48("27"), 'access token "scope" must be a string'), scheme);
    if (stryMutAct_9fa48("30") ? clientId !== undefined || typeof clientId !== 'string' : stryMutAct_9fa48("29") ? false : stryMutAct_9fa48("28") ? true : (stryCov_9fa48("28", "29", "30"), (stryMutAct_9fa48("32") ? clientId === undefined : stryMutAct_9fa48("31") ? true : (stryCov_9fa48("31", "32"), clientId !== undefined)) && (stryMutAct_9fa48("34") ? typeof clientId === 'string' : stryMutAct_9fa48("33") ? true : (stryCov_9fa48("33", "34"), typeof clientId !== (stryMutAct_9fa48("35") ? "" : (stryCov_9fa48("35"), 'string')))))) throw refuse(stryMutAct_9fa48("36") ? "" : (stryCov_9fa48("36"), 'invalid_token'), stryMutAct_9fa48("37") ? "" : (stryCov_9fa48("37"), 'access token "client_id" must be a string'), scheme);
    const jkt = boundKey(claims, scheme, refuse);
    const scopes = (stryMutAct_9fa48("40") ? scope !== undefined : stryMutAct_9fa48("39") ? false : stryMutAct_9fa48("38") ? true : (stryCov_9fa48("38", "39", "40"), scope === undefined)) ? stryMutAct_9fa48("41") ? ["Stryker was here"] : (stryCov_9fa48("41"), []) : stryMutAct_9fa48("42") ? scope.split(' ') : (stryCov_9fa48("42"), scope.split(stryMutAct_9fa48("43") ? "" : (stryCov_9fa48("43"), ' ')).filter(stryMutAct_9fa48("44") ? () => undefined : (stryCov_9fa48("44"), s => stryMutAct_9fa48("48") ? s.length <= 0 : stryMutAct_9fa48("47") ? s.length >= 0 : stryMutAct_9fa48("46") ? false : stryMutAct_9fa48("45") ? true : (stryCov_9fa48("45", "46", "47", "48"), s.length > 0))));
    return stryMutAct_9fa48("49") ? {} : (stryCov_9fa48("49"), {
      subject: sub,
      scopes,
      clientId,
      jkt
    });
  }
}

/** `cnf.jkt` of a DPoP-bound token; refuses other confirmation methods we cannot check (e.g. mTLS). */
function boundKey(claims: Record<string, unknown>, scheme: GuardScheme, refuse: TokenRefusal): string | undefined {
  if (stryMutAct_9fa48("50")) {
    {}
  } else {
    stryCov_9fa48("50");
    const cnf = claims[stryMutAct_9fa48("51") ? "" : (stryCov_9fa48("51"), 'cnf')];
    if (stryMutAct_9fa48("54") ? cnf !== undefined : stryMutAct_9fa48("53") ? false : stryMutAct_9fa48("52") ? true : (stryCov_9fa48("52", "53", "54"), cnf === undefined)) return undefined;
    if (stryMutAct_9fa48("57") ? (typeof cnf !== 'object' || cnf === null) && Array.isArray(cnf) : stryMutAct_9fa48("56") ? false : stryMutAct_9fa48("55") ? true : (stryCov_9fa48("55", "56", "57"), (stryMutAct_9fa48("59") ? typeof cnf !== 'object' && cnf === null : stryMutAct_9fa48("58") ? false : (stryCov_9fa48("58", "59"), (stryMutAct_9fa48("61") ? typeof cnf === 'object' : stryMutAct_9fa48("60") ? false : (stryCov_9fa48("60", "61"), typeof cnf !== (stryMutAct_9fa48("62") ? "" : (stryCov_9fa48("62"), 'object')))) || (stryMutAct_9fa48("64") ? cnf !== null : stryMutAct_9fa48("63") ? false : (stryCov_9fa48("63", "64"), cnf === null)))) || Array.isArray(cnf))) throw refuse(stryMutAct_9fa48("65") ? "" : (stryCov_9fa48("65"), 'invalid_token'), stryMutAct_9fa48("66") ? "" : (stryCov_9fa48("66"), 'access token "cnf" must be an object'), scheme);
    const jkt = (cnf as Record<string, unknown>)[stryMutAct_9fa48("67") ? "" : (stryCov_9fa48("67"), 'jkt')];
    if (stryMutAct_9fa48("70") ? jkt !== undefined : stryMutAct_9fa48("69") ? false : stryMutAct_9fa48("68") ? true : (stryCov_9fa48("68", "69", "70"), jkt === undefined)) {
      if (stryMutAct_9fa48("71")) {
        {}
      } else {
        stryCov_9fa48("71");
        if (stryMutAct_9fa48("74") ? Object.keys(cnf).length !== 0 : stryMutAct_9fa48("73") ? false : stryMutAct_9fa48("72") ? true : (stryCov_9fa48("72", "73", "74"), Object.keys(cnf).length === 0)) return undefined;
        throw refuse(stryMutAct_9fa48("75") ? "" : (stryCov_9fa48("75"), 'invalid_token'), stryMutAct_9fa48("76") ? "" : (stryCov_9fa48("76"), 'access token is bound by an unsupported confirmation method'), scheme);
      }
    }
    if (stryMutAct_9fa48("79") ? typeof jkt !== 'string' && jkt.length === 0 : stryMutAct_9fa48("78") ? false : stryMutAct_9fa48("77") ? true : (stryCov_9fa48("77", "78", "79"), (stryMutAct_9fa48("81") ? typeof jkt === 'string' : stryMutAct_9fa48("80") ? false : (stryCov_9fa48("80", "81"), typeof jkt !== (stryMutAct_9fa48("82") ? "" : (stryCov_9fa48("82"), 'string')))) || (stryMutAct_9fa48("84") ? jkt.length !== 0 : stryMutAct_9fa48("83") ? false : (stryCov_9fa48("83", "84"), jkt.length === 0)))) throw refuse(stryMutAct_9fa48("85") ? "" : (stryCov_9fa48("85"), 'invalid_token'), stryMutAct_9fa48("86") ? "" : (stryCov_9fa48("86"), 'access token "cnf.jkt" must be a string'), scheme);
    return jkt;
  }
}