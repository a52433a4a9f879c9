// Cookies of the console (oidc-loa3.md §8.2): the login-transaction cookie and the session cookie, both
// HttpOnly, SameSite=Lax (the IdP's redirect back is a cross-site top-level GET), Path=/, and Secure with the
// __Host- prefix whenever the request came over TLS (directly, or through a proxy trusted by TRUST_PROXY).
// Plain-HTTP development drops the prefix, because browsers refuse __Host- cookies without Secure.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';

export const TX_COOKIE = 'sb_tx';
export const SESSION_COOKIE = 'sb_sid';

/** Cookie name as used on this request: `__Host-<name>` over TLS, `<name>` on plain HTTP. */
export function cookieName(req: Request, base: string): string {
  return req.secure ? `__Host-${base}` : base;
}

/** Parse the Cookie header (first value wins for a repeated name). Does not depend on cookie-parser. */
export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export interface CookieOptions {
  /** Seconds; omitted = a browser-session cookie. 0 deletes the cookie. */
  maxAge?: number;
}

/** Append a Set-Cookie header with the console's fixed attributes. */
export function setCookie(req: Request, res: Response, base: string, value: string, opts: CookieOptions = {}): void {
  const parts = [`${cookieName(req, base)}=${encodeURIComponent(value)}`, 'Path=/', 'HttpOnly', 'SameSite=Lax'];
  if (req.secure) parts.push('Secure');
  if (opts.maxAge !== undefined) {
    parts.push(`Max-Age=${opts.maxAge}`);
    if (opts.maxAge === 0) parts.push('Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  }
  res.append('Set-Cookie', parts.join('; '));
}

export function clearCookie(req: Request, res: Response, base: string): void {
  setCookie(req, res, base, '', { maxAge: 0 });
}

/** 256 bits from the CSPRNG, base64url (ASVS 5 7.2.3 asks for at least 128). */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What the database stores instead of a cookie value. */
export function tokenHash(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Constant-time comparison of two strings (lengths are not secret). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** True when the string holds a C0 control character or DEL (never valid in a path, header or identifier we accept). */
export function hasControlCharacters(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** Only same-site relative paths may be a return target (oidc-loa3.md §10 row 38: no open redirects). */
export function safeReturnPath(raw: unknown, fallback = '/me'): string {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 512) return fallback;
  if (!raw.startsWith('/') || raw.startsWith('//') || raw.includes('\\') || hasControlCharacters(raw)) return fallback;
  return raw;
}
