// Request authentication and guards (oidc-loa3.md §6.2 for bearer tokens, §8.1–8.4 for sessions; issue 4).
// authenticate never rejects: it records a principal or the reason a presented credential failed, and the
// guards (requirePrincipal, requireScopes, requireRole, csrf) decide per route.
import { readFileSync } from 'node:fs';
import type { Request, RequestHandler, Response } from 'express';
import type pg from 'pg';
import { publicUrl, resolvePath, type Config } from '../config/index.js';
import { AppError, forbidden } from '../domain/errors.js';
import type { PersonPrincipal, Role } from '../domain/principal.js';
import type { Logger } from '../lib/logger.js';
import { SessionRepository } from '../store/session.repository.js';
import { UserRepository, isRole } from '../store/user.repository.js';
import { checkAcr } from './acr.js';
import { BearerVerifier, bearerChallenge } from './bearer.js';
import { SESSION_COOKIE, clearCookie, cookieName, readCookie, safeEqual, tokenHash } from './cookies.js';
import { authLocals, principalOf } from './locals.js';
import { clientCertificate, loadCaBundle } from './mtls.js';
import { hasScope } from './scopes.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface MiddlewareDeps {
  config: Config;
  pool: pg.Pool;
  logger: Logger;
  bearer: BearerVerifier;
}

/** Count raw Authorization headers: Node keeps only the first of duplicates in req.headers. */
function authorizationHeaderCount(req: Request): number {
  let n = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]?.toLowerCase() === 'authorization') n++;
  return n;
}

function tokenInQueryOrBody(req: Request): boolean {
  const q: unknown = req.query;
  const b: unknown = req.body;
  const has = (o: unknown): boolean => typeof o === 'object' && o !== null && 'access_token' in o;
  return has(q) || has(b);
}

export function createAuthenticate(d: MiddlewareDeps): RequestHandler {
  const sessions = new SessionRepository();
  const users = new UserRepository();
  const trustedClientCas = d.config.MTLS_CLIENT_CA_FILE === undefined ? undefined
    : loadCaBundle(readFileSync(resolvePath(d.config, d.config.MTLS_CLIENT_CA_FILE), 'utf8'));
  if (trustedClientCas !== undefined && trustedClientCas.length === 0) {
    throw new AppError('MTLS_CA_INVALID', 'MTLS_CLIENT_CA_FILE holds no certificate.');
  }

  const bearerPath = async (req: Request, res: Response, header: string): Promise<void> => {
    const l = authLocals(res);
    const m = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header);
    // RFC 6750 §3.1: malformed or duplicated credentials, or a token also in query/body, are invalid_request.
    if (m === null || m[1] === undefined || authorizationHeaderCount(req) > 1 || tokenInQueryOrBody(req)) {
      l.authError = new AppError('TOKEN_REQUEST_INVALID', 'Send exactly one "Authorization: Bearer <token>" header and no token elsewhere.', { status: 400 });
      return;
    }
    try {
      const principal = await d.bearer.verify(m[1]);
      if (trustedClientCas !== undefined) {
        const cert = clientCertificate(req, trustedClientCas);
        if (cert === undefined) {
          l.authError = new AppError('CLIENT_CERTIFICATE_REQUIRED', 'This API requires a client certificate issued by the configured CA.', { status: 401 });
          return;
        }
        principal.clientCertificateFingerprint = cert.fingerprint256;
      }
      l.principal = principal;
      l.authMethod = 'bearer';
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      l.authError = err;
      d.logger.info({ event: 'TOKEN_REJECTED', code: err.code }, 'bearer token rejected');
    }
  };

  const sessionPath = async (req: Request, res: Response, token: string): Promise<void> => {
    const l = authLocals(res);
    const idHash = tokenHash(token);
    const session = await sessions.touch(d.pool, idHash, { idleMinutes: d.config.SESSION_IDLE_MINUTES, absoluteHours: d.config.SESSION_ABSOLUTE_HOURS });
    const drop = async (reason: string): Promise<void> => {
      await sessions.delete(d.pool, idHash);
      clearCookie(req, res, SESSION_COOKIE);
      l.authError = new AppError('SESSION_EXPIRED', 'Your session has ended; sign in again.', { status: 401 });
      d.logger.info({ event: 'SESSION_ENDED', reason }, 'session not accepted');
    };
    if (session === undefined) {
      await drop('expired-or-unknown');
      return;
    }
    const user = await users.findById(d.pool, session.userId);
    if (user === undefined || !user.enabled) {
      await drop('user-disabled');
      return;
    }
    // The accepted set may have been tightened since login (oidc-loa3.md §8.1).
    if (!checkAcr(session.acr, d.config.OIDC_ACCEPTED_ACR).ok) {
      await drop('acr-no-longer-accepted');
      return;
    }
    const roles: Role[] = [...new Set([...user.roles, ...session.claimRoles.filter(isRole)])];
    const p: PersonPrincipal = {
      kind: 'person', sub: session.sub, issuer: session.issuer, acr: session.acr, roles,
      sessionId: idHash.subarray(0, 8).toString('hex'), userId: user.id, authTime: session.authTime,
    };
    if (session.displayName !== null) p.name = session.displayName;
    if (session.orgNumber !== null) p.orgNumber = session.orgNumber;
    if (session.hsaId !== null) p.hsaId = session.hsaId;
    l.principal = p;
    l.authMethod = 'session';
    l.csrfToken = session.csrfToken;
  };

  return async (req, res, next) => {
    const l = authLocals(res);
    if (l.authChecked === true) {
      next();
      return;
    }
    l.authChecked = true;
    const header = req.headers.authorization;
    if (header !== undefined) {
      // A request with an Authorization header is a system call: the session cookie is not consulted.
      await bearerPath(req, res, header);
    } else {
      const token = readCookie(req, cookieName(req, SESSION_COOKIE));
      if (token !== undefined && token.length > 0) await sessionPath(req, res, token);
    }
    next();
  };
}

function challenge(res: Response, err: AppError): AppError {
  if (err.status === 401 || err.status === 400) res.setHeader('WWW-Authenticate', bearerChallenge(err));
  return err;
}

/** 401 problem+json (or 400 for a malformed bearer request) when there is no principal. */
export const requirePrincipal: RequestHandler = (_req, res, next) => {
  if (principalOf(res) !== undefined) {
    next();
    return;
  }
  const err = authLocals(res).authError ?? new AppError('UNAUTHENTICATED', 'Authentication is required.', { status: 401 });
  next(challenge(res, err.code === 'UNAUTHENTICATED' ? new AppError('TOKEN_MISSING', err.message, { status: 401 }) : err));
};

/**
 * Systems must hold every listed scope (403 insufficient_scope naming them). Persons are not scope-checked:
 * their access is decided by roles (requireRole) and function-address grants. Includes requirePrincipal.
 */
export function requireScopes(...scopes: string[]): RequestHandler {
  return (req, res, next) => {
    const p = principalOf(res);
    if (p === undefined) {
      requirePrincipal(req, res, next);
      return;
    }
    if (p.kind === 'person') {
      next();
      return;
    }
    const missing = scopes.filter((s) => !hasScope(p.scopes, s));
    if (missing.length === 0) {
      next();
      return;
    }
    res.setHeader('WWW-Authenticate', `Bearer realm="sandebud", error="insufficient_scope", scope="${missing.join(' ')}"`);
    next(new AppError('INSUFFICIENT_SCOPE', `The access token lacks the scope ${missing.join(', ')}.`, { status: 403 }));
  };
}

/** Persons must hold one of the roles; systems always get 403 (roles are for people). Includes requirePrincipal. */
export function requireRole(...roles: Role[]): RequestHandler {
  return (req, res, next) => {
    const p = principalOf(res);
    if (p === undefined) {
      requirePrincipal(req, res, next);
      return;
    }
    if (p.kind === 'system') {
      next(forbidden('ROLE_REQUIRED', 'This operation is for signed-in people only.'));
      return;
    }
    if (p.roles.some((r) => roles.includes(r))) {
      next();
      return;
    }
    next(forbidden('ROLE_REQUIRED', `This operation requires the role ${roles.join(' or ')}.`));
  };
}

/**
 * CSRF protection for state-changing requests authenticated by the session cookie (oidc-loa3.md §8.4):
 * same-origin Origin (or Sec-Fetch-Site) AND the session's synchronizer token in X-CSRF-Token or the `_csrf`
 * form field, compared in constant time. Bearer-token and anonymous requests pass (no ambient credential).
 */
export function createCsrf(config: Config): RequestHandler {
  const origin = new URL(publicUrl(config)).origin;
  return (req, res, next) => {
    const l = authLocals(res);
    if (SAFE_METHODS.has(req.method) || l.authMethod !== 'session') {
      next();
      return;
    }
    const reqOrigin = req.get('origin');
    const site = req.get('sec-fetch-site');
    if ((reqOrigin !== undefined && reqOrigin !== origin) || (reqOrigin === undefined && site !== undefined && site !== 'same-origin' && site !== 'none')) {
      next(forbidden('CSRF_ORIGIN_MISMATCH', 'The request did not come from this site.'));
      return;
    }
    const body: unknown = req.body;
    const field = typeof body === 'object' && body !== null && '_csrf' in body ? (body as { _csrf: unknown })._csrf : undefined;
    const sent = req.get('x-csrf-token') ?? (typeof field === 'string' ? field : undefined);
    if (sent === undefined || l.csrfToken === undefined || !safeEqual(sent, l.csrfToken)) {
      next(forbidden('CSRF_TOKEN_INVALID', 'The form has expired or the CSRF token is missing; reload the page and try again.'));
      return;
    }
    next();
  };
}

/** How long ago a person must have authenticated for sensitive changes (oidc-loa3.md §8.5: 10 minutes). */
export const RECENT_AUTH_MAX_AGE_SECONDS = 600;

/**
 * Persons must have authenticated at the OP within `maxAgeSeconds` (oidc-loa3.md §8.5): granting roles and
 * function addresses needs a fresh login. 403 REAUTHENTICATION_REQUIRED tells the console to send the user
 * through /login?returnTo=… again. Systems pass (their token is at most 30 minutes old anyway).
 */
export function requireRecentAuthentication(maxAgeSeconds = RECENT_AUTH_MAX_AGE_SECONDS): RequestHandler {
  return (req, res, next) => {
    const p = principalOf(res);
    if (p === undefined) {
      requirePrincipal(req, res, next);
      return;
    }
    if (p.kind === 'person' && (p.authTime === undefined || Date.now() - p.authTime.getTime() > maxAgeSeconds * 1000)) {
      next(forbidden('REAUTHENTICATION_REQUIRED', 'Sign in again to confirm this change (your login is older than 10 minutes).'));
      return;
    }
    next();
  };
}
