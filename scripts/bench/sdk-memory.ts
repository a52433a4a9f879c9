// Memory of one large SDK message, stage by stage, in ONE process (issue 7 "Must show": peak RSS ≤ 3 × payload;
// docs/sdk.md "Memory"). `npm run bench:sdk` measures the two real gateway processes as a whole; this script
// runs the same code paths one after the other — sender A: HTTP body → JSON → payload → store → seal → store →
// AS4 packaging; receiver B: AS4 unpackaging and WS-Security → store → judge (verify, decrypt, validate) →
// store → receipt — and reports, for each stage, how far the resident set rose above its level at the start of
// the stage (Linux VmHWM, reset through /proc/self/clear_refs) and what the stage left alive afterwards (V8 heap
// + external memory after a full GC). The stages keep exactly what the real code keeps between them.
//
//   node --expose-gc --import tsx scripts/bench/sdk-memory.ts [--large-mb 29] [--json]
//
// Needs PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test; one fresh database is
// created and dropped) because the store stages are real. Linux only (/proc).
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { constants as zlibConstants } from 'node:zlib';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createScratchDatabase } from './scratch-database.js';
import { ensureDevPki } from '../dev-pki.js';
import { migrate } from '../../src/store/migrate.js';
import { createSdkStore } from '../../src/store/sdk-message.repository.js';
import { toDomainMessage } from '../../src/api/sdk/sdk-message.mapper.js';
import { parseSdkMessageBody } from '../../src/api/sdk/body-limit.js';
import { requestHash } from '../../src/domain/request-hash.js';
import { checkOutboundMessage } from '../../src/domain/sdk/message.js';
import { SDK_LIMITS } from '../../src/domain/sdk/constants.js';
import type { ParticipantId } from '../../src/domain/sdk/identifiers.js';
import type { InboundLookups } from '../../src/ports/sdk.port.js';
import { staticCertificateDirectory } from '../../src/use-cases/sdk/static-directory.js';
import { createSdkMessageService, validatePayload } from '../../adapters/sdk/index.js';
import { buildMessagePayloadBytes } from '../../adapters/sdk/xhe/message.mapper.js';
import { defaultPmode } from '../../adapters/sdk/as4/pmode.js';
import { secureEnvelope, verifyEnvelope } from '../../adapters/sdk/as4/wss.js';
import { buildMultipart, parseContentType, parseMultipart } from '../../adapters/sdk/as4/mime.js';
import { readXheRouting } from '../../adapters/sdk/as4/xhe-routing.js';
import { gunzipBounded } from '../../adapters/sdk/as4/as4.server.js';
import { gzipInto } from '../../adapters/sdk/as4/index.js';
import { createTrustStore } from '../../adapters/shared/x509-trust.js';

const MB = 1e6;
const round = (n: number, d = 1): number => Math.round(n * 10 ** d) / 10 ** d;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  process.stderr.write('run with node --expose-gc\n');
  process.exit(2);
}

function procStatus(): { rss: number; hwm: number } {
  const s = readFileSync('/proc/self/status', 'utf8');
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

interface Row { side: string; stage: string; ms: number; peakOverStart: number; retained: number; rssAfter: number }
const rows: Row[] = [];
/** Highest resident set seen during any stage since the last `resetPeak()`. */
let peakSeen = 0;
function resetPeak(): void {
  peakSeen = 0;
}

function fullGc(): void {
  gc!();
  gc!();
}

/** Run one stage: GC, reset the peak, run, read the peak, GC again and see what stayed alive. */
async function stage<T>(side: string, name: string, fn: () => T | Promise<T>): Promise<T> {
  fullGc();
  const m0 = process.memoryUsage();
  const start = procStatus().rss;
  writeFileSync('/proc/self/clear_refs', '5');
  const t0 = performance.now();
  const result = await fn();
  const ms = performance.now() - t0;
  const peak = procStatus().hwm;
  peakSeen = Math.max(peakSeen, peak);
  fullGc();
  const m1 = process.memoryUsage();
  const row = { side, stage: name, ms, peakOverStart: peak - start, retained: m1.heapUsed + m1.external - (m0.heapUsed + m0.external), rssAfter: procStatus().rss };
  rows.push(row);
  process.stderr.write(`${side} ${name.padEnd(44)} ${String(round(ms / 1000, 2)).padStart(7)} s  peak +${String(round(row.peakOverStart / MB)).padStart(6)} MB  retained ${String(round(row.retained / MB)).padStart(6)} MB  rss ${round(row.rssAfter / MB)} MB\n`);
  return result;
}

/** A syntactically plausible PDF whose base64 is `base64Bytes` long (same as scripts/bench/sdk.ts). */
function largePdfBase64(base64Bytes: number): string {
  const total = Math.floor(base64Bytes / 4) * 3;
  const head = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Length 0 >>\nstream\n', 'latin1');
  const tail = Buffer.from('\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n', 'latin1');
  return Buffer.concat([head, randomBytes(Math.max(0, total - head.length - tail.length)), tail]).toString('base64');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'large-mb': { type: 'string', default: '29' }, json: { type: 'boolean', default: false } }, strict: true });
  const largeMb = Number(values['large-mb']);
  const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const pki = await ensureDevPki(path.join(os.tmpdir(), 'sandebud-test-pki'));
  const read = (f: string): string => readFileSync(f, 'utf8');
  const A = { participant: '0007:2120000000' as ParticipantId, org: '2120000000', sign: 'org-sign', enc: 'org-enc', ap: 'org-tls-server' } as const;
  const B = { participant: '0007:2321000016' as ParticipantId, org: '2321000016', sign: 'peer1-sign', enc: 'peer1-enc', ap: 'peer1-tls' } as const;
  const directory = staticCertificateDirectory({
    [A.participant]: { signing: [read(pki.cert(A.sign))], encryption: read(pki.cert(A.enc)), organizationNumber: A.org },
    [B.participant]: { signing: [read(pki.cert(B.sign))], encryption: read(pki.cert(B.enc)), organizationNumber: B.org },
  });
  const trust = { anchors: [read(pki.caBundleFile)] };
  const key = (k: string, c: string): { privateKeyPem: string; certificatePem: string } => ({ privateKeyPem: read(k), certificatePem: read(c) });
  const serviceA = createSdkMessageService({ ownParticipants: [A.participant], signingKey: key(pki.key(A.sign), pki.cert(A.sign)), decryptionKeys: [key(pki.key(A.enc), pki.cert(A.enc))], certificates: directory, lookups: undefined as unknown as InboundLookups, trust });
  const lookups: InboundLookups = {
    isKnownFunctionAddress: async (a) => a === `sdk:inkorg:${B.participant}`,
    isDuplicateMessage: async () => false,
    referencedMessageState: async () => 'unknown',
    isSupportedContentType: (ct) => ct === 'application/pdf',
  };
  const serviceB = createSdkMessageService({ ownParticipants: [B.participant], signingKey: key(pki.key(B.sign), pki.cert(B.sign)), decryptionKeys: [key(pki.key(B.enc), pki.cert(B.enc))], certificates: directory, lookups, trust });
  const pmode = defaultPmode();
  const apTrust = createTrustStore(read(pki.caBundleFile));

  const db = await createScratchDatabase(adminUrl, 'sandebud_mem');
  await migrate(db.url);
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  const store = createSdkStore(pool);
  // Warm up: compile the schemas, load the key objects, open the connections (not part of any stage).
  await pool.query('SELECT 1');
  validatePayload(Buffer.from('<x/>'));

  const startRss = procStatus().rss;
  try {
    // ----------------------------------------------------------------------------------------------- A
    const pdf = largePdfBase64(Math.round(largeMb * MB) - 2_000);
    const json = JSON.stringify({ data: { type: 'messages', attributes: {
      confidentiality: true, label: 'Stor bilaga', sender: A.participant, recipient: B.participant,
      senderAttention: { subOrganization: { extension: `sdk:inkorg:${A.participant}` } },
      recipientAttention: { subOrganization: { extension: `sdk:inkorg:${B.participant}` } },
      digitalDocument: [{ documentId: 'd1', contentFiles: [{ fileName: 'stor.pdf', contentType: 'application/pdf', content: pdf }] }],
    } } });
    // The socket delivers the body as 64 KiB chunks.
    let chunks: Buffer[] | undefined = [];
    {
      const all = Buffer.from(json, 'utf8');
      for (let i = 0; i < all.length; i += 65536) chunks.push(Buffer.from(all.subarray(i, i + 65536)));
    }
    const payloadBytes = chunks.reduce((n, c) => n + c.length, 0);
    process.stderr.write(`payload (HTTP request body) ${round(payloadBytes / MB, 2)} MB; idle rss ${round(startRss / MB)} MB\n`);
    fullGc();
    const measureFrom = procStatus().rss;
    resetPeak();

    let body: unknown = await stage('A', 'HTTP body → JSON (body-limit.ts)', () => {
      const b = parseSdkMessageBody(chunks!, payloadBytes);
      chunks = undefined;
      return b;
    });
    const message = await stage('A', 'toDomainMessage (zod)', () => toDomainMessage(body, new Date()));
    await stage('A', 'requestHash + checkOutboundMessage', () => { requestHash(body); return checkOutboundMessage(message); });
    let payload: Buffer | undefined = await stage('A', 'preparePayload (build + XSD + rules)', () => {
      const p = buildMessagePayloadBytes(message);
      const v = validatePayload(p, { maxBytes: SDK_LIMITS.maxOutboundPayloadBytes });
      if (v.reasons.length > 0) throw new Error(JSON.stringify(v.reasons));
      return p;
    });
    const outId = await stage('A', 'store: insert message (jsonb + payload)', async () => store.transaction(async (tx) => {
      const r = await tx.insertMessage({ direction: 'out', preferredId: message.messageId, message, payload: payload!, status: 'SCHEDULED', title: 'scheduled' });
      return r.record.id;
    }));
    body = undefined;
    payload = undefined;
    // As the send job does: the stored payload and the message as a header (getSendContent), sealed as stored.
    let content = await stage('A', 'send job: read payload + header', () => store.transaction((tx) => tx.getSendContent(outId)));
    let sealed: Awaited<ReturnType<typeof serviceA.seal>> | undefined = await stage('A', 'seal (stored payload, encrypt, XHE, sign)', () => serviceA.seal(content!.header, content!.payload!));
    content = undefined;
    let envelope: Buffer | undefined = await stage('A', 'store: setEnvelope', async () => {
      // As the send job does: a view of the sealed bytes.
      const e = Buffer.from(sealed!.envelope.buffer, sealed!.envelope.byteOffset, sealed!.envelope.byteLength);
      await store.transaction((tx) => tx.setEnvelope(outId, e, sealed!.routing));
      return e;
    });
    const routing = sealed.routing;
    sealed = undefined;
    let gz: Buffer | undefined = await stage('A', 'AS4: gzip', () => gzipInto(envelope!, { strategy: zlibConstants.Z_HUFFMAN_ONLY }));
    envelope = undefined;
    let wire: Buffer | undefined = await stage('A', 'AS4: WS-Security sign + MIME', () => {
      const secured = secureEnvelope({ messagingXml: `<eb:Messaging xmlns:eb="http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/" xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd" env:mustUnderstand="true" wsu:Id="_m1"><eb:UserMessage/></eb:Messaging>`,
        messagingId: '_m1', attachments: [{ contentId: pmode.payload.cid, contentType: 'application/gzip', body: gz! }], key: { privateKey: read(pki.key(A.ap)), certificatePem: read(pki.cert(A.ap)) }, now: new Date(), ttlSeconds: 300 });
      const mp = buildMultipart({ contentId: 'soapPart', body: Buffer.from(secured.xml, 'utf8') }, [{ contentId: pmode.payload.cid, contentType: 'application/gzip', body: gz! }]);
      // What B's socket delivers: the whole body (B preallocates it from Content-Length).
      return Object.assign(Buffer.concat(mp.chunks, mp.length), { contentType: mp.contentType });
    });
    gz = undefined;
    const contentType = (wire as Buffer & { contentType: string }).contentType;
    const peakA = peakSeen - measureFrom;

    // ----------------------------------------------------------------------------------------------- B
    fullGc();
    const measureFromB = procStatus().rss;
    resetPeak();
    let xhe: Buffer | undefined = await stage('B', 'AS4: MIME + WS-Security verify + gunzip', async () => {
      const mp = parseMultipart(parseContentType(contentType), wire!);
      const attachments = new Map(mp.attachments.map((a) => [a.contentId!, { contentType: a.contentType, body: a.body }]));
      verifyEnvelope(mp.root.body, { trust: apTrust, attachments, now: new Date(), clockSkewMs: 60_000, maxEnvelopeBytes: 1024 * 1024 });
      return gunzipBounded(mp.attachments[0]!.body, SDK_LIMITS.maxInboundEnvelopeBytes);
    });
    wire = undefined;
    await stage('B', 'AS4: XHE routing (header only)', () => readXheRouting(xhe!));
    const envId = await stage('B', 'store: insertInboundEnvelope', async () => {
      const r = await store.transaction((tx) => tx.insertInboundEnvelope({ id: randomUUID(), transportMessageId: `${randomUUID()}@mem`, envelope: Buffer.from(xhe!.buffer, xhe!.byteOffset, xhe!.byteLength), routing: { ...routing }, receivedAt: new Date() }));
      return r.id;
    });
    xhe = undefined;
    let env = await stage('B', 'inbound job: read envelope', async () => store.getInboundEnvelope(envId));
    let judged = await stage('B', 'receive (verify, decrypt, validate)', () => serviceB.receive(env!.envelope, { originalSender: routing.originalSender, finalRecipient: routing.finalRecipient }));
    if (judged.kind !== 'message' || judged.verdict.status !== 'ACCEPTED') throw new Error(`not accepted: ${JSON.stringify(judged.kind === 'message' ? judged.verdict : judged)}`);
    env = undefined;
    await stage('B', 'store: insert inbound message', async () => {
      const j = judged as Extract<typeof judged, { kind: 'message' }>;
      await store.transaction((tx) => tx.insertMessage({ direction: 'in', preferredId: j.message!.messageId, message: j.message!, payload: j.payloadBytes!, status: 'RETRIEVED', title: 'retrieved', inboundEnvelopeId: envId }));
    });
    await stage('B', 'receipt', () => serviceB.receiptFor(judged as Extract<typeof judged, { kind: 'message' }>));
    judged = undefined as unknown as typeof judged;
    const peakB = peakSeen - measureFromB;

    const report = {
      bench: 'sdk-memory', payload_bytes: payloadBytes,
      a_sequential_peak_growth_ratio: round(peakA / payloadBytes, 2), b_sequential_peak_growth_ratio: round(peakB / payloadBytes, 2),
      stages: rows.map((r) => ({ side: r.side, stage: r.stage, seconds: round(r.ms / 1000, 2), peak_over_start_mb: round(r.peakOverStart / MB), peak_ratio: round(r.peakOverStart / payloadBytes, 2), retained_mb: round(r.retained / MB) })),
    };
    process.stderr.write(`A: sequential peak growth ${round(peakA / MB)} MB = ${report.a_sequential_peak_growth_ratio} × payload; B: ${round(peakB / MB)} MB = ${report.b_sequential_peak_growth_ratio} ×\n`);
    if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    await pool.end();
    await db.drop();
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`sdk-memory failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
