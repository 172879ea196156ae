// The demo identity provider's own pages: sign-in, consent, sign-out and errors.
import { Html, html, page } from './html.js'

const CSS = `
body{min-height:100vh;display:grid;place-items:center;background:linear-gradient(160deg,#eef1ff 0%,#f6f3ff 45%,#f4f5fa 100%)}
.shell{width:100%;max-width:420px;margin:24px}
.idp{display:flex;align-items:center;gap:.55rem;justify-content:center;margin-bottom:18px;font-weight:700;color:#27305a}
.idp .logo{width:30px;height:30px;border-radius:9px;background:linear-gradient(135deg,#3450d1,#7c3aed);display:grid;place-items:center;color:#fff;font-size:15px}
.panel{background:#fff;border:1px solid var(--line);border-radius:16px;box-shadow:0 10px 30px rgba(30,40,90,.08);padding:28px}
.panel h1{font-size:1.35rem;margin:0 0 .35rem}
.panel p.lead{margin:0 0 1.2rem;color:var(--muted)}
label{display:block;font-weight:600;font-size:.9rem;margin:.9rem 0 .3rem}
input[type=text],input[type=password]{width:100%;padding:.65rem .8rem;border:1px solid #cfd4e2;border-radius:10px;font:inherit;background:#fbfcff}
.actions{display:flex;gap:.6rem;margin-top:1.3rem}.actions button{flex:1;justify-content:center}
.hint{margin-top:1rem;padding:.7rem .85rem;border-radius:10px;background:#f5f7ff;border:1px dashed #c6cff5;font-size:.88rem;color:#3b4470}
.error{margin:.2rem 0 .4rem;padding:.6rem .8rem;border-radius:10px;background:var(--danger-soft);color:var(--danger);font-size:.9rem}
.app{display:flex;align-items:center;gap:.7rem;padding:.8rem;border-radius:12px;background:#f7f8fc;margin-bottom:1rem}
.app .avatar{width:38px;height:38px;border-radius:10px;background:#1b2031;color:#fff;display:grid;place-items:center;font-weight:700}
ul.scopes{list-style:none;margin:0;padding:0;display:grid;gap:.55rem}
ul.scopes li{border:1px solid var(--line);border-radius:12px;padding:.65rem .8rem;display:flex;gap:.7rem;align-items:flex-start}
ul.scopes .dot{flex:none;width:10px;height:10px;border-radius:50%;margin-top:.45rem;background:#94a3b8}
ul.scopes .dot.contacts{background:var(--contacts)}ul.scopes .dot.calendar{background:var(--calendar)}
ul.scopes small{display:block;color:var(--muted);font-family:var(--mono);font-size:.78rem;word-break:break-all}
footer{margin-top:14px;text-align:center;font-size:.8rem;color:var(--muted)}
`

function shell(title: string, body: Html): string {
  return page(title, html`<div class="shell">
<div class="idp"><span class="logo" aria-hidden="true">ID</span> Demo Identity Provider</div>
<div class="panel">${body}</div>
<footer>oidc-provider on loopback · for demonstration only</footer>
</div>`, CSS)
}

/** The sign-in form of an interaction. */
export function loginPage(options: { uid: string; clientName: string; username?: string; error?: string; demoUser: string; demoPassword: string }): string {
  return shell('Sign in · Demo Identity Provider', html`
<h1>Sign in</h1>
<p class="lead">to continue to <strong>${options.clientName}</strong></p>
${options.error === undefined ? '' : html`<div class="error" role="alert" id="login-error">${options.error}</div>`}
<form method="post" action="/interaction/${options.uid}/login" autocomplete="off">
  <label for="username">Username</label>
  <input id="username" name="username" type="text" value="${options.username ?? options.demoUser}" required autofocus>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" required>
  <div class="actions"><button type="submit" id="sign-in">Sign in</button></div>
</form>
<form method="post" action="/interaction/${options.uid}/abort"><div class="actions"><button type="submit" class="secondary">Cancel</button></div></form>
<div class="hint">Demo account: <strong>${options.demoUser}</strong> · password <strong class="mono">${options.demoPassword}</strong></div>`)
}

/** One line of the consent list. */
export interface ConsentItem {
  /** CSS accent: `contacts`, `calendar` or `''`. */
  kind: string
  title: string
  detail: string
}

/** The consent screen: what the app asks for, per API. */
export function consentPage(options: { uid: string; clientName: string; accountName: string; items: ConsentItem[] }): string {
  return shell('Allow access · Demo Identity Provider', html`
<div class="app"><div class="avatar" aria-hidden="true">${options.clientName.slice(0, 1)}</div>
<div><strong>${options.clientName}</strong><br><span class="muted">wants to access your account, ${options.accountName}</span></div></div>
<h1>Allow access?</h1>
<p class="lead">Each API below gets its own access token, valid for that API only.</p>
<ul class="scopes">
${options.items.map((item) => html`<li><span class="dot ${item.kind}" aria-hidden="true"></span><div><strong>${item.title}</strong><small>${item.detail}</small></div></li>`)}
</ul>
<div class="actions">
  <form method="post" action="/interaction/${options.uid}/abort" style="flex:1;display:flex"><button type="submit" class="secondary" id="deny" style="flex:1;justify-content:center">Deny</button></form>
  <form method="post" action="/interaction/${options.uid}/confirm" style="flex:1;display:flex"><button type="submit" id="allow" style="flex:1;justify-content:center">Allow</button></form>
</div>`)
}

/** RP-initiated logout confirmation; `form` is oidc-provider's hidden form (id `op.logoutForm`). */
export function logoutPage(options: { form: string; clientName: string | undefined }): string {
  return shell('Sign out · Demo Identity Provider', html`
<h1>Sign out of the identity provider too?</h1>
${options.clientName === undefined
    ? html`<p class="lead">You are signed in here, at the provider. Signing out ends this session, and every app signed in with it is told at once (OpenID Connect Back-Channel Logout): it forgets and revokes its tokens.</p>`
    : html`<p class="lead">${options.clientName} has signed you out and revoked its tokens. You are still signed in here, at the provider.</p>`}
${new Html(options.form)}
<div class="actions">
  <button type="submit" form="op.logoutForm" name="logout" value="yes" id="op-logout" autofocus>Yes, sign me out</button>
  <button type="submit" form="op.logoutForm" class="secondary" id="op-stay">Stay signed in</button>
</div>`)
}

/** After sign-out, when no redirect back to an app was asked for. */
export function loggedOutPage(): string {
  return shell('Signed out · Demo Identity Provider', html`<h1>Signed out</h1><p class="lead">You have signed out of the Demo Identity Provider.</p>`)
}

/** The provider's error page. Only the OAuth error code and its description, never internals. */
export function providerErrorPage(error: string, description: string | undefined): string {
  return shell('Error · Demo Identity Provider', html`<h1>Something went wrong</h1>
<p class="lead">${description ?? 'The request could not be completed.'}</p><p><code>${error}</code></p>`)
}
