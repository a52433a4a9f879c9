// HTML of the dev identity provider (oidc-loa3.md §9.3): a plain username + password form with a loud
// development-only banner. No scripts; every value is escaped.
import type { DevUser } from './users.js';

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

export function simplePage(title: string, body: string): string {
  return `<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>${esc(title)} – dev IdP</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}
.dev{background:#fff3cd;border:2px solid #c90;padding:.5rem 1rem;font-weight:600}label{display:block;margin:.5rem 0}
table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #ccc;padding:.2rem .4rem}</style></head>
<body><p class="dev">UTVECKLINGSMILJÖ – endast för test. DEVELOPMENT ONLY identity provider: never use in production.</p>
${body}</body></html>`;
}

export function loginPage(v: { uid: string; clientId: string; requested: string[]; users: readonly DevUser[]; error?: string }): string {
  const rows = v.users.map((u) => `<tr><td><code>${esc(u.username)}</code></td><td><code>${esc(u.acr ?? '(ingen acr)')}</code></td><td>${esc(u.description)}</td></tr>`).join('');
  return simplePage('Logga in', `<h1>Logga in / Sign in</h1>
<p>Klient / client: <code>${esc(v.clientId)}</code></p>
${v.requested.length > 0 ? `<p>Begärd tillitsnivå / requested acr: <code>${v.requested.map(esc).join(', ')}</code></p>` : ''}
${v.error !== undefined ? `<p role="alert" id="login-error">${esc(v.error)}</p>` : ''}
<form method="post" action="/interaction/${esc(v.uid)}/login" id="login-form">
<label>Användarnamn / username <input name="username" id="username" autocomplete="username" required autofocus></label>
<label>Lösenord / password <input name="password" id="password" type="password" autocomplete="current-password" required></label>
<button type="submit" id="login-submit">Logga in / Sign in</button>
</form>
<form method="post" action="/interaction/${esc(v.uid)}/abort"><button type="submit" id="login-abort">Avbryt / Cancel</button></form>
<h2>Testanvändare / test personas</h2><table><tr><th>username</th><th>acr</th><th></th></tr>${rows}</table>`);
}
