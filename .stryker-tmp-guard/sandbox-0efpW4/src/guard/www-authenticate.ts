// @ts-nocheck
// Formatting of `WWW-Authenticate` challenges (RFC 9110 section 11.6.1, RFC 6750 section 3).

/** One auth-param: name and unquoted value. */function stryNS_9fa48() {
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
export type ChallengeParam = readonly [name: string, value: string];

/**
 * Renders `scheme name="value", ...`. Every value is sent as a quoted-string; `"` and `\` are escaped,
 * and characters a header field cannot carry (controls, non-ASCII) become `?`, so the result is always
 * a valid header value whatever the input.
 */
export function formatChallenge(scheme: string, params: readonly ChallengeParam[]): string {
  if (stryMutAct_9fa48("541")) {
    {}
  } else {
    stryCov_9fa48("541");
    if (stryMutAct_9fa48("544") ? params.length !== 0 : stryMutAct_9fa48("543") ? false : stryMutAct_9fa48("542") ? true : (stryCov_9fa48("542", "543", "544"), params.length === 0)) return scheme;
    return stryMutAct_9fa48("545") ? `` : (stryCov_9fa48("545"), `${scheme} ${params.map(stryMutAct_9fa48("546") ? () => undefined : (stryCov_9fa48("546"), ([name, value]) => stryMutAct_9fa48("547") ? `` : (stryCov_9fa48("547"), `${name}=${quote((stryMutAct_9fa48("550") ? name !== 'error_description' : stryMutAct_9fa48("549") ? false : stryMutAct_9fa48("548") ? true : (stryCov_9fa48("548", "549", "550"), name === (stryMutAct_9fa48("551") ? "" : (stryCov_9fa48("551"), 'error_description')))) ? describe(value) : value)}`))).join(stryMutAct_9fa48("552") ? "" : (stryCov_9fa48("552"), ', '))}`);
  }
}
function quote(value: string): string {
  if (stryMutAct_9fa48("553")) {
    {}
  } else {
    stryCov_9fa48("553");
    return stryMutAct_9fa48("554") ? `` : (stryCov_9fa48("554"), `"${value.replace(stryMutAct_9fa48("555") ? /[\x20-\x7e]/g : (stryCov_9fa48("555"), /[^\x20-\x7e]/g), stryMutAct_9fa48("556") ? "" : (stryCov_9fa48("556"), '?')).replace(stryMutAct_9fa48("557") ? /[^"\\]/g : (stryCov_9fa48("557"), /["\\]/g), stryMutAct_9fa48("558") ? "" : (stryCov_9fa48("558"), '\\$&'))}"`);
  }
}

// RFC 6750 section 3 allows only %x20-21 / %x23-5B / %x5D-7E in error_description: no `"` or `\` at all,
// not even escaped, so they are replaced rather than escaped.
function describe(value: string): string {
  if (stryMutAct_9fa48("559")) {
    {}
  } else {
    stryCov_9fa48("559");
    return value.replace(/"/g, stryMutAct_9fa48("560") ? "" : (stryCov_9fa48("560"), "'")).replace(/\\/g, stryMutAct_9fa48("561") ? "" : (stryCov_9fa48("561"), '/'));
  }
}