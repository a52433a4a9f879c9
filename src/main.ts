// Composition root (style.md layout): load config, build the real adapters or the simulators, start HTTP,
// the queue workers and the outbox reconciler. The only module that sees everything.
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { ConfigError, developmentDefaultsInUse, loadConfig, publicUrl, resolvePath, type Config } from './config/index.js';
import { createLogger, type Logger } from './lib/logger.js';
import { setMemoryReleaseThreshold, settleAfterStartup } from './lib/memory.js';
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
import { createAuth, mtlsServerOptions, provisionUser } from './auth/index.js';
import { createServer as createHttpsServer } from 'node:https';
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
// --- SDK message service (issue 6): imports of the SDK wiring section at the end of this file.
import { createLoopbackNetwork, createSdkMessageService, sdkValidateCommand, tooLongReason, validatePayload, type CliIo } from '../adapters/sdk/index.js';
import { buildMessagePayloadBytes } from '../adapters/sdk/xhe/message.mapper.js';
import { SDK_LIMITS, asParticipantId, type SdkMessage } from './domain/sdk/index.js';
import { createSdkStore } from './store/sdk-message.repository.js';
import { FunctionAddressRepository } from './store/function-address.repository.js';
import { GrantRepository } from './store/grant.repository.js';
import { withTransaction } from './store/database.js';
import { createSdkModule, inboundLookups, type SdkModule } from './use-cases/sdk/sdk-messages.use-case.js';
import { createSimulatedPeer, type SimulatedPeer } from './use-cases/sdk/simulated-peer.js';
import { staticCertificateDirectory, type DirectoryEntry } from './use-cases/sdk/static-directory.js';
import type { PayloadPreparer } from './use-cases/sdk/sdk-deps.js';
import { createSdkRouter } from './api/sdk/sdk.router.js';
import { createSdkProblemHandler } from './api/sdk/sdk.problem.js';
import { withSdkBodyLimit } from './api/sdk/body-limit.js';
import { createAs4AccessPoint, createBackoffPolicy } from '../adapters/sdk/as4/index.js';
import { commonName, createSmpCertificateDirectory, createSmpClient, createSmpPeerResolver, createSmpTrust, createStaticSmpLocator } from '../adapters/sdk/smp/index.js';
import { createAs4DuplicateRepository } from './store/as4-duplicate.repository.js';
import type { AccessPoint, AddressBookAdministration, CertificateDirectory } from './ports/sdk.port.js';
import { Counter, Gauge } from 'prom-client';
import { createAddressBook, type AddressBookSnapshot } from '../adapters/sdk/address-book/index.js';
import { startAddressBookSimulator, type AddressBookSimEntry, type AddressBookSimulator } from '../adapters/sdk/address-book/simulator/index.js';
import { startSmpSimulator, type SmpSimParticipant, type SmpSimulator } from '../adapters/sdk/smp/simulator/index.js';
import { createAddressBookCopyRepository } from './store/sdk-address-book.repository.js';
import { DEV_ORGANISATIONS } from '../scripts/dev-pki.js';
import { sameParticipant } from './domain/sdk/identifiers.js';
// --- end SDK imports
// --- Signing and validation (issue 8): imports of the signing wiring section at the end of this file.
import 'reflect-metadata';
import { createPrivateKey, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { Router } from 'express';
import { autoPostFormHtml, createCentralSigningService, createOrganisationSealer, createSignatureValidator, sealKeyFromPem, signatureValidateCommand } from '../adapters/signing/index.js';
import { startSigningServiceSimulator, type SigningServiceOidcOptions, type SigningServiceSimulator } from '../adapters/signing/simulator/index.js';
import { DEV_ACR, signingServiceClient } from '../adapters/identity/simulator/index.js';
import { AppError } from './domain/errors.js';
import type { CentralSigningService } from './ports/signing.port.js';
import { createSigningStore } from './store/signing.repository.js';
import { createSigningRouter } from './api/signing/signing.router.js';
import type { GuardSource } from './api/guards.js';
// --- end signing imports

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
  /** SDK (issue 6): our participant id and, with SIMULATORS, the simulated peer organisation. */
  sdk: SdkInfo;
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
    /** Signing service (issue 8). */
    signing: SigningServiceSimulator;
    /** SDK (issue 7): SMP with CertPub, and the national address book's read API. */
    smp: SmpSimulator;
    addressBook: AddressBookSimulator;
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
  let signing: World['handles']['signing'];
  let smp: World['handles']['smp']; let addressBook: World['handles']['addressBook'];
  try {
    // The signing service (issue 8) listens first: the dev identity provider needs its origin for the
    // signing-service client's redirect URI, and the simulator reads the provider's issuer once it runs.
    const signingOidc: { current?: SigningServiceOidcOptions } = {};
    signing = await startDevSigningService(config, pki, port(8), () => signingOidc.current);
    stops.push(() => signing.close());
    idp = await startDevIdentityProvider({ port: port(9), publicUrl, apiAudience: config.API_AUDIENCE, signingKeyPem: read(pki.key('idp-sign')), logger, extraClients: [signingServiceClient(signing.origin)] });
    stops.push(() => idp.close());
    signingOidc.current = devSigningOidc(idp.issuer);
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
    // Signing service (issue 8), started above: see the signing wiring section at the end of this file.
    urls.signingService = signing.url;
    if (config.defaulted.has('SIGNING_SERVICE_URL')) overrides.SIGNING_SERVICE_URL = signing.url;
    // SDK (issue 7): SMP/CertPub and the address book's read API, listing our development participant and the
    // dev peer organisation (see devSdkRegistrations in the SDK wiring section).
    const sdkDev = devSdkRegistrations(config, pki, port(7));
    smp = await startSmpSimulator({ port: port(5), tls: { keyPem: read(pki.key('smp-tls')), certPem: read(pki.cert('smp-tls')), caPem: caBundle }, signer: { keyPem: read(pki.key('smp-sign')), certPem: read(pki.cert('smp-sign')) }, participants: sdkDev.smp });
    stops.push(() => smp.close());
    addressBook = await startAddressBookSimulator({ port: port(6), tls: { keyPem: read(pki.key('addressbook-tls')), certPem: read(pki.cert('addressbook-tls')), caPem: caBundle }, entries: sdkDev.addressBook });
    stops.push(() => addressBook.close());
    urls.smp = smp.url;
    urls.addressBook = addressBook.url;
    if (config.defaulted.has('SMP_URL')) overrides.SMP_URL = smp.url;
    if (config.defaulted.has('ADDRESS_BOOK_URL')) overrides.ADDRESS_BOOK_URL = addressBook.url;
    if (config.defaulted.has('ACCESS_POINT_URL') && sdkDev.peerAccessPointUrl !== undefined) overrides.ACCESS_POINT_URL = sdkDev.peerAccessPointUrl;
    logger.warn({ event: 'SIMULATORS_STARTED', urls }, 'DEVELOPMENT ONLY: local simulators of the external parties are running');
  } catch (err) {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    throw err;
  }
  return {
    handles: { idp, far, mailboxA, mailboxB, print, signing, smp, addressBook }, overrides, urls,
    stop: async () => { for (const s of stops.reverse()) await s().catch(() => undefined); },
  };
}

/** Start the whole gateway. `env` is the process environment (tests pass their own). */
export async function startGateway(env: Record<string, string | undefined>, opts: { logger?: Logger } = {}): Promise<Gateway> {
  const config = loadConfig(env, ROOT);
  const logger = opts.logger ?? createLogger({ level: config.LOG_LEVEL });
  setMemoryReleaseThreshold(config.MEMORY_RELEASE_BYTES);
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
    // HTTPS when configured; then the optional mutual TLS for systems (MTLS_CLIENT_CA_FILE) is checked here.
    const server: Server = config.TLS_SERVER_CERT_FILE !== undefined && config.TLS_SERVER_KEY_FILE !== undefined
      ? createHttpsServer({
        cert: readFileSync(resolvePath(config, config.TLS_SERVER_CERT_FILE)), key: readFileSync(resolvePath(config, config.TLS_SERVER_KEY_FILE)),
        ...(mtlsServerOptions(config) ?? {}),
      })
      : createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.PORT, config.HOST, () => resolve());
    });
    stops.push(() => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.PORT;
    const url = config.PUBLIC_URL ?? `${config.TLS_SERVER_CERT_FILE !== undefined ? 'https' : 'http'}://localhost:${port}`;

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

    // SDK message service (issue 6): see the SDK wiring section at the end of this file.
    const sdk = await startSdk(effective, { pool: db.pool, queue, logger, seedDevelopment: world !== undefined && config.NODE_ENV === 'development', audit, registry, devSmp: world?.handles.smp });
    stops.push(() => sdk.stop());
    Object.assign(handlers, sdk.module.handlers);

    // Signing and validation (issue 8): see the signing wiring section at the end of this file.
    const signingRouter = await startSigning(effective, { pool: db.pool, logger, auth, publicUrl: url, development: world !== undefined });

    const openApi = loadOpenApi(path.join(ROOT, 'contracts/api/openapi.yaml'));
    const routers = [
      { path: '/v1/digital-post', router: createDigitalPostRouter({ ...dpDeps, auth }) },
      { path: '/v1/diagnostics', router: createDiagnosticsRouter({ store, queue, guard: adminGuard }) },
      { path: '/v1/admin', router: createAdminRouter({ auth, pool: db.pool, audit, sdkAddressBook: sdk.addressBook }) },
      { path: '/v1/sdk', router: createSdkRouter({ sdk: sdk.module.deps, auth }) },
      { path: '/v1/sdk', router: createSdkProblemHandler(logger) }, // SDK problem format for every /v1/sdk error
      { path: '/v1/signing', router: signingRouter },
    ];
    const app = createHttpApp({ logger, registry, openApi, checks, jsonLimitBytes: config.JSON_BODY_LIMIT, trustProxy: config.TRUST_PROXY, routers, auth });
    // POST /v1/sdk/messages reads its (up to 30 MiB) body itself, streaming, before the app's 5 MB JSON parser.
    server.on('request', withSdkBodyLimit(app, { limitBytes: SDK_SETTINGS.httpBodyLimitBytes }));
    sdk.module.start(config.WORKERS_ENABLED ? { sweepIntervalMs: SDK_SETTINGS.sweepIntervalMs } : {});

    let reconciler: Reconciler | undefined;
    if (config.WORKERS_ENABLED) {
      await queue.startWorker(createOutboxProcessor({ pool: db.pool, queue, handlers, leaseMs: config.OUTBOX_LEASE_MS, logger }), { concurrency: config.QUEUE_CONCURRENCY });
      reconciler = createReconciler({ pool: db.pool, queue, staleMs: config.OUTBOX_STALE_AFTER_MS, logger });
      reconciler.start(config.OUTBOX_RECONCILE_INTERVAL_MS);
      const r = reconciler;
      stops.push(async () => { await r.stop(); await queue.stopWorker(); });
    }

    settleAfterStartup();
    logger.info({ event: 'GATEWAY_STARTED', port, database: db.embedded ? 'embedded' : 'postgres', queue: queue.backend }, `Sändebud listening on ${url}`);
    return { config: effective, url, port, db, queue, routes: listRoutes(routers), simulators: world?.urls ?? {}, world: world?.handles, sdk: sdk.info, stop: stopAll };
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
    ...simulatorLines(gw.simulators),
    '',
  ].join('\n');
}

/** The banner's list of running simulators (development), in the README's order. */
const SIMULATOR_LABELS: [key: string, label: string][] = [
  ['far', 'FaR'], ['mailboxA', 'Mailbox A'], ['mailboxB', 'Mailbox B'], ['print', 'Print'], ['smp', 'SMP/CertPub'],
  ['addressBook', 'Address book'], ['signingService', 'Signing'], ['identityProvider', 'Identity provider'],
];
function simulatorLines(urls: Record<string, string>): string[] {
  const known = SIMULATOR_LABELS.filter(([k]) => urls[k] !== undefined);
  if (known.length === 0) return [];
  return ['    Simulators (development only):', ...known.map(([k, label]) => `      ${`${label}:`.padEnd(20)}${urls[k]}`)];
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

// ===== SDK message service wiring (issues 6 and 7; docs/sdk.md, docs/as4.md) ===============================
// Our organisation's keys from ORG_SIGN_* / ORG_ENC_* and TRUST_CA_FILE. SDK_ACCESS_POINT=loopback: the in-process
// network with a fixed CertPub directory and, with SIMULATORS, a simulated peer organisation (dev PKI peer1-*
// keys) that answers with receipts. SDK_ACCESS_POINT=as4: the built-in AS4 access point with receiving APs and
// O2O certificates from SMP/CertPub. Always: the local read copy of the national address book, against which
// outgoing recipients and incoming function addresses are checked.

/** Settings that have no config keys yet (docs/sdk.md "Configuration" lists the keys to add). */
const SDK_SETTINGS = {
  sweepIntervalMs: 60_000,
  /** HTTP body limit of POST /v1/sdk/messages: 30 MiB (sdk.md §11); the built payload must still be ≤ 30 000 000 bytes. */
  httpBodyLimitBytes: SDK_LIMITS.maxInboundPayloadBytes,
  /** Attachment types we accept inbound (sdk.md §4: application/pdf is mandatory; the rest is our policy). */
  supportedContentTypes: ['application/pdf', 'text/plain', 'image/jpeg', 'image/png', 'image/tiff', 'application/xml', 'text/xml', 'text/csv'],
  /** The simulated peer: Region Dev of the dev PKI. */
  peerOrganisationNumber: '2321000016',
} as const;

export interface SdkInfo {
  /** Our participant id (ICD 0007 + ORG_NUMBER). */
  participant: string;
  /** Development: the simulated peer organisation and its function address. */
  peer?: SimulatedPeer;
}

/** Serialize and validate an outbound payload exactly as it will be encrypted (XSD, schematron port, 30 000 000 bytes). */
const prepareSdkPayload: PayloadPreparer = (m: SdkMessage) => {
  const payload = buildMessagePayloadBytes(m);
  if (payload.length > SDK_LIMITS.maxOutboundPayloadBytes) return { payload, problems: [tooLongReason(SDK_LIMITS.maxOutboundPayloadBytes)] };
  return { payload, problems: validatePayload(payload, { maxBytes: SDK_LIMITS.maxOutboundPayloadBytes }).reasons };
};

interface SdkStartDeps {
  pool: Database['pool'];
  queue: QueuePort;
  logger: Logger;
  seedDevelopment: boolean;
  audit: ReturnType<typeof createAuditTrail>;
  registry: Registry;
  /** Development: the SMP simulator, where our AS4 access point's real URL is registered once it listens. */
  devSmp?: SmpSimulator;
}

/** `config` is the effective configuration: with SIMULATORS, defaulted SMP_URL / ADDRESS_BOOK_URL point at the simulators. */
async function startSdk(config: Config, deps: SdkStartDeps): Promise<{ module: SdkModule; info: SdkInfo; addressBook: AddressBookAdministration; stop(): Promise<void> }> {
  const read = (f: string) => readFileSync(resolvePath(config, f), 'utf8');
  const key = (keyFile: string, certFile: string) => ({ privateKeyPem: readFileSync(keyFile, 'utf8'), certificatePem: readFileSync(certFile, 'utf8') });
  const ours = asParticipantId(`0007:${config.ORG_NUMBER}`);
  const peerParticipant = asParticipantId(`0007:${SDK_SETTINGS.peerOrganisationNumber}`);
  const entries: Record<string, DirectoryEntry> = { [ours]: { signing: [read(config.ORG_SIGN_CERT_FILE)], encryption: read(config.ORG_ENC_CERT_FILE), organizationNumber: config.ORG_NUMBER } };
  const pki = config.SIMULATORS ? await ensureDevPki(resolvePath(config, config.CERTS_DIR)) : undefined;
  if (pki) entries[peerParticipant] = { signing: [readFileSync(pki.cert('peer1-sign'), 'utf8')], encryption: readFileSync(pki.cert('peer1-enc'), 'utf8'), organizationNumber: SDK_SETTINGS.peerOrganisationNumber };
  else if (config.SDK_ACCESS_POINT === 'loopback') deps.logger.warn({ event: 'SDK_LOOPBACK_ONLY' }, 'SDK: loopback access point without simulators; only messages to our own participant are delivered (SDK_ACCESS_POINT=as4 reaches other organisations)');
  const trust = { anchors: [read(config.TRUST_CA_FILE)] };
  const net = createLoopbackNetwork();
  const addressBook = startAddressBook(config, ours, deps);
  const as4 = config.SDK_ACCESS_POINT === 'as4' ? await startAs4AccessPoint(config, ours, deps).catch(async (err: unknown) => { await addressBook.stop(); throw err; }) : undefined;
  if (as4?.url !== undefined && deps.devSmp !== undefined) registerDevAccessPoint(deps.devSmp, ours, as4.url);
  const certificates = as4?.certificates ?? staticCertificateDirectory(entries);
  const accessPoint: AccessPoint = as4?.accessPoint ?? net.accessPoint([ours]);
  const store = createSdkStore(deps.pool);
  const service = createSdkMessageService({
    ownParticipants: [ours], signingKey: key(resolvePath(config, config.ORG_SIGN_KEY_FILE), resolvePath(config, config.ORG_SIGN_CERT_FILE)),
    decryptionKeys: [key(resolvePath(config, config.ORG_ENC_KEY_FILE), resolvePath(config, config.ORG_ENC_CERT_FILE))],
    certificates, trust,
    lookups: inboundLookups(store, { supportedContentTypes: SDK_SETTINGS.supportedContentTypes, addressBook: { book: addressBook.book, ownParticipant: ours, logger: deps.logger } }),
  });
  const module = createSdkModule({
    store, queue: deps.queue, accessPoint, service, preparePayload: prepareSdkPayload, ownParticipant: ours, addressBook: addressBook.book,
    receiptTimeoutMs: config.SDK_RECEIPT_TIMEOUT_MS, logger: deps.logger,
  });
  let peer: SimulatedPeer | undefined;
  // With AS4 the peer is a real second gateway (SMP tells where it is), not a loopback simulation.
  if (pki && as4 === undefined) {
    peer = createSimulatedPeer({
      participant: peerParticipant, functionAddress: `sdk:inkorg:${peerParticipant}`, accessPoint: net.accessPoint([peerParticipant]), logger: deps.logger,
      makeService: (lookups) => createSdkMessageService({
        ownParticipants: [peerParticipant], signingKey: key(pki.key('peer1-sign'), pki.cert('peer1-sign')), decryptionKeys: [key(pki.key('peer1-enc'), pki.cert('peer1-enc'))],
        certificates, lookups, trust,
      }),
    });
    deps.logger.warn({ event: 'SDK_PEER_SIMULATOR', participant: peerParticipant, functionAddress: peer.functionAddress }, 'DEVELOPMENT ONLY: a simulated SDK peer organisation answers on the loopback access point');
  }
  if (deps.seedDevelopment) await seedDevelopmentSdkAddresses(deps.pool, deps.audit, ours);
  return {
    module,
    info: { participant: ours, ...(peer ? { peer } : {}) },
    addressBook: addressBook.book,
    stop: async () => { await module.stop(); await net.close(); await as4?.accessPoint.close(); await addressBook.stop(); },
  };
}

/**
 * The local read copy of the national SDK address book (sdk.md §3; docs/sdk.md "Address book"): downloaded from
 * ADDRESS_BOOK_URL (TLS trust TRUST_CA_FILE) at start and every ADDRESS_BOOK_REFRESH_MS, kept in PostgreSQL
 * (migration 0007) so a restart during an outage still has the last copy. The first download runs in the
 * background: the gateway starts even when the book is down, and the first look-ups wait for it (at most 10 s).
 * Metrics: sandebud_sdk_address_book_unavailable_total (look-ups without any copy), _age_seconds.
 */
function startAddressBook(config: Config, ours: string, deps: SdkStartDeps): { book: AddressBookAdministration; stop(): Promise<void> } {
  const caBundle = readFileSync(resolvePath(config, config.TRUST_CA_FILE), 'utf8');
  const addresses = new FunctionAddressRepository();
  const book = createAddressBook({
    api: { baseUrl: config.ADDRESS_BOOK_URL, tls: { caPem: caBundle }, timeoutMs: config.UPSTREAM_TIMEOUT_MS },
    store: createAddressBookCopyRepository<AddressBookSnapshot>(deps.pool),
    refreshIntervalMs: config.ADDRESS_BOOK_REFRESH_MS,
    ownFunctionAddresses: async () => (await addresses.list(deps.pool)).map((f) => f.address),
    ownParticipants: [ours],
    logger: deps.logger,
  });
  const unavailable = new Counter({ name: 'sandebud_sdk_address_book_unavailable_total', help: 'SDK address-book look-ups made while no copy of the national address book existed (outbound: refused 503; inbound: own table only)', registers: [deps.registry] });
  new Gauge({
    name: 'sandebud_sdk_address_book_age_seconds', help: 'Age of the local copy of the national SDK address book; -1 = no copy', registers: [deps.registry],
    collect() {
      const at = book.status().fetchedAt;
      this.set(at === undefined ? -1 : (Date.now() - at.getTime()) / 1000);
    },
  });
  const starting = book.start()
    // At start an administrator should see at once when one of our function addresses is missing (logged by the adapter).
    .then(() => book.missingOwnAddresses())
    .then(() => undefined, (err: unknown) => deps.logger.warn({ event: 'ADDRESS_BOOK_START_FAILED', code: err instanceof AppError ? err.code : undefined }, 'SDK address book: no copy at start'));
  const admin: AddressBookAdministration = {
    source: config.ADDRESS_BOOK_URL,
    async organisationOf(address) {
      try {
        return await book.organisationOf(address);
      } catch (err) {
        if (err instanceof AppError && err.code === 'ADDRESS_BOOK_UNAVAILABLE') unavailable.inc();
        throw err;
      }
    },
    status: () => book.status(),
    missingOwnAddresses: () => book.missingOwnAddresses(),
    refresh: () => book.refresh(),
  };
  return { book: admin, stop: async () => { await starting; await book.stop(); } };
}

/**
 * Development SDK world (issue 7 "Simulators"): what the SMP/CertPub simulator and the address book simulator list —
 * our development participant (ORG_NUMBER, its function address sdk:inkorg:…, ORG_SIGN/ORG_ENC certificates, the
 * AS4 certificate) and the dev peer organisation Region Dev (dev PKI peer1-*), whose access point SMP places at
 * ACCESS_POINT_URL (SIMULATORS_PORT_BASE + 7: a second gateway run as the peer listens there; docs/as4.md).
 */
function devSdkRegistrations(config: Config, pki: DevPki, peerApPort: number): { smp: SmpSimParticipant[]; addressBook: AddressBookSimEntry[]; peerAccessPointUrl?: string } {
  const read = (f: string) => readFileSync(f, 'utf8');
  const ours = `0007:${config.ORG_NUMBER}`;
  const peer = DEV_ORGANISATIONS.peer1;
  const peerId = `0007:${peer.orgnr}`;
  const peerAccessPointUrl = config.defaulted.has('ACCESS_POINT_URL') && peerApPort !== 0 ? `https://localhost:${peerApPort}/as4` : undefined;
  const smp: SmpSimParticipant[] = [{
    id: ours,
    // Replaced by the real URL once our AS4 access point listens (SDK_ACCESS_POINT=as4, registerDevAccessPoint).
    endpoint: { url: `https://localhost:${config.SDK_AS4_LISTEN_PORT === 0 ? 443 : config.SDK_AS4_LISTEN_PORT}/as4`, certificatePem: read(resolvePath(config, config.SDK_AS4_CERT_FILE)) },
    certificates: { signingPem: [read(resolvePath(config, config.ORG_SIGN_CERT_FILE))], encryptionPem: [read(resolvePath(config, config.ORG_ENC_CERT_FILE))] },
  }];
  const addressBook: AddressBookSimEntry[] = [{
    organisation: { participantId: ours, organizationNumber: config.ORG_NUMBER, name: config.ORG_NAME },
    addresses: [{ identifier: `sdk:inkorg:${ours}`, shortName: 'Inkorg' }],
  }];
  if (!sameParticipant(peerId, ours)) {
    smp.push({
      id: peerId,
      endpoint: { url: peerAccessPointUrl ?? config.ACCESS_POINT_URL, certificatePem: read(pki.cert('peer1-tls')) },
      certificates: { signingPem: [read(pki.cert('peer1-sign'))], encryptionPem: [read(pki.cert('peer1-enc'))] },
    });
    addressBook.push({ organisation: { participantId: peerId, organizationNumber: peer.orgnr, name: peer.name }, addresses: [{ identifier: `sdk:inkorg:${peerId}`, shortName: 'Registrator' }] });
  }
  return { smp, addressBook, ...(peerAccessPointUrl !== undefined ? { peerAccessPointUrl } : {}) };
}

/** Development: publish our AS4 access point's real URL (known only once it listens) in the simulated SMP. */
function registerDevAccessPoint(smp: SmpSimulator, ours: string, url: string): void {
  smp.setParticipants(smp.participants().map((p) => (sameParticipant(p.id, ours) ? { ...p, endpoint: { ...p.endpoint, url } } : p)));
}

/**
 * SDK_ACCESS_POINT=as4 (docs/as4.md §1, §3, §6): the built-in AS4 access point on its own mutual-TLS HTTPS server,
 * receiving APs and O2O certificates from SMP/CertPub (SMP_URL, signatures checked against TRUST_CA_FILE), and
 * duplicate elimination in PostgreSQL (migration 0006) so a retransmission after a restart is delivered once.
 */
async function startAs4AccessPoint(config: Config, ours: string, deps: { pool: Database['pool']; logger: Logger }): Promise<{ accessPoint: AccessPoint; url: string | undefined; certificates: CertificateDirectory }> {
  const read = (f: string) => readFileSync(resolvePath(config, f), 'utf8');
  const caBundle = read(config.TRUST_CA_FILE);
  const apCert = read(config.SDK_AS4_CERT_FILE);
  const apKey = read(config.SDK_AS4_KEY_FILE);
  const partyId = config.SDK_AS4_PARTY_ID ?? commonName(apCert);
  if (partyId === undefined) throw new AppError('SDK_AS4_PARTY_ID_MISSING', 'SDK_AS4_CERT_FILE has no CN; set SDK_AS4_PARTY_ID');
  const smp = createSmpClient({ locator: createStaticSmpLocator(config.SMP_URL), trust: createSmpTrust(caBundle), tls: { caPem: caBundle }, timeoutMs: config.UPSTREAM_TIMEOUT_MS,
    cacheTtlMs: config.SDK_SMP_CACHE_TTL_MS, negativeCacheTtlMs: Math.min(config.SDK_SMP_CACHE_TTL_MS, 300_000), logger: deps.logger });
  // ICD 0007 participants are organisation numbers: carry it with each certificate for the core's organisation check.
  const organizationNumber = async (p: string): Promise<string | undefined> => /^0007:(\d{10})$/.exec(p)?.[1];
  const accessPoint = await createAs4AccessPoint({
    partyId, servedParticipants: [ours],
    signing: { privateKeyPem: apKey, certificatePem: apCert },
    tls: { keyPem: apKey, certPem: apCert, caPem: caBundle },
    trustedCaPem: caBundle,
    peers: createSmpPeerResolver(smp),
    listen: { host: config.SDK_AS4_LISTEN_HOST, port: config.SDK_AS4_LISTEN_PORT },
    duplicates: createAs4DuplicateRepository(deps.pool),
    ...(config.SDK_AS4_RETRY_ATTEMPTS > 0 ? { retry: createBackoffPolicy({ attempts: config.SDK_AS4_RETRY_ATTEMPTS, initialDelayMs: config.SDK_AS4_RETRY_INTERVAL_MS, factor: 1 }) } : {}),
    logger: deps.logger,
  });
  deps.logger.warn({ event: 'SDK_AS4_LISTENING', url: accessPoint.url, partyId, smp: config.SMP_URL }, 'SDK: built-in AS4 access point listening (mutual TLS)');
  return { accessPoint, url: accessPoint.url, certificates: createSmpCertificateDirectory(smp, { organizationNumber }) };
}

/** Development only: one inbox of our own, usable at once by the dev case system and case worker (docs/sdk.md). */
async function seedDevelopmentSdkAddresses(pool: Database['pool'], audit: ReturnType<typeof createAuditTrail>, ours: string): Promise<void> {
  const addresses = new FunctionAddressRepository();
  const grants = new GrantRepository();
  const address = `sdk:inkorg:${ours}`;
  await withTransaction(pool, async (db) => {
    let f = await addresses.findByAddress(db, address);
    if (f === undefined) {
      f = await addresses.create(db, { address, name: 'Inkorg (development)', createdBy: 'system:dev-seed' });
      await audit.record({ type: 'FUNCTION_ADDRESS_ADDED', actor: 'system:dev-seed', subject: address, outcome: 'success', details: { id: f.id, name: f.name } }, db);
    }
    for (const principalId of ['system:case-system', 'system:case-system-b', 'person:caseworker1']) {
      for (const permission of ['send', 'read'] as const) await grants.add(db, { functionAddressId: f.id, principalId, permission, grantedBy: 'system:dev-seed' });
    }
  });
}

/** `sandebud sdk validate`: the adapters' validation, trusting TRUST_CA_FILE's anchors when that file exists. */
export async function sdkValidateCli(argv: string[], io: CliIo, env: Record<string, string | undefined>): Promise<number> {
  let trustAnchors: string[] = [];
  try {
    const config = loadConfig(env, ROOT);
    const file = resolvePath(config, config.TRUST_CA_FILE);
    if (existsSync(file)) trustAnchors = [readFileSync(file, 'utf8')];
  } catch {
    // An unusable configuration only means no default trust anchors; --trust still works.
  }
  return sdkValidateCommand(argv, io, { trustAnchors });
}
// ===== end of SDK message service wiring =====================================================================

// ===== Signing and validation wiring (issue 8; docs/signing.md) =============================================
// Central signing service (DSS extension) with our SignRequests signed by ORG_SIGN_*, signer and validation
// trust from TRUST_CA_FILE, CRLs from the dev PKI outside production, the organisation seal from ORG_SEAL_*.
// Keys this needs that src/config does not have yet are derived here (docs/signing.md "Configuration").

const SIGNING_SETTINGS = {
  /** How long a signing request waits for its signer (MUNI's default: 30 days). Future key SIGNING_REQUEST_TTL_HOURS. */
  requestTtlMs: 30 * 24 * 60 * 60 * 1000,
  /** Visits of one sign URL (SignRequests sent). Future key SIGNING_MAX_ATTEMPTS. */
  maxAttempts: 10,
  /** The signing service's response-signing certificate, pinned (§5.3 step 2). */
  serviceCertFile: (config: Config) => resolvePath(config, config.SIGNING_SERVICE_CERT_FILE),
} as const;

/** CRLs for signature validation: SIGNATURE_CRL_FILES, or the dev PKI's CRL files outside production. */
function signatureCrlFiles(config: Config): string[] {
  if (config.SIGNATURE_CRL_FILES.length > 0) return config.SIGNATURE_CRL_FILES.map((f) => resolvePath(config, f));
  if (config.NODE_ENV === 'production') return [];
  const dir = resolvePath(config, config.CERTS_DIR);
  return ['org', 'tls', 'signing'].map((ca) => path.join(dir, `crl-${ca}.pem`)).filter((f) => existsSync(f));
}

/**
 * Development: the simulator sends the signer to the dev identity provider (client `signing-service`, see
 * signingServiceClient) and accepts only LoA3 or LoA4 logins; the personnummer comes from the ID token.
 */
function devSigningOidc(issuer: string): SigningServiceOidcOptions {
  return { issuer, clientId: 'signing-service', clientSecret: 'dev-signing-secret', requiredAcr: [DEV_ACR.loa3, DEV_ACR.loa4] };
}

async function startDevSigningService(config: Config, pki: DevPki, port: number, oidc: () => SigningServiceOidcOptions | undefined): Promise<SigningServiceSimulator> {
  const read = (f: string) => readFileSync(f, 'utf8');
  return startSigningServiceSimulator({
    port,
    tls: { cert: read(pki.cert('signing-service-tls')), key: read(pki.key('signing-service-tls')) },
    // DSS-EXT: the returned chain ends in the (self-signed) root; our side never uses it as an anchor.
    issuer: { cert: read(pki.cert('signing-issuer')) + read(pki.rootCaCertFile), key: read(pki.key('signing-issuer')) },
    responseSigner: { cert: read(pki.cert('signing-service-sign')), key: read(pki.key('signing-service-sign')) },
    requesterCertificates: [read(resolvePath(config, config.ORG_SIGN_CERT_FILE))],
    oidc,
    // Only until the identity provider runs (oidc() is undefined): nobody can sign yet.
    authenticate: () => Promise.resolve({ ok: false, failure: 'authn-failed' }),
  });
}

/**
 * Development: an empty CRL of the simulator's signer CA (signing-issuer), so that signatures made through the
 * simulator validate with revocation checking on ('require'), as in production. Belongs in scripts/dev-pki.ts.
 */
async function devSignerCaCrl(pki: DevPki): Promise<string> {
  const der = (pem: string) => Buffer.from(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(pem)?.[1]?.replace(/\s+/g, '') ?? '', 'base64');
  const issuer = new x509.X509Certificate(new Uint8Array(der(readFileSync(pki.cert('signing-issuer'), 'utf8'))));
  const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const pkcs8 = createPrivateKey(readFileSync(pki.key('signing-issuer'), 'utf8')).export({ type: 'pkcs8', format: 'der' });
  const signingKey = await webcrypto.subtle.importKey('pkcs8', new Uint8Array(pkcs8), alg, false, ['sign']);
  const now = Date.now();
  const crl = await x509.X509CrlGenerator.create({ issuer: issuer.subject, thisUpdate: new Date(now - 60_000), nextUpdate: new Date(now + 30 * 24 * 3600_000), entries: [], signingKey, signingAlgorithm: alg }, webcrypto as unknown as Crypto);
  // The RFC 7468 label the validator reads is X509 CRL (@peculiar/x509 writes CRL).
  return `-----BEGIN X509 CRL-----\n${Buffer.from(crl.rawData).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END X509 CRL-----\n`;
}

/** Signing is refused with 503 when the signing service's certificate is not configured (validation and seal still work). */
const signingNotConfigured: CentralSigningService = {
  start: () => Promise.reject(new AppError('SIGNING_NOT_CONFIGURED', 'The central signing service is not configured.', { status: 503, expose: true })),
  complete: () => Promise.reject(new AppError('SIGNING_NOT_CONFIGURED', 'The central signing service is not configured.', { status: 503, expose: true })),
};

async function startSigning(config: Config, deps: { pool: Database['pool']; logger: Logger; auth: GuardSource; publicUrl: string; development: boolean }): Promise<Router> {
  const read = (f: string) => readFileSync(resolvePath(config, f), 'utf8');
  const trustAnchors = [read(config.TRUST_CA_FILE)];
  const crls = signatureCrlFiles(config).map((f) => readFileSync(f, 'utf8'));
  if (deps.development) crls.push(await devSignerCaCrl(await ensureDevPki(resolvePath(config, config.CERTS_DIR))));
  const serviceCertFile = SIGNING_SETTINGS.serviceCertFile(config);
  let central = signingNotConfigured;
  if (existsSync(serviceCertFile)) {
    central = createCentralSigningService({
      signServiceUrl: config.SIGNING_SERVICE_URL,
      signServiceEntityId: new URL(config.SIGNING_SERVICE_URL).origin,
      signRequesterEntityId: deps.publicUrl,
      responseUrl: `${deps.publicUrl}/v1/signing/responses`,
      identityProvider: config.OIDC_ISSUER,
      requestSigner: { certificatePem: read(config.ORG_SIGN_CERT_FILE), keyPem: read(config.ORG_SIGN_KEY_FILE) },
      signServiceCertificates: [readFileSync(serviceCertFile, 'utf8')],
      signerTrustAnchors: trustAnchors,
      signerCrls: crls,
    });
  } else {
    deps.logger.warn({ event: 'SIGNING_NOT_CONFIGURED', file: serviceCertFile }, 'signing: the signing service certificate is missing; POST /v1/signing/requests answers 503');
  }
  const store = createSigningStore(deps.pool);
  return createSigningRouter({
    auth: deps.auth,
    signing: { store, central, publicUrl: deps.publicUrl, requestTtlMs: SIGNING_SETTINGS.requestTtlMs, maxAttempts: SIGNING_SETTINGS.maxAttempts },
    validation: { store, validator: createSignatureValidator({ trustAnchors, crls, revocation: 'require' }) },
    evidence: { store, sealer: createOrganisationSealer({ key: sealKeyFromPem(read(config.ORG_SEAL_CERT_FILE), read(config.ORG_SEAL_KEY_FILE)) }), organisation: { name: config.ORG_NAME, organisationNumber: config.ORG_NUMBER } },
    autoPostFormHtml,
    logger: deps.logger,
  });
}

const SIGNATURE_USAGE = `usage: sandebud signature validate <file> [--trust <ca.pem>]... [--crl <crl.pem>]... [--content <detached-content-file>] [--no-revocation]
  Validates every signature in <file> (XML/XAdES, PDF/PAdES, CMS/CAdES) offline (no gateway needed) and prints one
  JSON object: {verdict, reason, documentSha256, signatures: [{status, reason, signer, signedAt, chain, ...}]}.
  Trust: TRUST_CA_FILE (and outside production the dev PKI CRLs). --trust ADDS anchors, --crl adds CRLs.
  --content        the signed content of a detached signature (.p7s, detached XMLDSig)
  --no-revocation  report revocation as unknown instead of TRY_LATER when no CRL is available
  Exit status: 0 valid, 1 invalid, 2 indeterminate, 64 usage error, 66 unreadable input.
`;

/** `sandebud signature validate`: the adapter's command with the configured trust; `--trust` adds to it (issue 8). */
export async function signatureValidateCli(argv: string[], io: { stdout(s: string): void; stderr(s: string): void }, env: Record<string, string | undefined>): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h') || argv[0] === 'help') { io.stdout(SIGNATURE_USAGE); return 0; }
  if (argv[0] !== 'validate') { io.stderr(`sandebud signature: unknown subcommand ${argv[0] ?? '(none)'}\n${SIGNATURE_USAGE}`); return 64; }
  let trust: string[] = [];
  let crls: string[] = [];
  try {
    const config = loadConfig(env, ROOT);
    trust = [resolvePath(config, config.TRUST_CA_FILE)].filter((f) => existsSync(f));
    crls = signatureCrlFiles(config);
  } catch (err) {
    io.stderr(`sandebud signature: configuration not usable (${err instanceof Error ? err.message : String(err)}); only --trust anchors apply\n`);
  }
  // The adapter replaces its default anchors when --trust is given; passing the configured file along makes --trust add.
  const args = argv.some((a) => a === '--trust' || a.startsWith('--trust=')) ? [...argv, ...trust.map((f) => `--trust=${f}`)] : argv;
  return signatureValidateCommand(args, { stdout: { write: (s: string) => io.stdout(s) }, stderr: { write: (s: string) => io.stderr(s) } }, { defaultTrustFiles: trust, defaultCrlFiles: crls });
}
// ===== end of signing and validation wiring ================================================================

// Run only when executed directly (tests import startGateway).
if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}

export { publicUrl };
