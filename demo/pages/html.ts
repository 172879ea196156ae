// Tiny server-side HTML helpers: escaping, and one page shell with the demo's stylesheet.

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** A piece of HTML that is already safe to emit. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value
  }
}

/** Escapes text for element content and quoted attribute values. */
export function escape(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c)
}

/**
 * Tagged template: interpolated values are escaped unless they are {@link Html}; arrays are joined.
 * `undefined`, `null` and `false` render as nothing.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? ''
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '')
  })
  return new Html(out)
}

function render(value: unknown): string {
  if (value === undefined || value === null || value === false) return ''
  if (value instanceof Html) return value.value
  if (Array.isArray(value)) return value.map(render).join('')
  return escape(value)
}

/** The content security policy of every demo page: no scripts at all, inline styles only. */
export const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self' http://127.0.0.1:*; base-uri 'none'; frame-ancestors 'none'"

const BASE_CSS = `
:root{--bg:#f4f5fa;--ink:#1b2031;--muted:#5b6377;--line:#e2e5ee;--card:#fff;--brand:#3450d1;--brand-ink:#fff;
--contacts:#0d9488;--contacts-soft:#e6f6f4;--calendar:#7c3aed;--calendar-soft:#f1ebfe;--danger:#c81e3a;--danger-soft:#fdecef;
--ok:#15803d;--ok-soft:#e8f6ee;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
a{color:var(--brand)}
code,.mono{font-family:var(--mono);font-size:.86em}
h1,h2,h3{letter-spacing:-.015em;line-height:1.25}
button,.button{appearance:none;border:0;border-radius:10px;padding:.62rem 1.05rem;font:inherit;font-weight:600;cursor:pointer;
background:var(--brand);color:var(--brand-ink);text-decoration:none;display:inline-flex;align-items:center;gap:.45rem}
button:hover,.button:hover{filter:brightness(1.08)}
button:focus-visible,.button:focus-visible,input:focus-visible{outline:3px solid #9db0ff;outline-offset:2px}
button.secondary,.button.secondary{background:#fff;color:var(--ink);border:1px solid var(--line)}
button.danger{background:var(--danger)}
.pill{display:inline-block;border-radius:999px;padding:.1rem .6rem;font-size:.78rem;font-weight:600;background:#eef0f6;color:var(--muted)}
.pill.ok{background:var(--ok-soft);color:var(--ok)}.pill.bad{background:var(--danger-soft);color:var(--danger)}
.muted{color:var(--muted)}
`

/** A complete page: `<head>` with the shared stylesheet plus `css`, and `body`. */
export function page(title: string, body: Html, css = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escape(title)}</title>
<style>${BASE_CSS}${css}</style>
</head>
<body>
${body.value}
</body>
</html>
`
}
