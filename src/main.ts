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
import { ensureDevPki } from '../scripts/dev-pki.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Gateway {
  config: Config;
  url: string;
  port: number;
  db: Database;
  queue: QueuePort;
  /** Every API route as "METHOD /path" (the contract drift test compares them with openapi.yaml). */
  routes: string[];
  stop(): Promise<void>;
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
      ['org-sign', config.ORG_SIGN_CERT_FILE], ['org-enc', config.ORG_ENC_CERT_FILE], ['tls-client', config.TLS_CLIENT_CERT_FILE],
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

    const openApi = loadOpenApi(path.join(ROOT, 'contracts/api/openapi.yaml'));
    const routers = [
      { path: '/v1/diagnostics', router: createDiagnosticsRouter({ store, queue, guard: [] }) },
    ];
    const app = createHttpApp({ logger, registry, openApi, checks, jsonLimitBytes: config.JSON_BODY_LIMIT, trustProxy: config.TRUST_PROXY, routers });
    const server: Server = await new Promise((resolve, reject) => {
      const s = app.listen(config.PORT, config.HOST, () => resolve(s));
      s.once('error', reject);
    });
    stops.push(() => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.PORT;

    let reconciler: Reconciler | undefined;
    if (config.WORKERS_ENABLED) {
      await queue.startWorker(createOutboxProcessor({ pool: db.pool, queue, handlers, leaseMs: config.OUTBOX_LEASE_MS, logger }), { concurrency: config.QUEUE_CONCURRENCY });
      reconciler = createReconciler({ pool: db.pool, queue, staleMs: config.OUTBOX_STALE_AFTER_MS, logger });
      reconciler.start(config.OUTBOX_RECONCILE_INTERVAL_MS);
      const r = reconciler;
      stops.push(async () => { await r.stop(); await queue.stopWorker(); });
    }

    const url = config.PUBLIC_URL ?? `http://localhost:${port}`;
    logger.info({ event: 'GATEWAY_STARTED', port, database: db.embedded ? 'embedded' : 'postgres', queue: queue.backend }, `Sändebud listening on ${url}`);
    return { config, url, port, db, queue, routes: listRoutes(routers), stop: stopAll };
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
