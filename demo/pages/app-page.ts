// The demo web app's one page: signed out, it explains and offers sign-in (and, after a logout, what the
// logout did); signed in, it shows both API calls and the claims of the token each one used.
import { html, page, type Html } from './html.js'

/** The claims shown for a token. Never the token itself. */
export interface TokenView {
  aud: string[]
  scope: string
  /** Seconds since the epoch. */
  exp: number
  /** `bearer` or `dpop`, as the token endpoint said. */
  type: string
  /** The JWT header's `typ`, e.g. `at+jwt`. */
  typ: string | undefined
}

export interface ApiView {
  kind: 'contacts' | 'calendar' | 'tools'
  title: string
  endpoint: string
  status: number | undefined
  items: Array<{ primary: string; secondary: string }>
  token: TokenView | undefined
  error: string | undefined
  /** Learned at run time (RFC 9728), not configured. */
  discovered?: boolean
  /** An action that needs a recent sign-in (RFC 9470). */
  recentSignIn?: { endpoint: string; maxAgeSeconds: number } | undefined
  /** The outcome of that action, once. */
  action?: string | undefined
}

export interface ReplayView {
  status: number
  wwwAuthenticate: string | null
  tokenAud: string[]
  calendarAud: string
  calendarEndpoint: string
}

export interface LogoutReport {
  name: string
  refreshToken: string
  accessTokens: { revoked: number; notRevoked: number }
  /** `false` when the provider's introspection says inactive; `undefined` when not observed. */
  refreshTokenActive: boolean | undefined
  hasGrant: boolean
  nextFetch: string
  accessTokenTtlSeconds: number
}

export interface HomeModel {
  now: number
  loginUrl: string
  logoutAction: string
  user: { name: string; sub: string; email: string | undefined } | undefined
  csrfField: string
  csrfToken: string | undefined
  apis: ApiView[]
  replay: ReplayView | undefined
  /** The calendar API URL the replay targets. */
  replayTarget: string
  report: LogoutReport | undefined
  /** Set when the provider ended this browser's session by back-channel logout (shown after a reload). */
  endedByProvider: { at: string } | undefined
  /** The provider's own sign-out page. */
  providerSignOutUrl: string
  demoUser: string
  demoPassword: string
}

const CSS = `
header.top{display:flex;align-items:center;justify-content:space-between;gap:1rem;padding:.8rem 1.6rem;background:#fff;border-bottom:1px solid var(--line)}
.brand{display:flex;align-items:center;gap:.6rem;font-weight:700}
.brand .logo{width:28px;height:28px;border-radius:8px;background:linear-gradient(135deg,var(--contacts),var(--calendar));display:grid;place-items:center;color:#fff;font-size:13px}
.brand small{font-weight:500;color:var(--muted)}
.who{display:flex;align-items:center;gap:.8rem;font-size:.92rem}
.who form{margin:0}
main{max-width:1120px;margin:0 auto;padding:2rem 1.6rem 3rem}
.hero h1{font-size:2rem;margin:0 0 .6rem}
.hero p{margin:0;color:var(--muted);max-width:54rem;font-size:1.02rem}
.hero strong{color:var(--ink)}
.steps{display:grid;grid-template-columns:repeat(3,1fr);gap:.9rem;margin:1.5rem 0 1.8rem;padding:0;list-style:none;counter-reset:s}
.steps li{background:#fff;border:1px solid var(--line);border-radius:14px;padding:.9rem 1rem .95rem 3.1rem;position:relative;font-size:.92rem;color:var(--muted)}
.steps li::before{counter-increment:s;content:counter(s);position:absolute;left:1rem;top:.95rem;width:1.45rem;height:1.45rem;border-radius:50%;background:#eef0fb;color:var(--brand);font-weight:700;display:grid;place-items:center;font-size:.8rem}
.steps b{display:block;color:var(--ink)}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:1.2rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:16px;box-shadow:0 1px 2px rgba(16,24,40,.04),0 8px 24px rgba(16,24,40,.04);overflow:hidden}
.card .head{display:flex;align-items:center;justify-content:space-between;gap:.6rem;padding:1rem 1.2rem .2rem}
.card .head h2{margin:0;font-size:1.15rem;display:flex;align-items:center;gap:.5rem}
.card .head h2 .swatch{width:12px;height:12px;border-radius:4px}
.card.contacts{border-top:5px solid var(--contacts)}.card.calendar{border-top:5px solid var(--calendar)}.card.tools{border-top:5px solid #7a5af8}.tools .swatch{background:#7a5af8}
.card form{padding:.2rem 1.2rem 1rem}.card .result{margin:0 1.2rem 1rem}
.contacts .swatch{background:var(--contacts)}.calendar .swatch{background:var(--calendar)}
.endpoint{padding:0 1.2rem;margin:.15rem 0 .7rem;color:var(--muted);font-family:var(--mono);font-size:.8rem;word-break:break-all}
ul.items{list-style:none;margin:0;padding:0 1.2rem .9rem;display:grid;gap:.35rem}
ul.items li{display:flex;justify-content:space-between;gap:.8rem;padding:.45rem .65rem;border-radius:9px;background:#f7f8fb;font-size:.92rem}
ul.items li span:last-child{color:var(--muted)}
.token{margin:0 1.2rem 1.2rem;border-radius:12px;padding:.85rem 1rem}
.contacts .token{background:var(--contacts-soft)}.calendar .token{background:var(--calendar-soft)}
.token h3{margin:0 0 .55rem;font-size:.8rem;text-transform:uppercase;letter-spacing:.06em;color:var(--muted)}
dl.claims{display:grid;grid-template-columns:4.2rem 1fr;gap:.35rem .8rem;margin:0;font-size:.88rem}
dl.claims dt{font-family:var(--mono);color:var(--muted)}
dl.claims dd{margin:0;font-family:var(--mono);word-break:break-all}
dl.claims dd.aud{font-weight:700}
.contacts dd.aud{color:var(--contacts)}.calendar dd.aud{color:var(--calendar)}
.note{font-size:.82rem;color:var(--muted);margin:.9rem 0 0}
section.panel{margin-top:1.4rem;background:#fff;border:1px solid var(--line);border-radius:16px;padding:1.3rem 1.4rem}
section.panel h2{margin:0 0 .35rem;font-size:1.15rem}
section.panel p{margin:0 0 .9rem;color:var(--muted)}
.result{margin-top:1rem;border-radius:12px;padding:1rem 1.1rem;border:1px solid}
.result.refused{background:var(--danger-soft);border-color:#f5c2cb}
.result.accepted{background:#fff7e6;border-color:#f3d08b}
.result .big{font-size:1.05rem;font-weight:700;margin-bottom:.4rem}
.result code{display:block;margin-top:.5rem;padding:.55rem .7rem;background:#fff;border-radius:8px;white-space:pre-wrap;word-break:break-all}
.vs{display:flex;flex-wrap:wrap;gap:.5rem 1.4rem;margin-top:.6rem;font-size:.88rem}
.vs span b{font-family:var(--mono);font-weight:600}
.signin{display:grid;grid-template-columns:1.2fr 1fr;gap:1.2rem;align-items:stretch}
.signin .card{padding:1.4rem}
.signin h2{margin:0 0 .5rem;font-size:1.2rem}
.signin p{color:var(--muted);margin:0 0 1rem}
.hint{padding:.6rem .8rem;border-radius:10px;background:#f5f7ff;border:1px dashed #c6cff5;font-size:.88rem;color:#3b4470;margin-top:1rem}
ul.checks{list-style:none;margin:0;padding:0;display:grid;gap:.55rem}
ul.checks li{display:flex;gap:.7rem;align-items:flex-start;font-size:.93rem}
ul.checks .mark{flex:none;width:1.35rem;height:1.35rem;border-radius:50%;display:grid;place-items:center;font-size:.8rem;font-weight:700;background:var(--ok-soft);color:var(--ok)}
ul.checks .mark.warn{background:#fff4e0;color:#a45d00}
ul.checks .mark.info{background:#eef0fb;color:var(--brand)}
ul.checks small{display:block;color:var(--muted)}
.error{color:var(--danger);padding:0 1.2rem 1rem}
@media (max-width:820px){.grid,.steps,.signin{grid-template-columns:1fr}.hero h1{font-size:1.6rem}}
`

function clock(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().slice(11, 19) + ' UTC'
}

function remaining(epochSeconds: number, now: number): string {
  const seconds = Math.round(epochSeconds - now / 1000)
  if (seconds <= 0) return 'expired'
  return seconds >= 120 ? `in ${Math.round(seconds / 60)} min` : `in ${seconds} s`
}

function header(model: HomeModel): Html {
  const who = model.user === undefined
    ? html`<span class="muted">Not signed in</span>`
    : html`<span><strong>${model.user.name}</strong> <span class="muted">(${model.user.sub})</span></span>
<form method="post" action="${model.logoutAction}"><input type="hidden" name="${model.csrfField}" value="${model.csrfToken ?? ''}">
<button type="submit" class="secondary" id="sign-out">Sign out</button></form>
<a href="${model.providerSignOutUrl}" id="op-sign-out" class="muted" title="Sign out at the identity provider: the app is told by back-channel logout">Sign out at the provider</a>`
  return html`<header class="top"><div class="brand"><span class="logo" aria-hidden="true">rt</span>resource-tokens <small>demo</small></div><div class="who">${who}</div></header>`
}

function hero(): Html {
  return html`<div class="hero">
<h1>One sign-in. A separate token for each API.</h1>
<p>The app keeps <strong>one refresh token</strong> for you, on its server. For each API it calls, it asks the identity provider for an
<strong>access token restricted to that API</strong>: the token's audience (<code>aud</code>) names that API alone and its
<code>scope</code> is only what that API needs (RFC 8707 resource indicators). So a token that leaks from one API is refused by every other.</p>
</div>
<ol class="steps">
<li><b>Sign in once</b>The provider issues one refresh token. It never reaches the browser.</li>
<li><b>One token per API</b>Contacts and calendar each get their own <code>aud</code> and <code>scope</code>.</li>
<li><b>Wrong API, no entry</b>Replay the contacts token at the calendar API: <code>401 invalid_token</code>.</li>
</ol>`
}

function apiCard(api: ApiView, now: number, csrf: { field: string; token: string | undefined }): Html {
  const status = api.status === undefined
    ? html`<span class="pill bad">failed</span>`
    : html`<span class="pill ${api.status === 200 ? 'ok' : 'bad'}">${api.status === 200 ? '200 OK' : String(api.status)}</span>`
  const token = api.token === undefined
    ? ''
    : html`<div class="token" data-testid="${api.kind}-token"><h3>Token used for this call (decoded claims)</h3>
<dl class="claims">
<dt>aud</dt><dd class="aud" data-claim="aud">${api.token.aud.join(', ')}</dd>
<dt>scope</dt><dd data-claim="scope">${api.token.scope}</dd>
<dt>exp</dt><dd data-claim="exp">${clock(api.token.exp)} · ${remaining(api.token.exp, now)}</dd>
<dt>type</dt><dd data-claim="type">${api.token.type === 'dpop' ? 'DPoP' : 'Bearer'} · ${api.token.typ === undefined ? 'JWT' : `JWT (${api.token.typ})`}</dd>
</dl></div>`
  return html`<article class="card ${api.kind}" id="${api.kind}-card">
<div class="head"><h2><span class="swatch" aria-hidden="true"></span>${api.title}${api.discovered === true ? html` <span class="pill" data-testid="discovered">discovered</span>` : ''}</h2>${status}</div>
<div class="endpoint">GET ${api.endpoint}</div>
${api.error === undefined ? '' : html`<div class="error">${api.error}</div>`}
<ul class="items">${api.items.map((item) => html`<li><span>${item.primary}</span><span>${item.secondary}</span></li>`)}</ul>
${token}
${recentAction(api, csrf)}
</article>`
}

/** The "requires recent sign-in" action of an API (RFC 9470 step-up), when it has one. */
function recentAction(api: ApiView, csrf: { field: string; token: string | undefined }): Html | string {
  if (api.recentSignIn === undefined) return ''
  return html`<div class="endpoint">POST ${api.recentSignIn.endpoint} · requires a sign-in at most ${String(api.recentSignIn.maxAgeSeconds)} s old</div>
<form method="post" action="/recent-action"><input type="hidden" name="${csrf.field}" value="${csrf.token ?? ''}">
<button type="submit" class="secondary" id="recent-action">Run a tool (requires recent sign-in)</button></form>
${api.action === undefined ? '' : html`<div class="result" id="recent-action-result" role="status">${api.action}</div>`}`
}

function replayPanel(model: HomeModel): Html {
  const replay = model.replay
  let result: Html | string = ''
  if (replay !== undefined) {
    const refused = replay.status === 401 || replay.status === 403
    result = html`<div class="result ${refused ? 'refused' : 'accepted'}" id="replay-result" role="status">
<div class="big">${refused ? `Refused: ${replay.status} ${replay.status === 401 ? 'Unauthorized' : 'Forbidden'}` : `Unexpected: HTTP ${replay.status}`}</div>
<div class="vs"><span>token aud: <b>${replay.tokenAud.join(', ')}</b></span><span>calendar API requires: <b>${replay.calendarAud}</b></span></div>
<code>WWW-Authenticate: ${replay.wwwAuthenticate ?? '(none)'}</code>
</div>`
  }
  return html`<section class="panel" id="replay">
<h2>Replay attack: the contacts token at the calendar API</h2>
<p>Pretend the contacts API was compromised and its token stolen. The app's server now sends that very token to
<code>${model.replayTarget}</code>.</p>
<form method="post" action="/replay"><input type="hidden" name="${model.csrfField}" value="${model.csrfToken ?? ''}">
<button type="submit" class="danger" id="replay-button">Replay the contacts token at the calendar API</button></form>
${result}
</section>`
}

function signInPanel(model: HomeModel): Html {
  const report = model.report
  const reportCard = report === undefined
    ? html`<article class="card"><h2>What you will see</h2><ul class="checks">
<li><span class="mark" aria-hidden="true">1</span><div>The provider's sign-in and consent pages, listing each API with its audience.</div></li>
<li><span class="mark" aria-hidden="true">2</span><div>Both APIs called through <code>client.fetch</code>, with the claims of the token each call used.</div></li>
<li><span class="mark" aria-hidden="true">3</span><div>A replayed token refused, and a logout that revokes the grant.</div></li></ul></article>`
    : html`<article class="card" id="logout-report"><h2>Signed out: the tokens are revoked</h2><ul class="checks">
<li><span class="mark${report.refreshToken === 'revoked' ? '' : ' warn'}" aria-hidden="true">${report.refreshToken === 'revoked' ? '✓' : '!'}</span>
<div>Refresh token: <strong data-testid="refresh-token-status">${report.refreshToken}</strong><small>revoked at the provider (RFC 7009) by <code>client.logout()</code>; revoking it ends the provider's grant</small></div></li>
${report.refreshTokenActive === undefined ? '' : html`<li><span class="mark${report.refreshTokenActive ? ' warn' : ''}" aria-hidden="true">${report.refreshTokenActive ? '!' : '✓'}</span>
<div>Provider introspection of that refresh token: <strong data-testid="introspection">active: ${String(report.refreshTokenActive)}</strong><small>asked by the demo after logout (RFC 7662)</small></div></li>`}
<li><span class="mark${report.hasGrant ? ' warn' : ''}" aria-hidden="true">${report.hasGrant ? '!' : '✓'}</span>
<div>Grant in the app's store: <strong data-testid="grant-status">${report.hasGrant ? 'still there' : 'deleted'}</strong><small>the next <code>client.fetch</code> for that session throws <code>${report.nextFetch}</code></small></div></li>
<li><span class="mark info" aria-hidden="true">i</span><div>Access tokens: ${report.accessTokens.revoked + report.accessTokens.notRevoked} sent for revocation
<small>JWT access tokens are self-contained: an API that checks them locally accepts them until <code>exp</code>, at most ${report.accessTokenTtlSeconds} s here, which is why they are short-lived</small></div></li>
</ul></article>`
  const providerCard = model.endedByProvider === undefined
    ? ''
    : html`<article class="card" id="provider-logout"><h2>The identity provider ended your session</h2><ul class="checks">
<li><span class="mark" aria-hidden="true">✓</span><div>You signed out at the provider (${model.endedByProvider.at}); it told this app at once with a logout token
<small>OpenID Connect Back-Channel Logout: <code>POST /auth/backchannel-logout</code>, validated by <code>client.handleBackchannelLogout</code></small></div></li>
<li><span class="mark" aria-hidden="true">✓</span><div>This session's grant was removed from the app's store and its refresh token revoked at the provider
<small>on every instance sharing the store; nothing of that session can call the APIs any more</small></div></li></ul></article>`
  return html`<div class="signin">
${providerCard}
<article class="card"><h2>${report === undefined ? 'Try it' : `Goodbye, ${report.name}`}</h2>
<p>Sign in at the demo identity provider, allow the two APIs, and come back here.</p>
<a class="button" href="${model.loginUrl}" id="sign-in">Sign in</a>
<div class="hint">Demo account: <strong>${model.demoUser}</strong> · password <strong class="mono">${model.demoPassword}</strong></div>
</article>
${reportCard}
</div>`
}

/** Renders the page. */
export function homePage(model: HomeModel): string {
  const body = model.user === undefined
    ? signInPanel(model)
    : html`<div class="grid">${model.apis.map((api) => apiCard(api, model.now, { field: model.csrfField, token: model.csrfToken }))}</div>
<p class="note">The raw tokens never leave the app's server: this page shows claims decoded on the server, nothing else.</p>
${replayPanel(model)}`
  return page('resource-tokens demo', html`${header(model)}<main>${hero()}${body}</main>`, CSS)
}

/** A plain error page for the demo app (never a stack trace). */
export function appErrorPage(message: string): string {
  return page('Error · resource-tokens demo', html`<main><section class="panel"><h2>Something went wrong</h2><p>${message}</p><a class="button" href="/">Back</a></section></main>`)
}
