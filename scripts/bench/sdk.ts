// Benchmark of SDK between organisations (issue 7 "Must show"; ../shared/specs/sdk.md §8, §11): two real
// gateway processes, A (Sändebuds kommun, org-* keys) and B (Region Dev, peer1-* keys), exchange messages over
// the built-in AS4 access point with mutual TLS; an SMP/CertPub simulator started here tells each where the
// other is. Reported:
//
// * one large message (one PDF attachment; the JSON request is --large-mb MB, default 29) A → B until A sees
//   ACCEPTED: each process's peak RSS (/proc/<pid>/status VmHWM) before and after, as a ratio to the payload
//   size — both the whole peak and the growth over the idle process (a Node process with the gateway loaded
//   is ~200 MB before any message, so the whole-peak ratio mostly measures that baseline);
// * --small (default 1000) small messages A → B (--concurrency parallel POSTs) until all are ACCEPTED at A;
// * the raw RSA-2048 signing rate of one thread, measured in the same run, for comparison.
//
//   npm run bench:sdk -- [--large-mb 29] [--small 1000] [--concurrency 32] [--sign-seconds 2] [--trace]
//
// --trace: the gateways log at info level, and each one's resident set is sampled every 20 ms while the large
// message travels; stderr then gets both timelines (RSS next to the log events), to see which stage peaks.
// `node --expose-gc --import tsx scripts/bench/sdk-memory.ts` measures the stages one by one in one process.
//
// Needs PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test: two fresh databases are
// created and dropped) and Redis (REDIS_URL, default redis://127.0.0.1:6379). The last line is one JSON object.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { rawSignRate } from './baseline.js';
import { createScratchDatabase } from './scratch-database.js';
import { ensureDevPki, type DevParty, type DevPki } from '../dev-pki.js';
import { caseSystemToken, freePort, startMainProcess, type MainProcess } from '../main-process.js';
import { startSmpSimulator, type SmpSimParticipant } from '../../adapters/sdk/smp/simulator/index.js';

const A = { orgNumber: '2120000000', name: 'Sändebuds kommun (dev)', participant: '0007:2120000000', sign: 'org-sign', enc: 'org-enc', ap: 'org-tls-server' } as const;
const B = { orgNumber: '2321000016', name: 'Region Dev', participant: '0007:2321000016', sign: 'peer1-sign', enc: 'peer1-enc', ap: 'peer1-tls' } as const;
type Org = typeof A | typeof B;
const SCOPES = ['urn:sdk.api:sendMessage', 'urn:sdk.api:getMessage', 'urn:sdk.api:getMessageByFilter'];

const log = (s: string): void => { process.stderr.write(`${s}\n`); };
const round = (n: number, d = 1): number => Math.round(n * 10 ** d) / 10 ** d;

function options(): { largeMb: number; small: number; concurrency: number; signSeconds: number; trace: boolean } {
  const { values } = parseArgs({
    options: {
      'large-mb': { type: 'string', default: '29' },
      small: { type: 'string', default: '1000' },
      concurrency: { type: 'string', default: '32' },
      'sign-seconds': { type: 'string', default: '2' },
      trace: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const num = (name: string, raw: string, min: number, max: number): number => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) {
      process.stderr.write(`--${name}: expected a number from ${min} to ${max}, got "${raw}"\n`);
      process.exit(2);
    }
    return n;
  };
  return {
    largeMb: num('large-mb', values['large-mb'], 0.1, 30), small: Math.floor(num('small', values.small, 0, 100_000)),
    concurrency: Math.floor(num('concurrency', values.concurrency, 1, 512)), signSeconds: num('sign-seconds', values['sign-seconds'], 0.1, 60),
    trace: values.trace,
  };
}


type Child = MainProcess & { issuer: string };

/** --trace: log events of a gateway (pino JSON lines), with their time. */
type EventSink = (at: number, event: string) => void;

async function startMain(env: Record<string, string>, onEvent?: EventSink): Promise<Child> {
  const probe = onEvent !== undefined && env.MEMORY_PROBE_FILE !== undefined ? ['--import', './scripts/bench/memory-probe.mjs'] : [];
  const p = await startMainProcess({ NODE_ENV: 'development', LOG_LEVEL: onEvent ? 'info' : 'warn', ...env }, {
    waitForIssuer: true, nodeArgs: probe,
    onStdoutLine: onEvent && ((line) => {
      const m = /"event":"([A-Za-z0-9_.]+)"/.exec(line) ?? /"msg":"(request completed)"/.exec(line);
      if (m) onEvent(Date.now(), m[1]!);
    }),
  });
  if (p.issuer === undefined) throw new Error('gateway started without its identity provider');
  return { ...p, issuer: p.issuer };
}

/** Peak and current resident set size of a process, in bytes (Linux /proc). */
function rss(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { peak: kb('VmHWM'), now: kb('VmRSS') };
}

/** Reset the process's peak resident set (VmHWM) to its current size (proc(5), /proc/pid/clear_refs). */
function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

async function token(gw: Child): Promise<string> {
  return caseSystemToken(gw.issuer, SCOPES);
}

function messageBody(label: string, files: { fileName: string; contentType: string; content: string }[], text?: string): string {
  return JSON.stringify({ data: { type: 'messages', attributes: {
    confidentiality: true, label, sender: A.participant, recipient: B.participant,
    senderAttention: { subOrganization: { extension: `sdk:inkorg:${A.participant}` } },
    recipientAttention: { subOrganization: { extension: `sdk:inkorg:${B.participant}` } },
    digitalDocument: [{ documentId: 'd1', ...(text !== undefined ? { contentTextBody: [text] } : {}), ...(files.length > 0 ? { contentFiles: files } : {}) }],
  } } });
}

/** A syntactically plausible PDF whose base64 is `base64Bytes` long: incompressible bytes in one stream. */
function largePdfBase64(base64Bytes: number): string {
  const total = Math.floor(base64Bytes / 4) * 3;
  const head = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Length 0 >>\nstream\n', 'latin1');
  const tail = Buffer.from('\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n', 'latin1');
  const body = randomBytes(Math.max(0, total - head.length - tail.length));
  return Buffer.concat([head, body, tail]).toString('base64');
}

async function post(gw: Child, bearer: string, body: string): Promise<string> {
  const res = await fetch(`${gw.url}/v1/sdk/messages`, { method: 'POST', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body });
  if (res.status !== 201) throw new Error(`POST /v1/sdk/messages: ${res.status} ${(await res.text()).slice(0, 500)}`);
  return res.headers.get('location')!;
}

/**
 * The message's status once it is final (ACCEPTED or MESSAGE_EXCHANGE_ERROR), else 'PENDING'. Asked through
 * the listing, which carries no documents: GET /v1/sdk/messages/{id} returns the whole 29 MB message, and
 * polling that five times a second would measure the bench's own reads rather than the transfer.
 */
async function statusOf(gw: Child, bearer: string, location: string): Promise<string> {
  const id = location.split('/').pop();
  for (const status of ['ACCEPTED', 'MESSAGE_EXCHANGE_ERROR']) {
    const r = (await (await fetch(`${gw.url}/v1/sdk/messages?filter[messageStatus]=${status}&page[size]=500`, { headers: { authorization: `Bearer ${bearer}` } })).json()) as { data: Array<{ id: string }> };
    if (r.data.some((m) => m.id === id)) return status;
  }
  return 'PENDING';
}

async function countWithStatus(gw: Child, bearer: string, status: string): Promise<number> {
  const r = (await (await fetch(`${gw.url}/v1/sdk/messages?filter[messageStatus]=${status}&page[size]=1`, { headers: { authorization: `Bearer ${bearer}` } })).json()) as { meta: { page: { total: number } } };
  return r.meta.page.total;
}

async function until(what: string, timeoutMs: number, cond: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main(): Promise<void> {
  const opt = options();
  const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  log(`raw signing rate: RSA-2048 SHA-256 on one thread for ${opt.signSeconds} s …`);
  const rawSignPerS = rawSignRate(opt.signSeconds);
  log(`  ${round(rawSignPerS)} signatures/s`);

  const pki: DevPki = await ensureDevPki(path.join(os.tmpdir(), 'sandebud-test-pki'));
  const read = (f: string): string => readFileSync(f, 'utf8');
  const file = (p: DevParty, kind: 'crt' | 'key'): string => (kind === 'crt' ? pki.cert(p) : pki.key(p));
  const suffix = randomBytes(4).toString('hex');
  const dbs = [await createScratchDatabase(adminUrl, 'sandebud_bench_sdk_a', suffix), await createScratchDatabase(adminUrl, 'sandebud_bench_sdk_b', suffix)] as const;

  const ports = { a: await freePort(), b: await freePort() };
  const participant = (org: Org, port: number): SmpSimParticipant => ({
    id: org.participant,
    endpoint: { url: `https://127.0.0.1:${port}/as4`, certificatePem: read(pki.cert(org.ap)) },
    certificates: { signingPem: [read(pki.cert(org.sign))], encryptionPem: [read(pki.cert(org.enc))] },
  });
  const smp = await startSmpSimulator({
    port: 0, tls: { keyPem: read(pki.key('smp-tls')), certPem: read(pki.cert('smp-tls')), caPem: read(pki.caBundleFile) },
    signer: { keyPem: read(pki.key('smp-sign')), certPem: read(pki.cert('smp-sign')) },
    participants: [participant(A, ports.a), participant(B, ports.b)],
  });
  const envOf = (org: Org, dbUrl: string, port: number): Record<string, string> => ({
    DATABASE_URL: dbUrl, REDIS_URL: redisUrl, QUEUE_NAME: `bench-sdk-${org.orgNumber}-${suffix}`, SIMULATORS: 'true',
    CERTS_DIR: pki.dir, TRUST_CA_FILE: pki.caBundleFile, ORG_NUMBER: org.orgNumber, ORG_NAME: org.name,
    ORG_SIGN_CERT_FILE: file(org.sign, 'crt'), ORG_SIGN_KEY_FILE: file(org.sign, 'key'),
    ORG_ENC_CERT_FILE: file(org.enc, 'crt'), ORG_ENC_KEY_FILE: file(org.enc, 'key'),
    ORG_SEAL_CERT_FILE: file('org-seal', 'crt'), ORG_SEAL_KEY_FILE: file('org-seal', 'key'),
    TLS_CLIENT_CERT_FILE: file('org-tls-client', 'crt'), TLS_CLIENT_KEY_FILE: file('org-tls-client', 'key'),
    SIGNING_SERVICE_CERT_FILE: file('signing-service-sign', 'crt'),
    SDK_ACCESS_POINT: 'as4', SMP_URL: smp.url, SDK_AS4_LISTEN_PORT: String(port),
    SDK_AS4_CERT_FILE: file(org.ap, 'crt'), SDK_AS4_KEY_FILE: file(org.ap, 'key'),
    SDK_AS4_RETRY_ATTEMPTS: '20', SDK_AS4_RETRY_INTERVAL_MS: '1000',
  });
  let a: Child | undefined;
  let b: Child | undefined;
  try {
    log('starting gateway A (2120000000) and gateway B (2321000016) with SDK_ACCESS_POINT=as4 …');
    const events: Record<'A' | 'B', Array<{ at: number; event: string; stagePeak?: number }>> = { A: [], B: [] };
    // --trace: at each log event the process's high-water mark since the previous event is read and reset, so
    // every event carries the peak of the stage it ends (VmHWM catches what 20 ms sampling misses).
    const pids: Record<'A' | 'B', number> = { A: 0, B: 0 };
    let stagePeaks = false;
    const sink = (side: 'A' | 'B'): EventSink | undefined => (opt.trace ? (at, event) => {
      let stagePeak: number | undefined;
      if (stagePeaks && pids[side] > 0 && event !== 'HTTP_REQUEST') {
        stagePeak = rss(pids[side]).peak;
        resetPeak(pids[side]);
      }
      events[side].push({ at, event, ...(stagePeak !== undefined ? { stagePeak } : {}) });
    } : undefined);
    const probeFile = (side: 'A' | 'B'): string => path.join(os.tmpdir(), `sandebud-bench-sdk-${suffix}-${side}.jsonl`);
    const probeEnv = (side: 'A' | 'B'): Record<string, string> => (opt.trace ? { MEMORY_PROBE_FILE: probeFile(side) } : {});
    [a, b] = await Promise.all([startMain({ ...envOf(A, dbs[0].url, ports.a), ...probeEnv('A') }, sink('A')), startMain({ ...envOf(B, dbs[1].url, ports.b), ...probeEnv('B') }, sink('B'))]);
    const [tokenA] = await Promise.all([token(a)]);

    // Warm up (JIT, SMP cache, TLS sessions) with one small message.
    const warm = await post(a, tokenA, messageBody('warm-up', [], 'Hej.'));
    await until('the warm-up receipt', 60_000, async () => (await statusOf(a!, tokenA, warm)) === 'ACCEPTED');

    // --- one large message
    // The peak is the large message's own: reset each process's high-water mark (Linux: 5 > clear_refs) so a
    // peak of start-up or warm-up (migrations, JIT, the first TLS handshakes) is not counted as the message's.
    for (const pid of [a.pid, b.pid]) resetPeak(pid);
    const idle = { a: rss(a.pid), b: rss(b.pid) };
    const pdf = largePdfBase64(Math.round(opt.largeMb * 1_000_000) - 2_000);
    const largeBody = messageBody('Stor bilaga', [{ fileName: 'stor.pdf', contentType: 'application/pdf', content: pdf }]);
    const payloadBytes = Buffer.byteLength(largeBody);
    log(`large message: ${round(payloadBytes / 1e6, 2)} MB request (PDF ${round((pdf.length * 3) / 4 / 1e6, 2)} MB) …`);
    const samples: Record<'A' | 'B', Array<{ at: number; rss: number }>> = { A: [], B: [] };
    const sampler = opt.trace ? setInterval(() => {
      const now = Date.now();
      samples.A.push({ at: now, rss: rss(a!.pid).now });
      samples.B.push({ at: now, rss: rss(b!.pid).now });
    }, 20) : undefined;
    events.A.length = 0;
    events.B.length = 0;
    pids.A = a.pid;
    pids.B = b.pid;
    stagePeaks = opt.trace;
    const traceStart = Date.now();
    const t0 = performance.now();
    const large = await post(a, tokenA, largeBody);
    let largeStatus = '';
    await until('the large message\'s receipt', 600_000, async () => {
      largeStatus = await statusOf(a!, tokenA, large);
      return largeStatus === 'ACCEPTED' || largeStatus === 'MESSAGE_EXCHANGE_ERROR';
    });
    const largeMs = performance.now() - t0;
    stagePeaks = false;
    // With --trace the high-water mark was reset at each event: the message's peak is the largest stage peak.
    const peakOf = (pid: number, side: 'A' | 'B'): { peak: number; now: number } => {
      const r = rss(pid);
      return { ...r, peak: Math.max(r.peak, ...events[side].map((e) => e.stagePeak ?? 0)) };
    };
    const after = { a: peakOf(a.pid, 'A'), b: peakOf(b.pid, 'B') };
    if (sampler !== undefined) {
      clearInterval(sampler);
      for (const side of ['A', 'B'] as const) {
        const idleRss = side === 'A' ? idle.a.now : idle.b.now;
        const top = samples[side].reduce((m, x) => (x.rss > m.rss ? x : m), { at: 0, rss: 0 });
        log(`trace ${side}: RSS over idle at each log event (max sampled ${round((top.rss - idleRss) / 1e6)} MB at +${round((top.at - traceStart) / 1000, 2)} s)`);
        // HTTP_REQUEST lines are the bench's own status polls (one every 200 ms): left out of the timeline.
        const rows = [...events[side].filter((e) => e.event !== 'HTTP_REQUEST').map((e) => ({ at: e.at, what: e.event + (e.stagePeak !== undefined ? `  (peak since the previous event ${round((e.stagePeak - idleRss) / 1e6)} MB over idle)` : '') })), { at: top.at, what: '<max sampled RSS>' }].sort((x, y) => x.at - y.at);
        // The gateway's own view (scripts/bench/memory-probe.mjs): V8 heap and external memory next to the RSS.
        const probes = readFileSync(probeFile(side), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { at: number; rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number })
          .filter((p) => p.at >= traceStart);
        const mb = (n: number): string => String(round(n / 1e6)).padStart(6);
        for (const r of rows) {
          const near = samples[side].filter((x) => Math.abs(x.at - r.at) <= 60);
          const over = near.length === 0 ? NaN : Math.max(...near.map((x) => x.rss)) - idleRss;
          const p = probes.reduce<(typeof probes)[number] | undefined>((best, x) => (best === undefined || Math.abs(x.at - r.at) < Math.abs(best.at - r.at) ? x : best), undefined);
          const inside = p === undefined ? '' : `  heapUsed ${mb(p.heapUsed)} heapTotal ${mb(p.heapTotal)} external ${mb(p.external)} (ArrayBuffers ${mb(p.arrayBuffers)}) rss ${mb(p.rss)}`;
          log(`  +${String(round((r.at - traceStart) / 1000, 2)).padStart(6)} s  ${String(round(over / 1e6)).padStart(7)} MB over idle${inside}  ${r.what}`);
        }
        const top2 = probes.reduce<(typeof probes)[number] | undefined>((m, x) => (m === undefined || x.rss > m.rss ? x : m), undefined);
        if (top2 !== undefined) log(`  probe max rss ${mb(top2.rss)} MB at +${round((top2.at - traceStart) / 1000, 2)} s: heapUsed ${mb(top2.heapUsed)} heapTotal ${mb(top2.heapTotal)} external ${mb(top2.external)} (ArrayBuffers ${mb(top2.arrayBuffers)})`);
      }
    }
    log(`  ${largeStatus} after ${round(largeMs / 1000, 2)} s; peak RSS A ${round(after.a.peak / 1e6)} MB, B ${round(after.b.peak / 1e6)} MB`);

    // --- many small messages
    const acceptedBefore = await countWithStatus(a, tokenA, 'ACCEPTED');
    log(`${opt.small} small messages A → B, ${opt.concurrency} in parallel …`);
    const t1 = performance.now();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < opt.small) {
        const i = next++;
        await post(a!, tokenA, messageBody(`Litet ${i}`, [], `Meddelande ${i}.`));
      }
    };
    await Promise.all(Array.from({ length: opt.concurrency }, worker));
    const acceptMs = performance.now() - t1;
    let accepted = 0;
    let failed = 0;
    await until('all small messages ACCEPTED', 1_800_000, async () => {
      accepted = (await countWithStatus(a!, tokenA, 'ACCEPTED')) - acceptedBefore;
      failed = await countWithStatus(a!, tokenA, 'MESSAGE_EXCHANGE_ERROR');
      return accepted + failed >= opt.small;
    });
    const smallMs = performance.now() - t1;
    const perS = (accepted / smallMs) * 1000;
    log(`  ${accepted} ACCEPTED, ${failed} MESSAGE_EXCHANGE_ERROR in ${round(smallMs / 1000, 2)} s (${round(perS)} messages/s; API accepted all in ${round(acceptMs / 1000, 2)} s)`);

    const ratio = (n: number): number => round(n / payloadBytes, 2);
    const report = {
      bench: 'sdk',
      large: {
        status: largeStatus, payload_bytes: payloadBytes, seconds: round(largeMs / 1000, 2),
        a: { idle_rss_bytes: idle.a.now, peak_rss_bytes: after.a.peak, peak_rss_ratio: ratio(after.a.peak), peak_growth_ratio: ratio(after.a.peak - idle.a.now) },
        b: { idle_rss_bytes: idle.b.now, peak_rss_bytes: after.b.peak, peak_rss_ratio: ratio(after.b.peak), peak_growth_ratio: ratio(after.b.peak - idle.b.now) },
        target_ratio: 3,
      },
      small: { messages: opt.small, accepted, failed, concurrency: opt.concurrency, seconds: round(smallMs / 1000, 2), messages_per_s: round(perS), api_accept_seconds: round(acceptMs / 1000, 2) },
      raw_rsa2048_sign_per_s: round(rawSignPerS),
      small_messages_per_s_per_raw_sign: round(perS / rawSignPerS, 4),
      cpus: os.cpus().length,
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    await Promise.all([a?.stop(), b?.stop()].map((p) => p?.catch(() => undefined)));
    await smp.close().catch(() => undefined);
    for (const db of dbs) await db.drop();
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`bench:sdk failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
