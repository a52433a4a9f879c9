// Routes of the login flow, mounted at '/' (issue 4 interface): GET /login, GET /auth/callback, POST /logout,
// GET /me, GET /logged-out. RP-initiated logout (oidc-loa3.md §4.8): the local session is deleted first, then
// the browser goes to the OP's end_session_endpoint; local logout never depends on the OP.
import express, { type Request, type RequestHandler, type Response } from 'express';
import type pg from 'pg';
import * as client from 'openid-client';
import { principalId } from '../domain/principal.js';
import type { Logger } from '../lib/logger.js';
import type { AuditTrail } from '../ports/audit.port.js';
import { SessionRepository } from '../store/session.repository.js';
import { SESSION_COOKIE, clearCookie, cookieName, readCookie, tokenHash } from './cookies.js';
import type { GrantChecker } from './grants.js';
import { csrfTokenOf, principalOf } from './locals.js';
import type { LoginFlow } from './login.js';
import type { OidcRp } from './oidc.js';
import { loggedOutPage, mePage } from './pages.js';

export interface RouterDeps {
  flow: LoginFlow;
  rp: OidcRp;
  pool: pg.Pool;
  audit: AuditTrail;
  logger: Logger;
  grants: GrantChecker;
  authenticate: RequestHandler;
  csrf: RequestHandler;
}

function wantsJson(req: Request): boolean {
  return req.accepts(['html', 'json']) === 'json';
}

function noStore(res: Response): void {
  res.setHeader('Cache-Control', 'no-store');
}

export function createAuthRouter(d: RouterDeps): express.Router {
  const router = express.Router();
  const sessions = new SessionRepository();

  router.get('/login', async (req, res) => {
    noStore(res);
    await d.flow.start(req, res);
  });

  router.get('/auth/callback', async (req, res) => {
    noStore(res);
    await d.flow.callback(req, res);
  });

  router.get('/me', d.authenticate, async (req, res) => {
    noStore(res);
    const p = principalOf(res);
    if (p === undefined) {
      if (wantsJson(req)) {
        res.status(401).type('application/problem+json').send(JSON.stringify({
          type: 'https://sandebud.se/problems/unauthenticated', title: 'Unauthorized', status: 401, detail: 'Authentication is required.', code: 'UNAUTHENTICATED',
        }));
        return;
      }
      res.redirect(303, '/login?returnTo=%2Fme');
      return;
    }
    const [readable, sendable] = await Promise.all([d.grants.readableAddresses(p), d.grants.sendableAddresses(p)]);
    if (p.kind === 'system') {
      res.json({ kind: 'system', principalId: principalId(p), clientId: p.clientId, scopes: p.scopes, readable, sendable });
      return;
    }
    if (wantsJson(req)) {
      res.json({
        kind: 'person', principalId: principalId(p), name: p.name ?? null, roles: p.roles, acr: p.acr,
        authTime: p.authTime?.toISOString() ?? null, orgNumber: p.orgNumber ?? null, hsaId: p.hsaId ?? null,
        csrfToken: csrfTokenOf(res) ?? null, readable, sendable,
      });
      return;
    }
    res.type('html').send(mePage(p, { csrfToken: csrfTokenOf(res) ?? '', readable, sendable }));
  });

  router.post('/logout', express.urlencoded({ extended: false, limit: '4kb' }), d.authenticate, d.csrf, async (req, res) => {
    noStore(res);
    const token = readCookie(req, cookieName(req, SESSION_COOKIE));
    clearCookie(req, res, SESSION_COOKIE);
    const session = token === undefined ? undefined : await sessions.delete(d.pool, tokenHash(token));
    if (session === undefined) {
      res.redirect(303, '/logged-out');
      return;
    }
    await d.audit.record({ type: 'LOGOUT', actor: `person:${session.sub}`, subject: session.userId, outcome: 'success', details: { issuer: session.issuer } });
    d.logger.info({ event: 'LOGOUT', userId: session.userId }, 'logged out');
    let target = '/logged-out';
    try {
      const cfg = await d.rp.configuration();
      if (cfg.serverMetadata().end_session_endpoint !== undefined) {
        target = client.buildEndSessionUrl(cfg, {
          id_token_hint: session.idToken,
          post_logout_redirect_uri: d.flow.postLogoutRedirectUri,
          state: client.randomState(),
        }).href;
      }
    } catch (err) {
      d.logger.warn({ event: 'LOGOUT_OP_UNAVAILABLE', err }, 'end-session endpoint unavailable; local logout only');
    }
    res.redirect(303, target);
  });

  router.get('/logged-out', (_req, res) => {
    noStore(res);
    res.type('html').send(loggedOutPage());
  });

  return router;
}
