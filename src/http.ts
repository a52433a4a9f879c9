// createHttpApp(deps): the Express app, built from its dependencies with no side effects at import
// (issue 3 §5; style.md layout). Tests call it directly; src/main.ts wires the real parts.
import express, { type Express, type RequestHandler, type Router } from 'express';
import helmet from 'helmet';
import * as OpenApiValidator from 'express-openapi-validator';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Logger } from './lib/logger.js';
import { acceptOrCreateCorrelationId, runWithCorrelationId } from './lib/correlation.js';
import { notFoundHandler, problemHandler } from './api/problem.js';
import { createOpsRouter, type ReadinessCheck } from './api/ops.router.js';

export interface HttpAuth {
  /** Login, callback, logout and the console pages, mounted at '/'. */
  router: Router;
  /** Sets res.locals.principal from a bearer token or session; never rejects by itself. */
  authenticate: RequestHandler;
  /** 401 problem+json with the precise reason (e.g. invalid_token) when authenticate found no principal. */
  requirePrincipal: RequestHandler;
}

export interface AppDeps {
  logger: Logger;
  registry: Registry;
  openApi: Record<string, unknown>;
  checks: ReadinessCheck[];
  jsonLimitBytes: number;
  trustProxy: boolean;
  auth?: HttpAuth;
  /** API routers, mounted in order after authentication; paths must be documented in openApi. */
  routers: { path: string; router: Router }[];
}

export function createHttpApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy);
  app.set('query parser', 'extended'); // filter[status]=... style parameters of the MT–MK API

  const requests = new Counter({ name: 'sandebud_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [deps.registry] });
  const duration = new Histogram({ name: 'sandebud_http_request_duration_seconds', help: 'HTTP request duration', labelNames: ['method', 'route'], registers: [deps.registry], buckets: [0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });

  // Correlation id first, so every later log line and problem carries it.
  app.use((req, res, next) => {
    const id = acceptOrCreateCorrelationId(req.get('x-request-id'));
    res.locals.correlationId = id;
    res.setHeader('X-Request-Id', id);
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const route = typeof req.route?.path === 'string' ? `${req.baseUrl}${req.route.path}` : 'unmatched';
      const secs = Number(process.hrtime.bigint() - start) / 1e9;
      requests.inc({ method: req.method, route, status: String(res.statusCode) });
      duration.observe({ method: req.method, route }, secs);
      // Path and query are not logged: ids in them may be personal data. The route template is enough.
      deps.logger.info({ event: 'HTTP_REQUEST', method: req.method, route, status: res.statusCode, ms: Math.round(secs * 1000), correlationId: id }, 'request');
    });
    runWithCorrelationId(id, () => next());
  });

  app.use(helmet({
    contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'", "'unsafe-inline'"], imgSrc: ["'self'", 'data:'], formAction: ["'self'", 'http:', 'https:'] } },
    strictTransportSecurity: deps.trustProxy,
  }));

  app.use(createOpsRouter({ checks: deps.checks, registry: deps.registry, openApi: deps.openApi }));
  app.use(express.json({ limit: deps.jsonLimitBytes, type: ['application/json', 'application/*+json'] }));
  app.use(express.urlencoded({ extended: false, limit: '64kb' }));

  // Who is calling is settled before the contract check, so an anonymous caller learns nothing about what a
  // valid request looks like: an operation the contract protects (global `security`, not `security: []`)
  // answers 401 before its body is judged (oidc-loa3.md §6: authentication first). Presence only: scopes,
  // roles and grants are checked by each route, which knows the resource.
  const auth = deps.auth;
  if (auth) {
    app.use(auth.authenticate);
    const isProtected = protectedOperations(deps.openApi);
    app.use((req, res, next) => {
      if (res.locals.principal === undefined && isProtected(req.method, req.path)) auth.requirePrincipal(req, res, next);
      else next();
    });
  }

  // Every /v1 request is validated against the contract; undocumented /v1 routes answer 404 (no drift).
  app.use(OpenApiValidator.middleware({
    // The validator mutates the document it is given, so it gets its own copy.
    apiSpec: structuredClone(deps.openApi) as never,
    validateRequests: { allErrors: true, removeAdditional: false },
    validateResponses: false,
    validateSecurity: false,
    ignorePaths: /^\/(?!v1\/)/,
    ignoreUndocumented: false,
  }));
  if (auth) app.use(auth.router);
  for (const r of deps.routers) app.use(r.path, r.router);

  app.use(notFoundHandler);
  app.use(problemHandler(deps.logger));
  return app;
}

type OpenApiOperation = { security?: unknown[] };

/**
 * (method, path) → does the contract require a caller for this /v1 operation? An operation's own `security`
 * wins over the document's; an empty list means open. Paths the contract does not know are left to the
 * validator (404), and so are non-/v1 paths.
 */
export function protectedOperations(openApi: Record<string, unknown>): (method: string, path: string) => boolean {
  const globalSecurity = Array.isArray(openApi.security) ? openApi.security : [];
  const paths = (openApi.paths ?? {}) as Record<string, Record<string, OpenApiOperation>>;
  const routes = Object.entries(paths)
    .filter(([p]) => p.startsWith('/v1/'))
    .map(([p, ops]) => ({
      // Template segments ({id}) match one path segment; the rest is literal.
      re: new RegExp(`^${p.split(/(\{[^}]+\})/).map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))).join('')}/?$`),
      ops,
      templates: (p.match(/\{/g) ?? []).length,
    }))
    // A literal path wins over a template that would also match it (/v1/x/search before /v1/x/{id}).
    .sort((a, b) => a.templates - b.templates);
  return (method, path) => {
    if (!path.startsWith('/v1/')) return false;
    const m = method.toLowerCase();
    for (const r of routes) {
      if (!r.re.test(path)) continue;
      const op = r.ops[m];
      if (op === undefined) continue;
      const security = Array.isArray(op.security) ? op.security : globalSecurity;
      return security.length > 0;
    }
    return false;
  };
}

/** Every route of the given routers as "METHOD /path/{param}" (for the contract drift test). */
export function listRoutes(routers: { path: string; router: Router }[]): string[] {
  const out: string[] = [];
  for (const { path: base, router } of routers) {
    for (const layer of router.stack as unknown as { route?: { path: unknown; methods: Record<string, boolean> } }[]) {
      if (!layer.route || typeof layer.route.path !== 'string') continue;
      const p = `${base}${layer.route.path}`.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\/$/, '');
      for (const [m, on] of Object.entries(layer.route.methods)) if (on && m !== '_all') out.push(`${m.toUpperCase()} ${p}`);
    }
  }
  return out.sort();
}
