// @ts-nocheck
// Reads the access token and the DPoP proof out of request headers (RFC 6750 section 2.1, RFC 9449
// sections 4.1 and 7.1). Only the Authorization header is supported: tokens in a query string or a form
// body leak into logs and caches.
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
import { GuardError, type GuardChallengeContext } from './guard-error.js';

/** Request headers as a Fetch `Headers` or as Node/Express give them (`string[]` when repeated). */
export type RequestHeaders = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;
export interface PresentedToken {
  scheme: 'bearer' | 'dpop';
  token: string;
}

// RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const TOKEN68 = stryMutAct_9fa48("281") ? /^[A-Za-z0-9\-._~+/]+=$/ : stryMutAct_9fa48("280") ? /^[^A-Za-z0-9\-._~+/]+=*$/ : stryMutAct_9fa48("279") ? /^[A-Za-z0-9\-._~+/]=*$/ : stryMutAct_9fa48("278") ? /^[A-Za-z0-9\-._~+/]+=*/ : stryMutAct_9fa48("277") ? /[A-Za-z0-9\-._~+/]+=*$/ : (stryCov_9fa48("277", "278", "279", "280", "281"), /^[A-Za-z0-9\-._~+/]+=*$/);
// RFC 9110 section 11.4: credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
const CREDENTIALS = stryMutAct_9fa48("288") ? /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?: +(.))?$/s : stryMutAct_9fa48("287") ? /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?: (.*))?$/s : stryMutAct_9fa48("286") ? /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?: +(.*))$/s : stryMutAct_9fa48("285") ? /^([^!#$%&'*+.^_`|~0-9A-Za-z-]+)(?: +(.*))?$/s : stryMutAct_9fa48("284") ? /^([!#$%&'*+.^_`|~0-9A-Za-z-])(?: +(.*))?$/s : stryMutAct_9fa48("283") ? /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?: +(.*))?/s : stryMutAct_9fa48("282") ? /([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?: +(.*))?$/s : (stryCov_9fa48("282", "283", "284", "285", "286", "287", "288"), /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?: +(.*))?$/s);

/** Every value of header `name` (case-insensitive). A Fetch `Headers` joins repeats with ", ". */
export function headerValues(headers: RequestHeaders, name: string): string[] {
  if (stryMutAct_9fa48("289")) {
    {}
  } else {
    stryCov_9fa48("289");
    if (stryMutAct_9fa48("291") ? false : stryMutAct_9fa48("290") ? true : (stryCov_9fa48("290", "291"), headers instanceof Headers)) {
      if (stryMutAct_9fa48("292")) {
        {}
      } else {
        stryCov_9fa48("292");
        const value = headers.get(name);
        return (stryMutAct_9fa48("295") ? value !== null : stryMutAct_9fa48("294") ? false : stryMutAct_9fa48("293") ? true : (stryCov_9fa48("293", "294", "295"), value === null)) ? stryMutAct_9fa48("296") ? ["Stryker was here"] : (stryCov_9fa48("296"), []) : stryMutAct_9fa48("297") ? [] : (stryCov_9fa48("297"), [value]);
      }
    }
    const values: string[] = stryMutAct_9fa48("298") ? ["Stryker was here"] : (stryCov_9fa48("298"), []);
    for (const key of Object.keys(headers)) {
      if (stryMutAct_9fa48("299")) {
        {}
      } else {
        stryCov_9fa48("299");
        if (stryMutAct_9fa48("302") ? key.toLowerCase() === name : stryMutAct_9fa48("301") ? false : stryMutAct_9fa48("300") ? true : (stryCov_9fa48("300", "301", "302"), (stryMutAct_9fa48("303") ? key.toUpperCase() : (stryCov_9fa48("303"), key.toLowerCase())) !== name)) continue;
        const value = headers[key];
        if (stryMutAct_9fa48("306") ? typeof value !== 'string' : stryMutAct_9fa48("305") ? false : stryMutAct_9fa48("304") ? true : (stryCov_9fa48("304", "305", "306"), typeof value === (stryMutAct_9fa48("307") ? "" : (stryCov_9fa48("307"), 'string')))) values.push(value);else if (stryMutAct_9fa48("309") ? false : stryMutAct_9fa48("308") ? true : (stryCov_9fa48("308", "309"), Array.isArray(value))) for (const item of value as unknown[]) if (stryMutAct_9fa48("312") ? typeof item !== 'string' : stryMutAct_9fa48("311") ? false : stryMutAct_9fa48("310") ? true : (stryCov_9fa48("310", "311", "312"), typeof item === (stryMutAct_9fa48("313") ? "" : (stryCov_9fa48("313"), 'string')))) values.push(item);
      }
    }
    return values;
  }
}

/**
 * The token from `Authorization`. Throws a {@link GuardError}: with `missingToken` when there is no
 * header or its scheme is not one we accept (RFC 6750 section 3.1: no error code then), otherwise
 * `invalid_request` for a malformed or repeated header.
 */
export function readAuthorization(headers: RequestHeaders, context: GuardChallengeContext): PresentedToken {
  if (stryMutAct_9fa48("314")) {
    {}
  } else {
    stryCov_9fa48("314");
    const values = headerValues(headers, stryMutAct_9fa48("315") ? "" : (stryCov_9fa48("315"), 'authorization'));
    const dpopEnabled = stryMutAct_9fa48("318") ? context.dpopAlgorithms === undefined : stryMutAct_9fa48("317") ? false : stryMutAct_9fa48("316") ? true : (stryCov_9fa48("316", "317", "318"), context.dpopAlgorithms !== undefined);
    if (stryMutAct_9fa48("321") ? values.length !== 0 : stryMutAct_9fa48("320") ? false : stryMutAct_9fa48("319") ? true : (stryCov_9fa48("319", "320", "321"), values.length === 0)) {
      if (stryMutAct_9fa48("322")) {
        {}
      } else {
        stryCov_9fa48("322");
        throw new GuardError(stryMutAct_9fa48("323") ? "" : (stryCov_9fa48("323"), 'invalid_request'), stryMutAct_9fa48("324") ? "" : (stryCov_9fa48("324"), 'access token required'), stryMutAct_9fa48("325") ? {} : (stryCov_9fa48("325"), {
          missingToken: stryMutAct_9fa48("326") ? false : (stryCov_9fa48("326"), true),
          challenge: context
        }));
      }
    }
    if (stryMutAct_9fa48("330") ? values.length <= 1 : stryMutAct_9fa48("329") ? values.length >= 1 : stryMutAct_9fa48("328") ? false : stryMutAct_9fa48("327") ? true : (stryCov_9fa48("327", "328", "329", "330"), values.length > 1)) {
      if (stryMutAct_9fa48("331")) {
        {}
      } else {
        stryCov_9fa48("331");
        throw new GuardError(stryMutAct_9fa48("332") ? "" : (stryCov_9fa48("332"), 'invalid_request'), stryMutAct_9fa48("333") ? "" : (stryCov_9fa48("333"), 'more than one authorization header'), stryMutAct_9fa48("334") ? {} : (stryCov_9fa48("334"), {
          challenge: context
        }));
      }
    }
    const match = CREDENTIALS.exec(stryMutAct_9fa48("335") ? values[0] ?? '' : (stryCov_9fa48("335"), (stryMutAct_9fa48("336") ? values[0] && '' : (stryCov_9fa48("336"), values[0] ?? (stryMutAct_9fa48("337") ? "Stryker was here!" : (stryCov_9fa48("337"), '')))).trim()));
    const scheme = stryMutAct_9fa48("340") ? match[1]?.toLowerCase() : stryMutAct_9fa48("339") ? match?.[1].toLowerCase() : stryMutAct_9fa48("338") ? match?.[1]?.toUpperCase() : (stryCov_9fa48("338", "339", "340"), match?.[1]?.toLowerCase());
    if (stryMutAct_9fa48("343") ? match === null && scheme !== 'bearer' && !(scheme === 'dpop' && dpopEnabled) : stryMutAct_9fa48("342") ? false : stryMutAct_9fa48("341") ? true : (stryCov_9fa48("341", "342", "343"), (stryMutAct_9fa48("345") ? match !== null : stryMutAct_9fa48("344") ? false : (stryCov_9fa48("344", "345"), match === null)) || (stryMutAct_9fa48("347") ? scheme !== 'bearer' || !(scheme === 'dpop' && dpopEnabled) : stryMutAct_9fa48("346") ? false : (stryCov_9fa48("346", "347"), (stryMutAct_9fa48("349") ? scheme === 'bearer' : stryMutAct_9fa48("348") ? true : (stryCov_9fa48("348", "349"), scheme !== (stryMutAct_9fa48("350") ? "" : (stryCov_9fa48("350"), 'bearer')))) && (stryMutAct_9fa48("351") ? scheme === 'dpop' && dpopEnabled : (stryCov_9fa48("351"), !(stryMutAct_9fa48("354") ? scheme === 'dpop' || dpopEnabled : stryMutAct_9fa48("353") ? false : stryMutAct_9fa48("352") ? true : (stryCov_9fa48("352", "353", "354"), (stryMutAct_9fa48("356") ? scheme !== 'dpop' : stryMutAct_9fa48("355") ? true : (stryCov_9fa48("355", "356"), scheme === (stryMutAct_9fa48("357") ? "" : (stryCov_9fa48("357"), 'dpop')))) && dpopEnabled)))))))) {
      if (stryMutAct_9fa48("358")) {
        {}
      } else {
        stryCov_9fa48("358");
        throw new GuardError(stryMutAct_9fa48("359") ? "" : (stryCov_9fa48("359"), 'invalid_request'), stryMutAct_9fa48("360") ? "" : (stryCov_9fa48("360"), 'access token required'), stryMutAct_9fa48("361") ? {} : (stryCov_9fa48("361"), {
          missingToken: stryMutAct_9fa48("362") ? false : (stryCov_9fa48("362"), true),
          challenge: context
        }));
      }
    }
    const kind = (stryMutAct_9fa48("365") ? scheme !== 'dpop' : stryMutAct_9fa48("364") ? false : stryMutAct_9fa48("363") ? true : (stryCov_9fa48("363", "364", "365"), scheme === (stryMutAct_9fa48("366") ? "" : (stryCov_9fa48("366"), 'dpop')))) ? stryMutAct_9fa48("367") ? "" : (stryCov_9fa48("367"), 'DPoP') : stryMutAct_9fa48("368") ? "" : (stryCov_9fa48("368"), 'Bearer');
    const token = stryMutAct_9fa48("369") ? match[2]?.trim() && '' : (stryCov_9fa48("369"), (stryMutAct_9fa48("371") ? match[2].trim() : stryMutAct_9fa48("370") ? match[2] : (stryCov_9fa48("370", "371"), match[2]?.trim())) ?? (stryMutAct_9fa48("372") ? "Stryker was here!" : (stryCov_9fa48("372"), '')));
    if (stryMutAct_9fa48("375") ? false : stryMutAct_9fa48("374") ? true : stryMutAct_9fa48("373") ? TOKEN68.test(token) : (stryCov_9fa48("373", "374", "375"), !TOKEN68.test(token))) {
      if (stryMutAct_9fa48("376")) {
        {}
      } else {
        stryCov_9fa48("376");
        throw new GuardError(stryMutAct_9fa48("377") ? "" : (stryCov_9fa48("377"), 'invalid_request'), stryMutAct_9fa48("378") ? `` : (stryCov_9fa48("378"), `malformed ${kind} authorization header`), stryMutAct_9fa48("379") ? {} : (stryCov_9fa48("379"), {
          scheme: kind,
          challenge: context
        }));
      }
    }
    return stryMutAct_9fa48("380") ? {} : (stryCov_9fa48("380"), {
      scheme: (stryMutAct_9fa48("383") ? scheme !== 'dpop' : stryMutAct_9fa48("382") ? false : stryMutAct_9fa48("381") ? true : (stryCov_9fa48("381", "382", "383"), scheme === (stryMutAct_9fa48("384") ? "" : (stryCov_9fa48("384"), 'dpop')))) ? stryMutAct_9fa48("385") ? "" : (stryCov_9fa48("385"), 'dpop') : stryMutAct_9fa48("386") ? "" : (stryCov_9fa48("386"), 'bearer'),
      token
    });
  }
}