// Browser pages of the signing flow (../shared/specs/signing.md §4 POST binding): the auto-posting form to the
// signing service, and the page the signer sees when the service has posted the response back. Every value is
// escaped; the only script is the auto-submit, allowed by a per-response CSP nonce (no inline handlers).
import { randomBytes } from 'node:crypto';
import type { Response } from 'express';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** Headers for every signing page: never cached, never framed, no referrer (the sign URL holds a capability). */
function pageHeaders(res: Response, csp: string): void {
  res.setHeader('Content-Security-Policy', csp);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.type('html');
}

const STATIC_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

/**
 * Send the auto-posting form. helmet's app-wide CSP allows scripts from 'self' only, so this response gets its own
 * policy: the one nonce'd script, and form-action limited to the signing service (and the https hops it redirects to).
 */
export function sendAutoPostForm(res: Response, render: (nonce: string) => string, action: string): void {
  const nonce = randomBytes(16).toString('base64');
  const target = new URL(action).origin;
  // form-action also governs redirects after the post (Chromium), and a real signing service answers the posted
  // SignRequest by redirecting to its identity provider: so any https origin may follow the signing service.
  pageHeaders(res, `default-src 'none'; script-src 'nonce-${nonce}'; form-action ${target} https:; base-uri 'none'; frame-ancestors 'none'`);
  res.status(200).send(render(nonce));
}

const TEXT: Record<string, { sv: string; en: string }> = {
  SIGNED: { sv: 'Dokumentet är underskrivet.', en: 'The document has been signed.' },
  FAILED: { sv: 'Underskriften kunde inte genomföras.', en: 'The document could not be signed.' },
  EXPIRED: { sv: 'Begäran om underskrift har gått ut.', en: 'The signing request has expired.' },
  PENDING: { sv: 'Dokumentet väntar på underskrift.', en: 'The document is waiting to be signed.' },
  REFUSED: { sv: 'Svaret från underskriftstjänsten godtogs inte.', en: 'The response from the signing service was not accepted.' },
};

/** A result or error page; `status` is SIGNED/FAILED/EXPIRED/PENDING/REFUSED, `code` the stable error code if any. */
export function sendResultPage(res: Response, httpStatus: number, status: keyof typeof TEXT, code?: string, message?: string): void {
  const t = TEXT[status]!;
  pageHeaders(res, STATIC_CSP);
  res.status(httpStatus).send(
    `<!DOCTYPE html><html lang="sv"><head><meta charset="utf-8"/><title>Underskrift – Sändebud</title></head><body>` +
      `<main><h1 id="signing-result" data-status="${esc(status)}">${esc(t.sv)}</h1><p lang="en">${esc(t.en)}</p>` +
      (code ? `<p>Kod / code: <code id="signing-code">${esc(code)}</code></p>` : '') +
      (message ? `<p id="signing-message">${esc(message)}</p>` : '') +
      `<p>Du kan stänga det här fönstret. / You may close this window.</p></main></body></html>`,
  );
}
