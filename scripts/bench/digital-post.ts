// Benchmark of digital post (issue 5 "Must show"; digital-post.md §7.3: two RSA signatures per letter, signed on
// worker threads across cores). N letters go through the REST API as batches, the FaR lookup, signing and
// sealing, and deliverSecure to two mailbox-operator simulators; the gateway runs in this process, FaR, the
// operators and the print provider in a child process (digital-post-parties.ts), all on this machine. The throughput is
// reported against the raw RSA-2048 signing rate of one Node thread measured in the same run, so the ratio
// means the same on a fast or a slow machine.
//
//   npm run bench:digital-post -- [--letters 20000] [--batch 10000] [--concurrency 64] [--pool-size 0] [--sql-profile]
//
// Needs the real PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test: a fresh database is
// created and dropped) and Redis (REDIS_URL, default redis://127.0.0.1:6379; a unique queue name). The gateway
// otherwise runs on its defaults; PASS_THROUGH below lists the settings a run may override from the environment.
//
// The gateway runs with SIMULATORS=false and this script starts the simulators itself: the FaR simulator
// answers every unscripted id as reachable (`unscripted`), which startGateway's built-in simulators cannot be
// told to do. FAR_URL, PRINT_PROVIDER_URL and OIDC_ISSUER point at them. CPU time is reported per letter for
// each process, with the machine's busy share, so the report shows where the cores went.
//
// Latency (p50_ms, p99_ms): per letter, from its RECEIVED event (the API accepted it, in the same transaction)
// to its DELIVERED event, from delivery_events. With batches every letter of a batch is accepted at once, so
// this is mostly queueing time; the HTTP accept time of each batch request is reported separately
// (batch_accept_ms). The last line printed is one JSON object.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { rawSignRate } from './baseline.js';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createScratchDatabase } from './scratch-database.js';
import { ensureDevPki } from '../dev-pki.js';
import { startGateway, ROOT, type Gateway } from '../../src/main.js';
import { createLogger } from '../../src/lib/logger.js';
import { luhnCheckDigit } from '../../src/domain/digital-post.js';
import { startDevIdentityProvider } from '../../adapters/identity/simulator/index.js';
import { DEFAULT_FAR_SCRIPT, DEFAULT_OPERATOR_SCRIPT } from '../../adapters/digital-post/simulator/index.js';
import { fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { readFileSync as readProc } from 'node:fs';

const MAX_BATCH = 10_000;
const FINAL = ['DELIVERED', 'PRINTED', 'REJECTED', 'FAILED', 'CANCELLED', 'HELD'];

function options(): { letters: number; batch: number; concurrency: number; poolSize: number; signSeconds: number; sqlProfile: boolean } {
  const { values } = parseArgs({
    options: {
      letters: { type: 'string', default: '20000' },
      batch: { type: 'string', default: String(MAX_BATCH) },
      concurrency: { type: 'string', default: '64' },
      'pool-size': { type: 'string', default: '0' },
      'sign-seconds': { type: 'string', default: '2' },
      'sql-profile': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const int = (name: string, raw: string, min: number, max: number): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      process.stderr.write(`--${name}: expected an integer from ${min} to ${max}, got "${raw}"\n`);
      process.exit(2);
    }
    return n;
  };
  return {
    letters: int('letters', values.letters, 1, 1_000_000),
    batch: int('batch', values.batch, 1, MAX_BATCH),
    concurrency: int('concurrency', values.concurrency, 1, 256),
    poolSize: int('pool-size', values['pool-size'], 0, 64),
    signSeconds: Number(values['sign-seconds']) > 0 ? Number(values['sign-seconds']) : 2,
    sqlProfile: values['sql-profile'],
  };
}


/**
 * N distinct, valid 12-digit personnummer (date + three-digit serial + Luhn check digit) that no simulator
 * script names, so FaR answers each one with `unscripted` (or the B entries we add).
 */
function recipients(n: number): string[] {
  const scripted = new Set([...Object.keys(DEFAULT_FAR_SCRIPT), ...Object.keys(DEFAULT_OPERATOR_SCRIPT)]);
  const out: string[] = [];
  const day0 = Date.UTC(1950, 0, 1);
  for (let d = 0; out.length < n; d++) {
    const date = new Date(day0 + d * 86_400_000);
    const ymd = `${date.getUTCFullYear()}${String(date.getUTCMonth() + 1).padStart(2, '0')}${String(date.getUTCDate()).padStart(2, '0')}`;
    for (let s = 100; s <= 999 && out.length < n; s++) {
      const nine = `${ymd.slice(2)}${s}`;
      const id = `${ymd}${s}${luhnCheckDigit(nine)}`;
      if (!scripted.has(id)) out.push(id);
    }
  }
  return out;
}

async function token(issuer: string, audience: string): Promise<string> {
  const meta = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { token_endpoint: string };
  const res = await fetch(meta.token_endpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('case-system:dev-case-secret').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: audience, scope: 'urn:sandebud:digital-post:send urn:sandebud:digital-post:read' }),
  });
  const json = (await res.json()) as { access_token?: string; error?: string };
  if (!json.access_token) throw new Error(`token request failed: ${json.error ?? res.status}`);
  return json.access_token;
}

/** Remove this run's queue from Redis (bullmq prefix `sandebud`, as src/queue/bullmq.queue.ts uses), dead-letter queue included. */
async function dropQueueKeys(redisUrl: string, queueName: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  try {
    for (const pattern of [`sandebud:${queueName}:*`, `sandebud:${queueName}-dead:*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}

interface PartiesStats { farCalls: number; farRetries: number; operatorCalls: number; operatorNonAccepted: number; cpuMs: number; peakRssMb: number }

/** Start scripts/bench/digital-post-parties.ts as a child process and wait until its servers listen. */
async function startParties(certsDir: string, atB: string[]): Promise<{ farUrl: string; printUrl: string; stats(): Promise<PartiesStats>; stop(): Promise<void> }> {
  // BENCH_PARTIES_CPU_PROF=<dir> writes a V8 CPU profile of the parties' process there (where their time goes).
  const prof = process.env.BENCH_PARTIES_CPU_PROF;
  const execArgv = ['--import', 'tsx', ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [])];
  const child = fork(path.join(ROOT, 'scripts/bench/digital-post-parties.ts'), [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = <T>(type: string): Promise<T> => new Promise((resolve, reject) => {
    const onMessage = (m: { type: string; message?: string }) => {
      if (m.type === type) { child.off('message', onMessage); child.off('exit', onExit); resolve(m as T); }
      else if (m.type === 'error') { child.off('message', onMessage); child.off('exit', onExit); reject(new Error(`parties process: ${m.message}`)); }
    };
    const onExit = (code: number | null) => reject(new Error(`parties process exited (${code})`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
  const ready = next<{ farUrl: string; printUrl: string }>('ready');
  child.send({ type: 'start', certsDir, atB });
  const { farUrl, printUrl } = await ready;
  return {
    farUrl, printUrl,
    async stats() { const p = next<PartiesStats>('stats'); child.send({ type: 'stats' }); return p; },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ type: 'stop' });
      await exited;
    },
  };
}

/** Busy share of all cores since `since` (from /proc/stat), in percent; with no argument, the current counters. */
function machineBusy(): number[];
function machineBusy(since: number[]): number;
function machineBusy(since?: number[]): number[] | number {
  const cpu = readProc('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  if (!since) return cpu;
  const d = cpu.map((v, i) => v - (since[i] ?? 0));
  const idle = (d[3] ?? 0) + (d[4] ?? 0);
  const total = d.reduce((a, b) => a + b, 0);
  return total === 0 ? 0 : Math.round((1000 * (total - idle)) / total) / 10;
}

const percentile = (sorted: number[], p: number): number => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;
const log = (s: string): void => { process.stderr.write(`${s}\n`); };

/**
 * Count the SQL statements the process sends (every pg client, pooled or not), to report round trips per
 * letter. Measurement only: the statements themselves are passed on unchanged.
 */
function countQueries(byText: boolean): { n: number; byText: Map<string, number> } {
  const counter = { n: 0, byText: new Map<string, number>() };
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    counter.n++;
    if (!byText) return original.apply(this, args);
    const q = args[0];
    const text = typeof q === 'string' ? q : typeof q === 'object' && q !== null && typeof (q as { text?: unknown }).text === 'string' ? (q as { text: string }).text : '?';
    const key = text.replace(/\s+/g, ' ').trim().slice(0, 70);
    counter.byText.set(key, (counter.byText.get(key) ?? 0) + 1);
    return original.apply(this, args);
  };
  return counter;
}

/** Gateway settings a run may override from the environment (e.g. OUTBOX_STALE_AFTER_MS=600000 to rule out the reconciler). */
const PASS_THROUGH = ['DATABASE_POOL_MAX', 'OUTBOX_STALE_AFTER_MS', 'OUTBOX_RECONCILE_INTERVAL_MS', 'OUTBOX_LEASE_MS', 'QUEUE_LOCK_MS', 'UPSTREAM_TIMEOUT_MS'] as const;
function passThrough(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of PASS_THROUGH) { const v = process.env[k]; if (v !== undefined) out[k] = v; }
  return out;
}

async function main(): Promise<void> {
  const opt = options();
  const queries = countQueries(opt.sqlProfile);
  const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

  // Peak RSS of this process: the gateway and its signer worker threads (the other parties report their own).
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 100);
  sampler.unref();

  log(`raw signing rate: RSA-2048 SHA-256 on one thread for ${opt.signSeconds} s …`);
  const rawSignPerS = rawSignRate(opt.signSeconds);
  log(`  ${round(rawSignPerS)} signatures/s`);

  const db = await createScratchDatabase(adminUrl, 'sandebud_bench');
  const queueName = `bench-${randomBytes(4).toString('hex')}`;

  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
  const stops: (() => Promise<unknown>)[] = [];
  let gw: Gateway | undefined;
  try {
    // The other parties (FaR, operators A and B, print) run in their own process, as they do in production; FaR
    // finds every recipient reachable, every second one at operator B. The identity provider only issues one token.
    const pki = await ensureDevPki(path.join(ROOT, 'certs-dev'));
    const read = (f: string) => readFileSync(f, 'utf8');
    const audience = 'urn:sandebud:api';
    const idp = await startDevIdentityProvider({ port: 0, apiAudience: audience, signingKeyPem: read(pki.key('idp-sign')), logger });
    stops.push(() => idp.close());
    const ids = recipients(opt.letters);
    const parties = await startParties(path.join(ROOT, 'certs-dev'), ids.filter((_, i) => i % 2 === 1));
    stops.push(() => parties.stop());
    const far = { url: parties.farUrl };
    const print = { url: parties.printUrl };

    gw = await startGateway({
      NODE_ENV: 'test', PORT: '0', SIMULATORS: 'false', SIMULATORS_PORT_BASE: '0', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      DATABASE_URL: db.url, DATABASE_POOL_MAX: '20', REDIS_URL: redisUrl,
      QUEUE_NAME: queueName, QUEUE_CONCURRENCY: String(opt.concurrency), FAR_CACHE_TTL_MS: '0',
      SIGNER_POOL_SIZE: String(opt.poolSize), FAR_URL: far.url, PRINT_PROVIDER_URL: print.url, OIDC_ISSUER: idp.issuer, API_AUDIENCE: audience,
      ...passThrough(),
    }, { logger });
    const access = await token(idp.issuer, audience);

    const letter = {
      subject: 'Information från kommunen', body: { contentType: 'text/plain', content: 'Hej!\r\nDetta är ett testbrev från prestandamätningen.' },
      supportInfo: { text: 'Ring kommunens kontaktcenter', phoneNumber: '060-19 10 00' },
    };
    const address = { name: 'Test Testsson', street: 'Storgatan 1', postalCode: '123 45', town: 'Sundsvall' };
    const batches: string[][] = [];
    for (let i = 0; i < ids.length; i += opt.batch) batches.push(ids.slice(i, i + opt.batch));

    log(`sending ${opt.letters} letters as ${batches.length} batch(es) to ${gw.url} (queue concurrency ${opt.concurrency}, signer pool ${opt.poolSize || 'one per core'}) …`);
    const t0 = Date.now();
    const cpu0 = process.cpuUsage();
    const busy0 = machineBusy();
    const queriesBefore = queries.n;
    const acceptMs: number[] = [];
    await Promise.all(batches.map(async (b, i) => {
      const started = performance.now();
      const res = await fetch(`${gw!.url}/v1/digital-post/batches`, {
        method: 'POST',
        headers: { authorization: `Bearer ${access}`, 'content-type': 'application/json', 'idempotency-key': `bench-${i}-${t0}` },
        body: JSON.stringify({ letter, recipients: b.map((recipient) => ({ recipient, postalAddress: address })) }),
      });
      if (res.status !== 202) throw new Error(`batch ${i}: HTTP ${res.status} ${await res.text()}`);
      acceptMs.push(performance.now() - started);
    }));
    log(`  accepted in ${acceptMs.map((x) => Math.round(x)).join(', ')} ms`);

    // Wait until every letter is final (or held): poll the store, never a fixed sleep.
    const pool = gw.db.pool;
    // A batch is routed in one transaction, so nothing moves for a while after a large batch: the guard is generous.
    let done = 0;
    let lastProgress = Date.now();
    let lastSeen = '';
    for (;;) {
      const r = await pool.query<{ done: number; moved: number }>(
        `SELECT count(*) FILTER (WHERE status = ANY($1))::int AS done, count(*) FILTER (WHERE status <> 'RECEIVED')::int AS moved FROM deliveries WHERE kind = 'letter'`, [FINAL]);
      done = r.rows[0]!.done;
      const seen = `${done}/${r.rows[0]!.moved}`;
      if (seen !== lastSeen) { lastSeen = seen; lastProgress = Date.now(); }
      if (done >= opt.letters) break;
      if (Date.now() - lastProgress > 600_000) throw new Error(`no progress for 600 s (${done} of ${opt.letters} final)`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const sqlStatements = queries.n - queriesBefore;
    const stats = await pool.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM deliveries WHERE kind = 'letter' GROUP BY status`);
    const counts = Object.fromEntries(stats.rows.map((r) => [r.status, r.n]));
    const lat = await pool.query<{ ms: number; end_ms: string }>(
      `SELECT extract(epoch FROM (d.at - r.at)) * 1000 AS ms, (extract(epoch FROM d.at) * 1000)::bigint AS end_ms
         FROM delivery_events d JOIN delivery_events r ON r.delivery_id = d.delivery_id AND r.status = 'RECEIVED'
        WHERE d.status = 'DELIVERED'`,
    );
    // Timeline: when the FaR lookups had routed every letter (last SENDING event) and when the first was delivered.
    const tl = await pool.query<{ routed: string | null; first: string | null }>(
      `SELECT (extract(epoch FROM max(at) FILTER (WHERE status = 'SENDING')) * 1000)::bigint AS routed,
              (extract(epoch FROM min(at) FILTER (WHERE status = 'DELIVERED')) * 1000)::bigint AS first FROM delivery_events`,
    );
    const latencies = lat.rows.map((r) => Number(r.ms)).sort((a, b) => a - b);
    const lastAt = lat.rows.reduce((m, r) => Math.max(m, Number(r.end_ms)), t0);
    const seconds = (lastAt - t0) / 1000;
    const delivered = counts.DELIVERED ?? 0;
    const lettersPerS = delivered / seconds;
    const cpu = process.cpuUsage(cpu0);
    const cores = availableParallelism();
    const busy = machineBusy(busy0);
    const other = await parties.stats();
    const farCalls = other.farCalls;
    const farRetries = other.farRetries;
    const operatorCalls = other.operatorCalls;
    const operatorDuplicates = other.operatorNonAccepted;
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);

    const report = {
      letters: opt.letters,
      delivered,
      counts,
      seconds: round(seconds, 2),
      letters_per_s: round(lettersPerS),
      raw_sign_per_s: round(rawSignPerS),
      ratio: round(lettersPerS / rawSignPerS, 3),
      far_calls: farCalls,
      far_retries: farRetries,
      far_calls_target: Math.ceil(opt.letters / 1000) + farRetries,
      operator_calls: operatorCalls,
      sql_per_letter: round(sqlStatements / opt.letters, 1),
      operator_non_accepted: operatorDuplicates,
      latency: 'accept (RECEIVED event) to DELIVERED event, per letter',
      p50_ms: Math.round(percentile(latencies, 50)),
      p99_ms: Math.round(percentile(latencies, 99)),
      batch_accept_ms: acceptMs.map((x) => Math.round(x)),
      all_routed_s: tl.rows[0]?.routed ? round((Number(tl.rows[0].routed) - t0) / 1000, 2) : null,
      first_delivered_s: tl.rows[0]?.first ? round((Number(tl.rows[0].first) - t0) / 1000, 2) : null,
      peak_rss_mb: Math.round(peakRss / (1024 * 1024)),
      parties_peak_rss_mb: other.peakRssMb,
      // CPU time per delivered letter: the gateway process (all its threads), the other parties' process, and
      // the whole machine's busy share over the run (PostgreSQL and Redis included).
      gateway_cpu_ms_per_letter: round((cpu.user + cpu.system) / 1000 / Math.max(1, delivered), 2),
      parties_cpu_ms_per_letter: round(other.cpuMs / Math.max(1, delivered), 2),
      machine_busy_pct: busy,
      // The ratio each side alone would allow if the other cost nothing and it had every core to itself:
      // cores × 1000 / (its CPU ms per letter) letters/s, divided by the raw signing rate. The run's ratio
      // cannot exceed the smaller of the two (PostgreSQL and Redis need cores too).
      gateway_bound_ratio: round((cores * 1000) / Math.max(0.001, (cpu.user + cpu.system) / 1000 / Math.max(1, delivered)) / rawSignPerS, 3),
      parties_bound_ratio: round((cores * 1000) / Math.max(0.001, other.cpuMs / Math.max(1, delivered)) / rawSignPerS, 3),
      queue_concurrency: opt.concurrency,
      overrides: passThrough(),
      signer_pool: opt.poolSize,
      cpus: cores,
      node: process.version,
    };
    log('');
    log(`letters delivered:  ${delivered} of ${opt.letters} in ${report.seconds} s  (${JSON.stringify(counts)})`);
    log(`throughput:         ${report.letters_per_s} letters/s`);
    log(`raw signing rate:   ${report.raw_sign_per_s} RSA-2048 signatures/s on one thread`);
    log(`ratio:              ${report.ratio}  (target ≥ 0.5)`);
    log(`FaR calls:          ${farCalls} (${farRetries} failed/retried; target ≤ ${report.far_calls_target})`);
    log(`accept → DELIVERED: p50 ${report.p50_ms} ms, p99 ${report.p99_ms} ms`);
    log(`peak RSS:           ${report.peak_rss_mb} MB (gateway process), ${report.parties_peak_rss_mb} MB (other parties' process)`);
    log(`CPU per letter:     ${report.gateway_cpu_ms_per_letter} ms gateway, ${report.parties_cpu_ms_per_letter} ms other parties; machine ${report.machine_busy_pct} % busy`);
    log(`ratio bounds:       ${report.gateway_bound_ratio} from the gateway's CPU alone, ${report.parties_bound_ratio} from the other parties' alone (all ${cores} cores each)`);
    log(`SQL statements:     ${report.sql_per_letter} per letter (including BEGIN/COMMIT and the progress polls)`);
    if (opt.sqlProfile) {
      // Statement texts (first 70 characters) by count: where the round trips per letter go.
      for (const [text, n] of [...queries.byText].sort((a, b) => b[1] - a[1]).slice(0, 40)) log(`${String(n).padStart(8)}  ${text}`);
    }
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    clearInterval(sampler);
    if (gw) await gw.stop().catch((e: unknown) => log(`gateway stop failed: ${String(e)}`));
    for (const s of stops.reverse()) await s().catch(() => undefined);
    await dropQueueKeys(redisUrl, queueName).catch((e: unknown) => log(`could not remove the queue's Redis keys: ${String(e)}`));
    await db.drop();
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`bench:digital-post failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
