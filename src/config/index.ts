// The one typed configuration module (style.md convention 4; issue 3 §2).
// Every key is defined once below, with its documentation and default. The environment is read once,
// into a frozen object; a bad value stops start-up with an error naming the key. Secrets can be given
// as KEY_FILE (a path whose contents become the value). The defaults run everything locally against the
// simulators and certs-dev; the production profile refuses to start on them.
import { readFileSync } from 'node:fs';
import path from 'node:path';

type Parser<T> = (raw: string, key: string) => T;

export class ConfigError extends Error {
  constructor(readonly key: string, message: string) {
    super(`Configuration error in ${key}: ${message}`);
    this.name = 'ConfigError';
  }
}

const str: Parser<string> = (raw) => raw;
const int = (min: number, max: number): Parser<number> => (raw, key) => {
  if (!/^-?[0-9]+$/.test(raw.trim())) throw new ConfigError(key, `expected an integer, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(key, `expected an integer between ${min} and ${max}, got ${n}`);
  return n;
};
const bool: Parser<boolean> = (raw, key) => {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(key, `expected true or false, got "${raw}"`);
};
const url: Parser<string> = (raw, key) => {
  try {
    const u = new URL(raw);
    if (!['http:', 'https:', 'postgres:', 'postgresql:', 'redis:', 'rediss:'].includes(u.protocol)) throw new Error('protocol');
    return raw;
  } catch {
    throw new ConfigError(key, `expected a URL, got "${raw}"`);
  }
};
const oneOf = <T extends string>(...values: T[]): Parser<T> => (raw, key) => {
  if ((values as string[]).includes(raw)) return raw as T;
  throw new ConfigError(key, `expected one of ${values.join(', ')}, got "${raw}"`);
};
const list: Parser<string[]> = (raw) => raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
const bytes: Parser<number> = (raw, key) => {
  const m = /^([0-9]+)\s*(b|kb|mb|kib|mib)?$/i.exec(raw.trim());
  if (!m) throw new ConfigError(key, `expected a size like 2mb or 1048576, got "${raw}"`);
  const unit = (m[2] ?? 'b').toLowerCase();
  const mult = unit === 'b' ? 1 : unit.startsWith('k') ? 1024 : 1024 * 1024;
  return Number(m[1]) * mult;
};

interface KeyDef<T> {
  /** One line for the README configuration table. */
  doc: string;
  /** Default as the environment would spell it; undefined means "unset" (optional key). */
  default: string | undefined;
  parse: Parser<T>;
  /** Secret keys may be given as KEY_FILE and are never printed. */
  secret?: boolean;
}

const def = <T, D extends string | undefined>(doc: string, dflt: D, parse: Parser<T>, secret = false): KeyDef<T> & { default: D } =>
  ({ doc, default: dflt, parse, secret });

const DEV = 'certs-dev';
/** Local simulator ports; every upstream URL below defaults to one of them. */
export const SIMULATOR_PORTS = {
  far: 7101, mailboxA: 7102, mailboxB: 7103, print: 7104, smp: 7105, addressBook: 7106, peerAccessPoint: 7107, signing: 7108, identity: 7109,
} as const;
const sim = (port: number, p = '') => `https://localhost:${port}${p}`;

/** Every configuration key, its documentation and its default. Keep this list alphabetical within groups. */
export const KEYS = {
  // --- runtime
  NODE_ENV: def('Profile: development, test or production. Production refuses development defaults.', 'development', oneOf('development', 'test', 'production')),
  HOST: def('Interface the HTTP server binds to.', '127.0.0.1', str),
  PORT: def('HTTP port of the gateway.', '3000', int(0, 65535)),
  PUBLIC_URL: def('External base URL of the gateway (used in links and OIDC redirect URIs). Defaults to http://localhost:PORT.', undefined, url),
  TRUST_PROXY: def('Express "trust proxy" setting: set to true behind a TLS-terminating reverse proxy so Secure cookies and client IPs work.', 'false', bool),
  LOG_LEVEL: def('pino log level.', 'info', oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent')),
  JSON_BODY_LIMIT: def('Largest accepted JSON request body.', '5mb', bytes),
  // --- storage and queue
  DATABASE_URL: def('PostgreSQL connection string. Unset: an embedded PostgreSQL (PGlite) under EMBEDDED_DB_DIR (development only).', undefined, url, true),
  EMBEDDED_DB_DIR: def('Data folder of the embedded PostgreSQL when DATABASE_URL is unset.', 'var/pglite', str),
  DATABASE_POOL_MAX: def('Maximum connections in the PostgreSQL pool.', '10', int(1, 200)),
  REDIS_URL: def('Redis connection string for the bullmq queue. Unset: bullmq\'s PostgreSQL backend on the same database.', undefined, url, true),
  QUEUE_NAME: def('Name (and Redis key prefix) of the dispatch queue; tests use one per file.', 'sandebud', str),
  QUEUE_ATTEMPTS: def('Delivery attempts before a job is dead-lettered.', '8', int(1, 100)),
  QUEUE_BACKOFF_BASE_MS: def('First retry delay; doubles each attempt, with full jitter.', '2000', int(1, 3_600_000)),
  QUEUE_BACKOFF_MAX_MS: def('Upper bound of the retry delay.', '600000', int(1, 86_400_000)),
  QUEUE_LOCK_MS: def('Queue job lock: a crashed worker\'s in-flight jobs are taken over within about twice this.', '30000', int(500, 600_000)),
  QUEUE_CONCURRENCY: def('Jobs processed at once by one worker process.', '8', int(1, 256)),
  OUTBOX_RECONCILE_INTERVAL_MS: def('How often the reconciler looks for outbox rows that have no live job.', '15000', int(100, 3_600_000)),
  OUTBOX_STALE_AFTER_MS: def('An outbox row pending longer than this without a live job is re-enqueued.', '30000', int(0, 86_400_000)),
  OUTBOX_LEASE_MS: def('How long one attempt may hold an outbox row before another worker may take it over (longer than any upstream call).', '300000', int(100, 86_400_000)),
  WORKERS_ENABLED: def('Run queue workers and the reconciler in this process.', 'true', bool),
  MEMORY_RELEASE_BYTES: def('After a stage that handled a message of at least this many bytes (request body, payload, envelope), run a full garbage collection so the next stage does not sit on its garbage (docs/sdk.md "Memory"); 0 = never.', String(8 * 1024 * 1024), int(0, 2_147_483_647)),
  // --- keys and certificates (PEM files)
  CERTS_DIR: def('Folder of the development PKI written by `npm run certs`.', DEV, str),
  ORG_NAME: def('Our organisation\'s name, as in its certificates; the sender name of digital post.', 'Sändebuds kommun (dev)', str),
  ORG_NUMBER: def('Our organisation number (organisationsnummer, 10 digits): the sender of digital post and SDK messages.', '2120000000', (raw, key) => {
    if (!/^[0-9]{10}$/.test(raw)) throw new ConfigError(key, 'expected 10 digits');
    return raw;
  }),
  ORG_SEAL_CERT_FILE: def('Certificate we seal digital post with as förmedlare (PEM).', `${DEV}/org-seal.crt`, str),
  ORG_SEAL_KEY_FILE: def('Private key for ORG_SEAL_CERT_FILE (PEM).', `${DEV}/org-seal.key`, str),
  ORG_SIGN_CERT_FILE: def('Our signing certificate (PEM).', `${DEV}/org-sign.crt`, str),
  ORG_SIGN_KEY_FILE: def('Private key for ORG_SIGN_CERT_FILE (PEM).', `${DEV}/org-sign.key`, str),
  ORG_ENC_CERT_FILE: def('Our encryption certificate (PEM), published for senders.', `${DEV}/org-enc.crt`, str),
  ORG_ENC_KEY_FILE: def('Private key for ORG_ENC_CERT_FILE (PEM).', `${DEV}/org-enc.key`, str),
  TLS_CLIENT_CERT_FILE: def('Client certificate for outbound mutual TLS (PEM).', `${DEV}/org-tls-client.crt`, str),
  TLS_CLIENT_KEY_FILE: def('Private key for TLS_CLIENT_CERT_FILE (PEM).', `${DEV}/org-tls-client.key`, str),
  TRUST_CA_FILE: def('CA certificates (PEM bundle) trusted for upstream TLS servers and signatures.', `${DEV}/ca-bundle.crt`, str),
  CERT_EXPIRY_WARN_DAYS: def('/readyz reports not ready when a configured certificate expires within this many days.', '14', int(0, 3650)),
  // --- upstream systems (defaults: local simulators started by `npm start`)
  SIMULATORS: def('Start the local simulators of every external party in-process (development only).', 'true', bool),
  SIMULATORS_PORT_BASE: def('First port of the local simulators (FaR = base+1, mailbox A = +2, B = +3, print = +4, SMP = +5, address book = +6, peer access point = +7, signing = +8, identity provider = +9); 0 = any free ports.', '7100', int(0, 65000)),
  FAR_URL: def('FaR (Förmedlingsadressregistret) Recipient service endpoint for isReachable.', sim(SIMULATOR_PORTS.far, '/far/Recipient'), url),
  MAILBOX_OPERATORS_ALLOWED: def('Mailbox operators (brevlådeoperatörer) we deliver to, by ServiceSupplier/Id as FaR returns it (digital-post.md §5.4 rule 7); empty = all.', '', list),
  FAR_CACHE_TTL_MS: def('How long a FaR answer may be reused for the same sender and recipient (max 3,600,000).', '300000', int(0, 3_600_000)),
  SIGNER_POOL_SIZE: def('Worker threads for RSA signing of digital post (0 = one per core).', '0', int(0, 64)),
  PRINT_PROVIDER_URL: def('Print-and-post provider API (paper fallback).', sim(SIMULATOR_PORTS.print, '/print/v1'), url),
  SMP_URL: def('SMP/CertPub service for recipients\' certificates (SDK); the base the participant paths are appended to. Default: the local SMP simulator.', sim(SIMULATOR_PORTS.smp), url),
  ADDRESS_BOOK_URL: def('National SDK address book read API base URL (we read its api/v1/organizations and api/v1/addresses; docs/as4.md §4). Default: the local address-book simulator.', sim(SIMULATOR_PORTS.addressBook), url),
  ADDRESS_BOOK_REFRESH_MS: def('How often the local read copy of the national SDK address book is refreshed (sdk.md §3); 0 = only at start and on demand (POST /v1/admin/sdk/address-book/refresh).', '3600000', int(0, 86_400_000)),
  ACCESS_POINT_URL: def('Development: where the SMP simulator places the dev peer organisation\'s AS4 access point (a second gateway run as the peer listens there; docs/as4.md).', sim(SIMULATOR_PORTS.peerAccessPoint, '/as4'), url),
  SIGNING_SERVICE_URL: def('Central signing service (DSS-extension SignRequest endpoint).', sim(SIMULATOR_PORTS.signing, '/sign/request'), url),
  SIGNING_SERVICE_CERT_FILE: def('The central signing service\'s response-signing certificate (PEM), pinned (signing.md §5.3).', `${DEV}/signing-service-sign.crt`, str),
  SIGNATURE_CRL_FILES: def('CRLs (PEM) used when validating signatures, comma separated; empty = the dev PKI\'s CRLs in development, none in production.', '', list),
  SDK_RECEIPT_TIMEOUT_MS: def('An SDK message without a receipt this long after it was sent ends in MESSAGE_EXCHANGE_ERROR (sdk.md §10).', '86400000', int(1000, 30 * 86_400_000)),
  SDK_ACCESS_POINT: def('SDK access point: `loopback` (in-process network; with SIMULATORS a simulated peer) or `as4` (built-in AS4 access point, peers and certificates from SMP_URL; docs/as4.md).', 'loopback', oneOf('loopback', 'as4')),
  SDK_AS4_PARTY_ID: def('Our AS4 party id (as published in SMP); unset = the CN of SDK_AS4_CERT_FILE.', undefined, str),
  SDK_AS4_CERT_FILE: def('AS4 access point certificate (PEM): signs ebMS messages and receipts, TLS server and client certificate.', `${DEV}/org-tls-server.crt`, str),
  SDK_AS4_KEY_FILE: def('Private key for SDK_AS4_CERT_FILE (PEM).', `${DEV}/org-tls-server.key`, str),
  SDK_AS4_LISTEN_HOST: def('Interface of the AS4 access point\'s own mutual-TLS HTTPS server (SDK_ACCESS_POINT=as4).', '127.0.0.1', str),
  SDK_AS4_LISTEN_PORT: def('Port of the AS4 access point\'s own HTTPS server, path /as4 (0 = any free port, logged at start).', '0', int(0, 65535)),
  SDK_AS4_RETRY_ATTEMPTS: def('AS4 send attempts (first included) while the receiving access point is unreachable; 0 = the P-mode\'s (Domibus 12;4;CONSTANT: 5 attempts, 3 minutes apart).', '0', int(0, 100)),
  SDK_AS4_RETRY_INTERVAL_MS: def('Delay between AS4 send attempts when SDK_AS4_RETRY_ATTEMPTS is set.', '180000', int(10, 86_400_000)),
  SDK_SMP_CACHE_TTL_MS: def('How long verified SMP/CertPub metadata (receiving AP, O2O certificates) is reused (SDK_ACCESS_POINT=as4); 0 = look up every time.', '3600000', int(0, 86_400_000)),
  UPSTREAM_TIMEOUT_MS: def('Timeout for each upstream call.', '15000', int(100, 600_000)),
  // --- identity (OIDC, tillitsnivå 3)
  OIDC_ISSUER: def('OpenID Provider issuer URL. Default: the development identity provider.', `http://localhost:${SIMULATOR_PORTS.identity}`, url),
  OIDC_CLIENT_ID: def('Our client id at the OpenID Provider (people\'s login).', 'sandebud-web', str),
  OIDC_CLIENT_SECRET: def('Client secret at the OpenID Provider.', 'dev-web-secret', str, true),
  OIDC_REQUESTED_ACR: def('acr requested at login (oidc-loa3.md).', 'http://id.elegnamnden.se/loa/1.0/loa3', str),
  OIDC_ACR_REQUEST_MODE: def('How the acr is requested: claims (essential acr claim) or acr_values (fallback for providers without claims support).', 'claims', oneOf('claims', 'acr_values')),
  OIDC_ACCEPTED_ACR: def('acr values accepted after login, comma separated (oidc-loa3.md: Swedish LoA3/LoA4 and the notified eIDAS substantial/high; others only by explicit configuration).',
    'http://id.elegnamnden.se/loa/1.0/loa3,http://id.elegnamnden.se/loa/1.0/loa4,http://id.elegnamnden.se/loa/1.0/eidas-nf-sub,http://id.elegnamnden.se/loa/1.0/eidas-nf-high', list),
  OIDC_ROLES_CLAIM: def('Claim carrying roles (admin, auditor, caseworker); empty = roles only from Sändebud\'s user table.', '', str),
  API_AUDIENCE: def('Required `aud` of bearer access tokens from case systems.', 'urn:sandebud:api', str),
  BOOTSTRAP_ADMINS: def('Personal identity numbers that are administrators from first start (comma separated).', '199001012385', list, true),
  SESSION_IDLE_MINUTES: def('A session ends after this much inactivity.', '30', int(1, 1440)),
  SESSION_ABSOLUTE_HOURS: def('A session ends this long after login, whatever the activity.', '8', int(1, 168)),
  TLS_SERVER_CERT_FILE: def('Serve the gateway over HTTPS with this certificate (PEM). Unset: plain HTTP, for a TLS-terminating proxy in front. Needed for MTLS_CLIENT_CA_FILE.', undefined, str),
  TLS_SERVER_KEY_FILE: def('Private key for TLS_SERVER_CERT_FILE (PEM).', undefined, str),
  MTLS_CLIENT_CA_FILE: def('When set, case systems must present a client certificate issued by this CA (PEM).', undefined, str),
} satisfies Record<string, KeyDef<unknown>>;

type Keys = typeof KEYS;
type ValueOf<K extends keyof Keys> = Keys[K] extends KeyDef<infer T> ? T : never;
export type Config = { readonly [K in keyof Keys]: Keys[K]['default'] extends string ? ValueOf<K> : ValueOf<K> | undefined } & {
  /** Keys whose value came from the defaults (not from the environment). */
  readonly defaulted: ReadonlySet<keyof Keys>;
  /** Absolute project root; relative paths in the config are resolved against it. */
  readonly root: string;
};

export type Env = Record<string, string | undefined>;

/**
 * Parse the environment into a frozen Config. Throws ConfigError naming the first bad key.
 * `root` anchors relative file paths (defaults to the current directory).
 */
export function loadConfig(env: Env, root: string = process.cwd()): Config {
  const out: Record<string, unknown> = {};
  const defaulted = new Set<keyof Keys>();
  for (const [key, d] of Object.entries(KEYS) as [keyof Keys, KeyDef<unknown>][]) {
    let raw = env[key];
    const fileKey = `${key}_FILE`;
    // KEY_FILE is for secrets (and any key whose value is better kept out of the environment).
    const file = env[fileKey];
    if (file !== undefined && file !== '') {
      if (raw !== undefined) throw new ConfigError(key, `set either ${key} or ${fileKey}, not both`);
      try {
        raw = readFileSync(path.resolve(root, file), 'utf8').trim();
      } catch {
        throw new ConfigError(fileKey, `cannot read file "${file}"`);
      }
    }
    if (raw === undefined || raw === '') {
      if (d.default === undefined) {
        out[key] = undefined;
        continue;
      }
      raw = d.default;
      defaulted.add(key);
    }
    out[key] = d.parse(raw, key);
  }
  const cfg = { ...out, defaulted, root } as unknown as Config;
  if ((cfg.TLS_SERVER_CERT_FILE === undefined) !== (cfg.TLS_SERVER_KEY_FILE === undefined)) {
    throw new ConfigError(cfg.TLS_SERVER_CERT_FILE === undefined ? 'TLS_SERVER_CERT_FILE' : 'TLS_SERVER_KEY_FILE', 'TLS_SERVER_CERT_FILE and TLS_SERVER_KEY_FILE go together');
  }
  // Client certificates can only be checked where TLS ends: in the gateway (issue 4, optional mTLS for systems).
  if (cfg.MTLS_CLIENT_CA_FILE !== undefined && cfg.TLS_SERVER_CERT_FILE === undefined) {
    throw new ConfigError('MTLS_CLIENT_CA_FILE', 'needs TLS_SERVER_CERT_FILE and TLS_SERVER_KEY_FILE: client certificates are checked where TLS ends');
  }
  if (cfg.NODE_ENV === 'production') assertProductionReady(cfg);
  return Object.freeze(cfg);
}

/** Keys that point at development-only defaults; production refuses each of them (issue 3 §2). */
export function developmentDefaultsInUse(cfg: Config): { key: string; why: string }[] {
  const found: { key: string; why: string }[] = [];
  if (cfg.DATABASE_URL === undefined) found.push({ key: 'DATABASE_URL', why: 'unset: the embedded PostgreSQL is for development only' });
  if (cfg.SIMULATORS) found.push({ key: 'SIMULATORS', why: 'the local simulators must not run in production' });
  const certKeys = ['ORG_SIGN_CERT_FILE', 'ORG_SIGN_KEY_FILE', 'ORG_SEAL_CERT_FILE', 'ORG_SEAL_KEY_FILE', 'ORG_ENC_CERT_FILE', 'ORG_ENC_KEY_FILE', 'TLS_CLIENT_CERT_FILE', 'TLS_CLIENT_KEY_FILE', 'TRUST_CA_FILE', 'SIGNING_SERVICE_CERT_FILE'] as const;
  const devDir = path.resolve(cfg.root, DEV);
  for (const k of certKeys) {
    const p = path.resolve(cfg.root, cfg[k]);
    if (p.startsWith(devDir + path.sep) || p === devDir) found.push({ key: k, why: 'points at the development PKI in certs-dev/' });
  }
  const urlKeys = ['FAR_URL', 'PRINT_PROVIDER_URL', 'SMP_URL', 'ADDRESS_BOOK_URL', 'ACCESS_POINT_URL', 'SIGNING_SERVICE_URL', 'OIDC_ISSUER'] as const;
  for (const k of urlKeys) {
    if (cfg.defaulted.has(k)) found.push({ key: k, why: 'points at a local simulator' });
  }
  if (cfg.defaulted.has('OIDC_CLIENT_SECRET')) found.push({ key: 'OIDC_CLIENT_SECRET', why: 'is the development client secret' });
  if (cfg.defaulted.has('BOOTSTRAP_ADMINS')) found.push({ key: 'BOOTSTRAP_ADMINS', why: 'names the development test administrator' });
  return found;
}

function assertProductionReady(cfg: Config): void {
  const found = developmentDefaultsInUse(cfg);
  const first = found[0];
  if (first !== undefined) {
    throw new ConfigError(first.key, `NODE_ENV=production refuses development defaults (${first.why}). ` +
      `Also affected: ${found.slice(1).map((f) => f.key).join(', ') || 'none'}.`);
  }
}

/** Resolve a configured path against the project root. */
export function resolvePath(cfg: Config, p: string): string {
  return path.resolve(cfg.root, p);
}

/** The configuration table, for `sandebud config` and the README. */
export function configTable(): { key: string; default: string; doc: string; secret: boolean }[] {
  return Object.entries(KEYS).map(([key, d]) => ({ key, default: d.default ?? '(unset)', doc: d.doc, secret: Boolean(d.secret) }));
}

/** Effective base URL of the gateway. */
export function publicUrl(cfg: Config): string {
  return (cfg.PUBLIC_URL ?? `http://localhost:${cfg.PORT}`).replace(/\/$/, '');
}
