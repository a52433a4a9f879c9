// Server-rendered pages of the login flow (oidc-loa3.md §5.1 "Every refusal … a Swedish/English page"):
// the refusal page, the signed-in page (/me) and the signed-out page. All text is escaped; no scripts.
import type { PersonPrincipal } from '../domain/principal.js';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} – Sändebud</title>
<style>body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
.box{border:1px solid #ccc;border-radius:6px;padding:1rem 1.25rem}.refused{border-color:#b00020}
dt{font-weight:600}code{font-size:.9em}.en{color:#555}</style></head>
<body><main>${body}</main></body></html>`;
}

/** Why a login was refused: a closed set of codes, written to the audit trail and shown on the page. */
export type RefusalReason =
  | 'ACR_NOT_ACCEPTED' | 'ACR_MISSING' | 'IDP_ERROR' | 'LOGIN_TX_INVALID' | 'STATE_MISMATCH' | 'NONCE_MISMATCH'
  | 'ID_TOKEN_INVALID' | 'AUTH_TIME_INVALID' | 'IDENTITY_CLAIM_MISSING' | 'IDENTITY_CLAIM_MALFORMED'
  | 'USER_NOT_PROVISIONED' | 'USER_DISABLED' | 'TOKEN_EXCHANGE_FAILED';

export interface RefusalView {
  reason: RefusalReason;
  /** The OP's error code for IDP_ERROR (e.g. unmet_authentication_requirements, access_denied). */
  idpError?: string;
  /** The acr the OP asserted, for ACR_NOT_ACCEPTED. */
  acr?: string;
  correlationId?: string;
}

const LOA_TEXT_SV = 'Inloggningen kräver e-legitimation på tillitsnivå 3 eller högre.';
const LOA_TEXT_EN = 'Signing in requires an electronic identification at assurance level 3 (LoA3) or higher.';

/** True when the refusal is about the assurance level (the page then says so). */
export function isAssuranceRefusal(v: RefusalView): boolean {
  return v.reason === 'ACR_NOT_ACCEPTED' || v.reason === 'ACR_MISSING' || (v.reason === 'IDP_ERROR' && v.idpError === 'unmet_authentication_requirements');
}

export function refusalPage(v: RefusalView): string {
  let sv: string;
  let en: string;
  let extra = '';
  if (isAssuranceRefusal(v)) {
    sv = LOA_TEXT_SV;
    en = LOA_TEXT_EN;
    const level = v.reason === 'ACR_MISSING' ? 'Identitetsleverantören angav ingen tillitsnivå. / The identity provider stated no assurance level.'
      : v.acr !== undefined ? `Din inloggning gjordes på tillitsnivå / You signed in at assurance level: <code>${escapeHtml(v.acr)}</code>`
        : 'Din e-legitimation uppfyller inte tillitsnivå 3. / Your electronic identification does not meet assurance level 3.';
    extra = `<p>${level}</p>
<p>Använd en e-legitimation på tillitsnivå 3 eller 4 (till exempel BankID, Freja+ eller ett SITHS-kort som inte är reservkort).
Reservkort och äldre SITHS-kort räknas som tillitsnivå 2.</p>
<p class="en">Use an eID at assurance level 3 or 4. Reserve cards and older SITHS cards count as level 2.</p>`;
  } else if (v.reason === 'USER_NOT_PROVISIONED' || v.reason === 'USER_DISABLED') {
    sv = 'Du har inget aktivt konto i Sändebud. Kontakta din administratör.';
    en = 'You have no active Sändebud account. Contact your administrator.';
  } else if (v.reason === 'IDP_ERROR' && v.idpError === 'access_denied') {
    sv = 'Inloggningen avbröts.';
    en = 'The sign-in was cancelled.';
  } else if (v.reason === 'LOGIN_TX_INVALID') {
    sv = 'Inloggningen tog för lång tid eller startades i en annan flik. Försök igen.';
    en = 'The sign-in took too long or was started elsewhere. Please try again.';
  } else {
    sv = 'Inloggningen kunde inte genomföras.';
    en = 'The sign-in could not be completed.';
  }
  const ref = v.correlationId !== undefined ? `<p class="en">Referens / reference: <code>${escapeHtml(v.correlationId)}</code></p>` : '';
  return layout('Inloggningen nekades', `<div class="box refused" id="refusal" data-reason="${escapeHtml(v.reason)}">
<h1>Inloggningen nekades</h1>
<p><strong>${escapeHtml(sv)}</strong></p>
<p class="en"><strong>${escapeHtml(en)}</strong></p>
${extra}
<p class="en">Orsak / reason: <code>${escapeHtml(v.reason)}${v.idpError !== undefined ? ` (${escapeHtml(v.idpError)})` : ''}</code></p>
${ref}
<p><a href="/login">Försök igen / Try again</a></p></div>`);
}

export function mePage(p: PersonPrincipal, opts: { csrfToken: string; readable: string[]; sendable: string[] }): string {
  const roles = p.roles.length > 0 ? p.roles.map(escapeHtml).join(', ') : '–';
  const list = (xs: string[]): string => (xs.length > 0 ? `<ul>${xs.map((x) => `<li><code>${escapeHtml(x)}</code></li>`).join('')}</ul>` : '<p>–</p>');
  return layout('Inloggad', `<div class="box" id="me">
<h1>Inloggad i Sändebud</h1>
<dl>
<dt>Namn / name</dt><dd id="me-name">${escapeHtml(p.name ?? p.sub)}</dd>
<dt>Roller / roles</dt><dd id="me-roles">${roles}</dd>
<dt>Tillitsnivå / assurance level</dt><dd id="me-acr"><code>${escapeHtml(p.acr)}</code></dd>
${p.orgNumber !== undefined ? `<dt>Organisationsnummer</dt><dd>${escapeHtml(p.orgNumber)}</dd>` : ''}
${p.hsaId !== undefined ? `<dt>HSA-id</dt><dd>${escapeHtml(p.hsaId)}</dd>` : ''}
</dl>
<h2>Funktionsadresser du kan läsa / readable function addresses</h2>${list(opts.readable)}
<h2>Funktionsadresser du kan skicka från / function addresses you may send from</h2>${list(opts.sendable)}
<form method="post" action="/logout"><input type="hidden" name="_csrf" value="${escapeHtml(opts.csrfToken)}">
<button type="submit" id="logout">Logga ut / Sign out</button></form></div>`);
}

export function loggedOutPage(): string {
  return layout('Utloggad', `<div class="box" id="logged-out"><h1>Du är utloggad</h1><p class="en">You have signed out.</p>
<p><a href="/login">Logga in igen / Sign in again</a></p></div>`);
}
