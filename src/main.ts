// Composition root (style.md layout): load config, build the real adapters or the simulators, start HTTP,
// the queue workers and the outbox reconciler. The only module that sees everything.
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { ConfigError, developmentDefaultsInUse, loadConfig, publicUrl, resolvePath, type Config } from './config/index.js';
import { createLogger, type Logger } from './lib/logger.js';
import { checkCertificateFile } from './lib/cert-expiry.js';
import { openDatabase, type Database } from './store/database.js';
import { migrate } from './store/migrate.js';
import { createDeliveryStore } from './store/delivery.repository.js';
import { createBullmqQueue } from './queue/bullmq.queue.js';
import { createOutboxProcessor, createReconciler, type Reconciler } from './queue/dispatcher.js';
import { createHttpApp, listRoutes } from './http.js';
import { loadOpenApi, type ReadinessCheck } from './api/ops.router.js';
import { createDiagnosticsRouter } from './api/diagnostics.router.js';
import { PING_JOB, pingHandler } from './use-cases/ping.use-case.js';
import type { QueuePort } from './ports/queue.port.js';
import type { JobHandler } from './ports/job-handler.port.js';
import { ensureDevPki, type DevPki } from '../scripts/dev-pki.js';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { createAuth, provisionUser } from './auth/index.js';
import type { Role } from './domain/principal.js';
import { createAdminRouter } from './api/admin/index.js';
import { createAuditTrail } from './store/audit.repository.js';
import { SCOPE_ADMIN } from './auth/scopes.js';
import { startDevIdentityProvider } from '../adapters/identity/simulator/index.js';
import { startFarSimulator, startMailboxOperatorSimulator } from '../adapters/digital-post/simulator/index.js';
import { startPrintSimulator } from '../adapters/print/simulator/index.js';
import { createDigitalPostAdapters } from '../adapters/digital-post/index.js';
import { createPrintProvider } from '../adapters/print/index.js';
import { createPdfRenderer } from '../adapters/print/pdf-renderer.js';
import { parseOrganisationNumber } from './domain/digital-post.js';
import { createLetterStore } from './store/letter.repository.js';
import { digitalPostHandlers, type DigitalPostDeps } from './use-cases/digital-post/send-letter.use-case.js';
import { createDigitalPostRouter } from './api/digital-post/digital-post.router.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Gateway {
  config: Config;
  url: string;
  port: number;
  db: Database;
  queue: QueuePort;
  /** Every API route as "METHOD /path" (the contract drift test compares them with openapi.yaml). */
  routes: string[];
  /** Where the in-process simulators listen (development), by party. */
  simulators: Record<string, string>;
  /** The running simulators themselves (development and tests: they record the calls they received). */
  world?: World['handles'];
  stop(): Promise<void>;
}

/**
 * Development only: give the dev identity provider's people their accounts and roles (logging in never creates
 * an account, oidc-loa3.md §7.4), so `npm start` can be tried with every test user at once.
 */
async function seedDevelopmentUsers(pool: Database['pool'], audit: ReturnType<typeof createAuditTrail>, users: { personalIdentityNumber?: string; roles?: string[]; givenName?: string; familyName?: string }[]): Promise<void> {
  for (const u of users) {
    if (u.personalIdentityNumber === undefined || u.roles === undefined || u.roles.length === 0) continue;
    await provisionUser(pool, audit, {
      identityType: 'personalIdentityNumber', identityValue: u.personalIdentityNumber, displayName: `${u.givenName ?? ''} ${u.familyName ?? ''}`.trim(),
      roles: u.roles.filter((r): r is Role => r === 'admin' || r === 'auditor' || r === 'caseworker'), actor: 'system:dev-seed',
    });
  }
}

/** Systems need the admin scope, people the admin role. */
function adminOnly(auth: Awaited<ReturnType<typeof createAuth>>): import('express').RequestHandler {
  const systems = auth.requireScopes(SCOPE_ADMIN);
  const people = auth.requireRole('admin');
  return (req, res, next) => {
    const p = res.locals.principal as { kind?: string } | undefined;
    return p?.kind === 'system' ? systems(req, res, next) : people(req, res, next);
  };
}

interface World {
  handles: {
    idp: Awaited<ReturnType<typeof startDevIdentityProvider>>;
    far: Awaited<ReturnType<typeof startFarSimulator>>;
    mailboxA: Awaited<ReturnType<typeof startMailboxOperatorSimulator>>;
    mailboxB: Awaited<ReturnType<typeof startMailboxOperatorSimulator>>;
    print: Awaited<ReturnType<typeof startPrintSimulator>>;
  };
  overrides: { -readonly [K in keyof Config]?: Config[K] }; urls: Record<string, string>; stop(): Promise<void> }

/**
 * Start the local simulators of the external parties (development and tests; style.md convention 6) on
 * SIMULATORS_PORT_BASE + n (0 = free ports), and point every defaulted upstream key at them.
 */
async function startSimulators(config: Config, publicUrl: string, logger: Logger): Promise<World> {
  const pki: DevPki = await ensureDevPki(resolvePath(config, config.CERTS_DIR));
  const read = (f: string) => readFileSync(f, 'utf8');
  const port = (n: number) => (config.SIMULATORS_PORT_BASE === 0 ? 0 : config.SIMULATORS_PORT_BASE + n);
  const caBundle = read(pki.caBundleFile);
  const tlsOf = (party: Parameters<DevPki['cert']>[0]) => ({ key: read(pki.key(party)), cert: read(pki.cert(party)), ca: caBundle });
  const stops: (() => Promise<void>)[] = [];
  const urls: Record<string, string> = {};
  const overrides: World['overrides'] = {};
  let idp: World['handles']['idp']; let mailboxA: World['handles']['mailboxA']; let mailboxB: World['handles']['mailboxB'];
  let far: World['handles']['far']; let print: World['handles']['print'];
  try {
    idp = await startDevIdentityProvider({ port: port(9), publicUrl, apiAudience: config.API_AUDIENCE, signingKeyPem: read(pki.key('idp-sign')), logger });
    stops.push(() => idp.close());
    urls.identityProvider = idp.issuer;
    if (config.defaulted.has('OIDC_ISSUER')) overrides.OIDC_ISSUER = idp.issuer;

    mailboxA = await startMailboxOperatorSimulator({ port: port(2), tls: tlsOf('mailbox-a-tls'), signatureTrust: caBundle, name: 'A' });
    stops.push(() => mailboxA.close());
    mailboxB = await startMailboxOperatorSimulator({ port: port(3), tls: tlsOf('mailbox-b-tls'), signatureTrust: caBundle, name: 'B' });
    stops.push(() => mailboxB.close());
    far = await startFarSimulator({ port: port(1), tls: tlsOf('far-tls'), operators: { A: { serviceAddress: mailboxA.serviceAddress }, B: { serviceAddress: mailboxB.serviceAddress } } });
    stops.push(() => far.close());
    print = await startPrintSimulator({ port: port(4), tls: tlsOf('print-tls') });
    stops.push(() => print.close());
    urls.far = far.url;
    urls.mailboxA = mailboxA.serviceAddress;
    urls.mailboxB = mailboxB.serviceAddress;
    urls.print = print.url;
    if (config.defaulted.has('FAR_URL')) overrides.FAR_URL = far.url;
    if (config.defaulted.has('PRINT_PROVIDER_URL')) overrides.PRINT_PROVIDER_URL = print.url;
    logger.warn({ event: 'SIMULATORS_STARTED', urls }, 'DEVELOPMENT ONLY: local simulators of the external parties are running');
  } catch (err) {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    throw err;
  }
  return {
    handles: { idp, far, mailboxA, mailboxB, print }, overrides, urls,
    stop: async () => { for (const s of stops.reverse()) await s().catch(() => undefined); },
  };
}

/** Start the whole gateway. `env` is the process environment (tests pass their own). */
export async function startGateway(env: Record<string, string | undefined>, opts: { logger?: Logger } = {}): Promise<Gateway> {
  const config = loadConfig(env, ROOT);
  const logger = opts.logger ?? createLogger({ level: config.LOG_LEVEL });
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) await s().catch((err: unknown) => logger.error({ event: 'SHUTDOWN_STEP_FAILED', err }, 'shutdown step failed'));
  };

  try {
    const devDefaults = developmentDefaultsInUse(config);
    if (devDefaults.length > 0) {
      logger.warn({ event: 'DEVELOPMENT_DEFAULTS', keys: devDefaults.map((d) => d.key) }, 'DEVELOPMENT ONLY: running on development defaults (embedded database, simulators, dev PKI). NODE_ENV=production refuses them.');
    }
    // The dev PKI is generated on first start, so `npm install && npm start` needs no manual certificate step.
    if (!existsSync(resolvePath(config, config.ORG_SIGN_KEY_FILE)) && config.NODE_ENV !== 'production') {
      logger.info({ event: 'DEV_PKI_GENERATING', dir: config.CERTS_DIR }, 'generating the development PKI');
      await ensureDevPki(resolvePath(config, config.CERTS_DIR));
    }

    const db = await openDatabase({ url: config.DATABASE_URL, embeddedDir: resolvePath(config, config.EMBEDDED_DB_DIR), poolMax: config.DATABASE_POOL_MAX, logger });
    stops.push(() => db.close());
    const applied = await migrate(db.url);
    if (applied.applied.length > 0) logger.info({ event: 'MIGRATIONS_APPLIED', migrations: applied.applied }, 'database migrated');
    if (db.embedded && config.REDIS_URL === undefined) {
      // PGlite ignores startup options, so bullmq's pinned search_path must be set on the one shared session
      // (dependencies.md, bullmq row). Our own tables stay reachable through `public`.
      await db.pool.query('SET search_path TO bullmq, public');
    }

    const queue = await createBullmqQueue({
      name: config.QUEUE_NAME, redisUrl: config.REDIS_URL, postgresUrl: db.url, attempts: config.QUEUE_ATTEMPTS,
      backoffBaseMs: config.QUEUE_BACKOFF_BASE_MS, backoffMaxMs: config.QUEUE_BACKOFF_MAX_MS, lockMs: config.QUEUE_LOCK_MS, logger,
    });
    stops.push(() => queue.close());
    const store = createDeliveryStore(db.pool);

    const handlers: Record<string, JobHandler> = { [PING_JOB]: pingHandler({ store }) };

    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const keyPairs: [string, string][] = [
      ['org-sign', config.ORG_SIGN_CERT_FILE], ['org-seal', config.ORG_SEAL_CERT_FILE], ['org-enc', config.ORG_ENC_CERT_FILE], ['tls-client', config.TLS_CLIENT_CERT_FILE],
    ];
    const checks: ReadinessCheck[] = [
      { name: 'database', check: async () => { await db.pool.query('SELECT 1'); return { ok: true, detail: db.embedded ? 'embedded PostgreSQL (development)' : 'PostgreSQL' }; } },
      { name: 'queue', check: async () => { await queue.ping(); return { ok: true, detail: `bullmq on ${queue.backend}` }; } },
      ...keyPairs.map(([name, file]): ReadinessCheck => ({
        name: `certificate:${name}`,
        check: async () => {
          const s = checkCertificateFile(name, resolvePath(config, file), config.CERT_EXPIRY_WARN_DAYS);
          return { ok: s.ok, detail: s.detail };
        },
      })),
    ];

    // Listen first: the port (PORT=0 in tests) decides the public URL that the identity provider redirects to.
    const server: Server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.PORT, config.HOST, () => resolve());
    });
    stops.push(() => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.PORT;
    const url = config.PUBLIC_URL ?? `http://localhost:${port}`;

    // Development world: simulators of every external party, and endpoints pointing at them.
    const world = config.SIMULATORS ? await startSimulators(config, url, logger) : undefined;
    if (world) stops.push(world.stop);
    const effective: Config = Object.freeze({ ...config, PUBLIC_URL: url, ...(world?.overrides ?? {}) });

    const audit = createAuditTrail(db.pool);
    const auth = await createAuth({ config: effective, pool: db.pool, audit, logger });
    stops.push(() => auth.close());
    const adminGuard = [auth.requirePrincipal, adminOnly(auth), auth.csrf];
    if (world) await seedDevelopmentUsers(db.pool, audit, world.handles.idp.users);

    // Digital post (issue 5): FaR, mailbox operators and the print provider over mutual TLS.
    const pem = (f: string) => readFileSync(resolvePath(config, f), 'utf8');
    const tls = { key: pem(config.TLS_CLIENT_KEY_FILE), cert: pem(config.TLS_CLIENT_CERT_FILE), ca: pem(config.TRUST_CA_FILE) };
    const senderOrg = parseOrganisationNumber(config.ORG_NUMBER, 'ORG_NUMBER', { luhn: false });
    if (!senderOrg.ok) throw new ConfigError('ORG_NUMBER', senderOrg.error.message);
    const dp = createDigitalPostAdapters({
      tls,
      far: { url: effective.FAR_URL, cacheTtlMs: config.FAR_CACHE_TTL_MS, policy: { requireHttps: config.NODE_ENV === 'production', allowedOperatorIds: config.MAILBOX_OPERATORS_ALLOWED } },
      signing: {
        seal: { keyPem: pem(config.ORG_SEAL_KEY_FILE), certPem: pem(config.ORG_SEAL_CERT_FILE) },
        senders: { [senderOrg.value]: { keyPem: pem(config.ORG_SIGN_KEY_FILE), certPem: pem(config.ORG_SIGN_CERT_FILE) } },
        pool: config.SIGNER_POOL_SIZE > 0 ? { size: config.SIGNER_POOL_SIZE } : {},
      },
      operators: { requireHttps: config.NODE_ENV === 'production' },
      readTimeoutMs: config.UPSTREAM_TIMEOUT_MS,
      logger,
    });
    stops.push(() => dp.close());
    const printer = createPrintProvider({ url: effective.PRINT_PROVIDER_URL, tls, readTimeoutMs: config.UPSTREAM_TIMEOUT_MS, logger });
    stops.push(() => printer.close());
    const letters = createLetterStore(db.pool);
    const dpDeps: DigitalPostDeps = {
      store, letters, queue, registry: dp.recipientRegistry, mailbox: dp.mailbox, print: printer, renderer: createPdfRenderer(),
      sender: { organisationNumber: senderOrg.value, name: config.ORG_NAME },
    };
    Object.assign(handlers, digitalPostHandlers(dpDeps));

    const openApi = loadOpenApi(path.join(ROOT, 'contracts/api/openapi.yaml'));
    const routers = [
      { path: '/v1/digital-post', router: createDigitalPostRouter({ ...dpDeps, auth }) },
      { path: '/v1/diagnostics', router: createDiagnosticsRouter({ store, queue, guard: adminGuard }) },
      { path: '/v1/admin', router: createAdminRouter({ auth, pool: db.pool, audit }) },
    ];
    const app = createHttpApp({ logger, registry, openApi, checks, jsonLimitBytes: config.JSON_BODY_LIMIT, trustProxy: config.TRUST_PROXY, routers, auth });
    server.on('request', app);

    let reconciler: Reconciler | undefined;
    if (config.WORKERS_ENABLED) {
      await queue.startWorker(createOutboxProcessor({ pool: db.pool, queue, handlers, leaseMs: config.OUTBOX_LEASE_MS, logger }), { concurrency: config.QUEUE_CONCURRENCY });
      reconciler = createReconciler({ pool: db.pool, queue, staleMs: config.OUTBOX_STALE_AFTER_MS, logger });
      reconciler.start(config.OUTBOX_RECONCILE_INTERVAL_MS);
      const r = reconciler;
      stops.push(async () => { await r.stop(); await queue.stopWorker(); });
    }

    logger.info({ event: 'GATEWAY_STARTED', port, database: db.embedded ? 'embedded' : 'postgres', queue: queue.backend }, `Sändebud listening on ${url}`);
    return { config: effective, url, port, db, queue, routes: listRoutes(routers), simulators: world?.urls ?? {}, world: world?.handles, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** The few lines `npm start` prints for a person. */
export function banner(gw: Gateway): string {
  const base = gw.url;
  return [
    '',
    `  Sändebud is running on ${base}`,
    `    API docs:   ${base}/docs   (contract: ${base}/openapi.json)`,
    `    Health:     ${base}/healthz   Readiness: ${base}/readyz   Metrics: ${base}/metrics`,
    `    Login:      ${base}/login`,
    `    Storage:    ${gw.db.embedded ? 'embedded PostgreSQL in ' + gw.config.EMBEDDED_DB_DIR + ' (development only)' : 'PostgreSQL'}; queue: bullmq on ${gw.queue.backend}`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  let gw: Gateway;
  try {
    // eslint-disable-next-line no-restricted-properties -- the composition root hands the environment to the config module
    gw = await startGateway(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    process.stderr.write(`Sändebud failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  process.stdout.write(`${banner(gw)}\n`);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\nSändebud stopping (${signal})…\n`);
    gw.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

// Run only when executed directly (tests import startGateway).
if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}

export { publicUrl };
