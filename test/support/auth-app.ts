// Test harness for issue 4: a real HTTP server (port 0) with the auth router, the admin router, a few protected
// stub routes and the lead's problemHandler, the real dev identity provider (port 0) and a fresh PostgreSQL
// database. Plus a tiny cookie-jar HTTP client that walks the login redirects the way a browser would.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import { loadConfig, type Config } from '../../src/config/index.js';
import { createAuth, principalOf, provisionUser, type Auth, SCOPE_DIGITAL_POST_SEND, SCOPE_SDK_GET_MESSAGE_BY_FILTER, SCOPE_SDK_GET_MESSAGE } from '../../src/auth/index.js';
import type { OidcFetch } from '../../src/auth/oidc.js';
import { createAdminRouter } from '../../src/api/admin/index.js';
import { loadOpenApi } from '../../src/api/ops.router.js';
import { notFoundHandler, problemHandler } from '../../src/api/problem.js';
import { principalId } from '../../src/domain/principal.js';
import { createAuditTrail, type PgAuditTrail } from '../../src/store/audit.repository.js';
import { FunctionAddressRepository } from '../../src/store/function-address.repository.js';
import { GrantRepository, type Permission } from '../../src/store/grant.repository.js';
import type { Role } from '../../src/domain/principal.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { API_AUDIENCE, startTestIdp, type TestIdp } from './idp.js';
import { testLogger } from './logger.js';

export interface AuthTestApp {
  url: string;
  /** The Express app, for tests that serve it over their own (e.g. mutual-TLS) server. */
  app: express.Express;
  config: Config;
  auth: Auth;
  idp: TestIdp;
  db: TestDatabase;
  audit: PgAuditTrail;
  logLines: string[];
  /** Provision a dev persona as a Sändebud user with roles (what an administrator would do). */
  provision(username: string, roles: Role[]): Promise<string>;
  /** Register a function address and grant it (test data). */
  grant(address: string, principal: string, permissions: Permission[]): Promise<void>;
  close(): Promise<void>;
}

export interface AuthTestAppOptions {
  label: string;
  env?: Record<string, string>;
  /** Intercept openid-client's HTTP calls (token forging). */
  oidcFetch?: OidcFetch;
}

const OPEN_API = loadOpenApi(path.resolve(import.meta.dirname, '../../contracts/api/openapi.yaml'));

/** Fake messages per function address behind the stub list routes. */
export const STUB_MESSAGES: Record<string, string[]> = {};

export async function startAuthApp(opts: AuthTestAppOptions): Promise<AuthTestApp> {
  const db = await createTestDatabase(opts.label);
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://localhost:${(server.address() as AddressInfo).port}`;
  const idp = await startTestIdp({ publicUrl: url });
  const config = loadConfig({
    NODE_ENV: 'test', OIDC_ISSUER: idp.issuer, PUBLIC_URL: url, DATABASE_URL: db.url, API_AUDIENCE, LOG_LEVEL: 'debug', ...opts.env,
  });
  const { logger, lines } = testLogger();
  const audit = createAuditTrail(db.pool);
  const auth = await createAuth({ config, pool: db.pool, audit, logger, ...(opts.oidcFetch !== undefined ? { oidcFetch: opts.oidcFetch } : {}) });

  const app = express();
  app.set('trust proxy', config.TRUST_PROXY);
  app.set('query parser', 'extended');
  // The contract in front of /v1, exactly as src/http.ts runs it, so the admin tests exercise
  // contracts/api/parts/admin.yaml (the admin router relies on it and no longer validates by itself).
  app.use(express.json({ limit: config.JSON_BODY_LIMIT, type: ['application/json', 'application/*+json'] }));
  app.use(OpenApiValidator.middleware({
    apiSpec: structuredClone(OPEN_API) as never,
    validateRequests: { allErrors: true, removeAdditional: false },
    validateResponses: false,
    validateSecurity: false,
    ignorePaths: /^\/(?!v1\/)/,
    ignoreUndocumented: false,
  }));
  app.use(auth.router);
  app.use('/v1/admin', createAdminRouter({ auth, pool: db.pool, audit }));
  const api = express.Router();
  api.use(express.json(), auth.authenticate);
  api.get('/protected', auth.requirePrincipal, (_req, res) => {
    const p = principalOf(res);
    res.json({ principalId: p === undefined ? null : principalId(p), kind: p?.kind });
  });
  api.post('/letters', auth.requireScopes(SCOPE_DIGITAL_POST_SEND), (_req, res) => { res.status(202).json({ accepted: true }); });
  api.get('/admin-only', auth.requireRole('admin'), (_req, res) => { res.json({ ok: true }); });
  api.post('/state-change', auth.requirePrincipal, auth.csrf, (_req, res) => { res.json({ changed: true }); });
  // Stand-ins for the lead's message routes: read one function address's inbox, or list/filter across them.
  api.get('/function-addresses/:address/messages', auth.requireScopes(SCOPE_SDK_GET_MESSAGE),
    auth.grants.require('read', (req) => (typeof req.params.address === 'string' ? req.params.address : undefined)),
    (req, res) => { res.json({ functionAddress: req.params.address, messages: STUB_MESSAGES[String(req.params.address)] ?? [] }); });
  api.get('/messages', auth.requireScopes(SCOPE_SDK_GET_MESSAGE_BY_FILTER), async (req, res) => {
    const p = principalOf(res);
    if (p === undefined) throw new Error('unreachable');
    const filter = typeof req.query.functionAddress === 'string' ? req.query.functionAddress : undefined;
    if (filter !== undefined) await auth.grants.assert(p, 'read', filter);
    const visible = filter !== undefined ? [filter] : await auth.grants.readableAddresses(p);
    res.json({ items: visible.flatMap((a) => (STUB_MESSAGES[a] ?? []).map((id) => ({ id, functionAddress: a }))) });
  });
  app.use('/test', api);
  app.use(notFoundHandler);
  app.use(problemHandler(logger));
  server.on('request', app);

  const addresses = new FunctionAddressRepository();
  const grants = new GrantRepository();

  return {
    url, app, config, auth, idp, db, audit, logLines: lines,
    provision: async (username, roles) => {
      const u = idp.users.find((x) => x.username === username);
      if (u === undefined) throw new Error(`no persona ${username}`);
      const identity = u.personalIdentityNumber !== undefined
        ? { identityType: 'personalIdentityNumber' as const, identityValue: u.personalIdentityNumber }
        : { identityType: 'orgAffiliation' as const, identityValue: u.orgAffiliation ?? '' };
      return provisionUser(db.pool, audit, { ...identity, roles, actor: 'system', displayName: `${u.givenName} ${u.familyName}` });
    },
    grant: async (address, principal, permissions) => {
      const f = (await addresses.findByAddress(db.pool, address)) ?? (await addresses.create(db.pool, { address, name: address, createdBy: 'test' }));
      for (const permission of permissions) await grants.add(db.pool, { functionAddressId: f.id, principalId: principal, permission, grantedBy: 'test' });
    },
    close: async () => {
      await auth.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await idp.close();
      await db.drop();
    },
  };
}

/**
 * A minimal browser stand-in: a cookie jar per origin (host:port), manual redirects, HTML form posts.
 * Real enough for the protocol (cookies, 302/303 hops, SameSite is irrelevant on one site); the browser tests use Chromium.
 */
export class CookieClient {
  private readonly jar = new Map<string, Map<string, string>>();
  /** Every URL visited by the last follow(). */
  hops: string[] = [];

  cookies(origin: string): Map<string, string> {
    let m = this.jar.get(origin);
    if (m === undefined) {
      m = new Map();
      this.jar.set(origin, m);
    }
    return m;
  }

  private store(url: string, res: Response): void {
    const m = this.cookies(new URL(url).origin);
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      if (pair === undefined) continue;
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=thu, 01 jan 1970/i.test(a));
      if (expired || value === '') m.delete(name);
      else m.set(name, value);
    }
  }

  async request(url: string, init: { method?: string; headers?: Record<string, string>; body?: string | URLSearchParams } = {}): Promise<Response> {
    const m = this.cookies(new URL(url).origin);
    const headers: Record<string, string> = { ...init.headers };
    if (m.size > 0) headers.cookie = [...m].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { method: init.method ?? 'GET', headers, redirect: 'manual', ...(init.body !== undefined ? { body: init.body } : {}) });
    this.store(url, res);
    return res;
  }

  /** Request, then follow redirects (as GET) until a non-3xx answer. */
  async follow(url: string, init: { method?: string; headers?: Record<string, string>; body?: string | URLSearchParams } = {}, maxHops = 15): Promise<{ res: Response; url: string; body: string }> {
    this.hops = [url];
    let res = await this.request(url, init);
    let current = url;
    for (let i = 0; i < maxHops && res.status >= 300 && res.status < 400; i++) {
      const loc = res.headers.get('location');
      if (loc === null) break;
      await res.arrayBuffer();
      current = new URL(loc, current).href;
      this.hops.push(current);
      res = await this.request(current);
    }
    return { res, url: current, body: await res.text() };
  }
}

export interface LoginResult {
  client: CookieClient;
  /** URLs visited from GET /login to the OP's login form (the authorization request is among them). */
  startHops: string[];
  status: number;
  url: string;
  body: string;
}

/** Start at GET /login, post the dev OP's login form, follow everything back to the gateway. */
export async function loginAs(app: AuthTestApp, username: string, opts: { password?: string; client?: CookieClient; returnTo?: string } = {}): Promise<LoginResult> {
  const client = opts.client ?? new CookieClient();
  const start = await client.follow(`${app.url}/login${opts.returnTo !== undefined ? `?returnTo=${encodeURIComponent(opts.returnTo)}` : ''}`);
  const startHops = client.hops;
  const m = /action="(\/interaction\/[^"]+\/login)"/.exec(start.body);
  if (m === null || m[1] === undefined) throw new Error(`no login form at ${start.url} (${start.res.status}): ${start.body.slice(0, 300)}`);
  const persona = app.idp.users.find((u) => u.username === username);
  const password = opts.password ?? persona?.password ?? 'x';
  const done = await client.follow(new URL(m[1], start.url).href, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password }).toString(),
  });
  return { client, startHops, status: done.res.status, url: done.url, body: done.body };
}
