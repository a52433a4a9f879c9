// sdk.md §8 (one-way push, synchronous signed receipt, mutual TLS): one HTTP exchange with a receiving AP and
// the classification of its answer. A receipt counts only when its signature verifies with the receiving AP's
// published certificate, it refers to the message we sent, and its NonRepudiationInformation echoes the
// digests we signed (style.md §5: the receipt is matched against the message actually sent).
import { Readable } from 'node:stream';
import { request, type Agent } from 'undici';
import { classifyTransportError, TransportError } from '../../shared/mtls-http.js';
import type { TrustStore } from '../../shared/x509-trust.js';
import { EBMS_ERRORS } from './as4.constants.js';
import { messagingOfEnvelope, readMessaging, readMessagingXml } from './ebms.mapper.js';
import { parseContentType, type BuiltMultipart } from './mime.js';
import { youngGarbageRelease } from '../../../src/lib/memory.js';
import { leafDer, verifyEnvelope, WssError, type SignedReference } from './wss.js';

export type SendOutcome =
  | { ok: true; receiptMessageId: string }
  | { ok: false; retryable: boolean; errorCode: string; detail: string };

export interface PostUserMessage {
  agent: Agent;
  url: string;
  body: BuiltMultipart;
  /** Our ebMS MessageId and the references we signed. */
  messageId: string;
  references: readonly SignedReference[];
  /** The receiving AP's certificate (PEM): the receipt must be signed with exactly this one. */
  peerCertificatePem: string;
  trust: TrustStore;
  now: () => Date;
  clockSkewMs: number;
  signal?: AbortSignal;
  /** Largest response we read (receipts and errors are small). */
  maxResponseBytes?: number;
}

const RETRYABLE_STATUS = new Set([408, 425, 429, 502, 503, 504]);

/** The body as views of at most 64 KiB (no copies). TLS encrypts each into a record of its own: collected as we go. */
function* pieces(chunks: readonly Buffer[]): Iterable<Buffer> {
  const size = 64 * 1024;
  const release = youngGarbageRelease(chunks.reduce((n, c) => n + c.length, 0));
  for (const c of chunks) {
    for (let i = 0; i < c.length; i += size) {
      yield c.subarray(i, i + size);
      release(size);
    }
  }
}

async function readBody(body: AsyncIterable<unknown> & { destroy(): void }, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of body) {
    const b = Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
    size += b.length;
    if (size > max) {
      body.destroy();
      throw new TransportError('unknown', 'too-large', 'response too large');
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** The first eb:Error of an (unsigned) error response, if the body carries one. */
function errorSignalOf(body: Buffer): { errorCode: string; detail: string } | undefined {
  try {
    const messaging = messagingOfEnvelope(body);
    if (messaging === undefined) return undefined;
    const m = readMessaging(messaging);
    if (m.kind !== 'error' || m.errors.length === 0) return undefined;
    const e = m.errors[0]!;
    return { errorCode: e.errorCode.slice(0, 40), detail: (e.detail ?? e.shortDescription ?? '').slice(0, 200) };
  } catch {
    return undefined;
  }
}

/** Check a synchronous receipt against what we sent. Returns null when it is acceptable, else the problem. */
export function receiptProblem(body: Buffer, p: Pick<PostUserMessage, 'messageId' | 'references' | 'peerCertificatePem' | 'trust' | 'now' | 'clockSkewMs'>): { problem: string } | { receiptMessageId: string } {
  let verified;
  try {
    verified = verifyEnvelope(body, { trust: p.trust, now: p.now(), clockSkewMs: p.clockSkewMs, maxEnvelopeBytes: 1024 * 1024 });
  } catch (e) {
    return { problem: e instanceof WssError ? `receipt signature: ${e.reason}` : 'receipt signature: unreadable' };
  }
  if (!verified.signer.raw.equals(leafDer(p.peerCertificatePem))) return { problem: "the receipt is not signed with the receiving access point's certificate" };
  let m;
  try {
    m = readMessagingXml(verified.messagingXml);
  } catch {
    return { problem: 'the receipt header cannot be read' };
  }
  if (m.kind !== 'receipt') return { problem: 'the signed answer is not a receipt' };
  if (m.refToMessageId !== p.messageId) return { problem: 'the receipt refers to another message' };
  // Non-repudiation of receipt: every part we signed must be echoed with the digest we computed.
  for (const r of p.references) {
    if (!m.references.some((e) => e.uri === r.uri && e.digestValue === r.digestValue && e.digestMethod === r.digestMethod)) {
      return { problem: 'the receipt does not acknowledge every signed part of the message' };
    }
  }
  return { receiptMessageId: m.messageId };
}

/** POST one user message and classify the answer. Never throws. */
export async function postUserMessage(p: PostUserMessage): Promise<SendOutcome> {
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(p.url, {
      dispatcher: p.agent,
      method: 'POST',
      headers: { 'content-type': p.body.contentType, 'content-length': String(p.body.length), 'mime-version': '1.0', soapaction: '""' },
      // In pieces, so the TLS socket encrypts as it sends instead of holding a 30 MB part encrypted at once.
      body: Readable.from(pieces(p.body.chunks), { objectMode: false }),
      ...(p.signal ? { signal: p.signal } : {}),
    });
  } catch (e) {
    const t = classifyTransportError(e);
    // Not sent, or sent with an unknown outcome: both are retried (the receiver eliminates duplicates).
    return { ok: false, retryable: true, errorCode: EBMS_ERRORS.connectionFailure.code, detail: `${t.phase}: ${t.kind}` };
  }
  let body: Buffer;
  try {
    body = await readBody(res.body, p.maxResponseBytes ?? 1024 * 1024);
  } catch (e) {
    const t = classifyTransportError(e);
    return { ok: false, retryable: true, errorCode: EBMS_ERRORS.connectionFailure.code, detail: `unknown: ${t.kind}` };
  }
  if (res.statusCode !== 200) {
    const signal = errorSignalOf(body);
    if (signal !== undefined) return { ok: false, retryable: RETRYABLE_STATUS.has(res.statusCode), ...signal };
    // No ebMS error: a proxy or an overloaded server; 5xx without an ebMS answer is retried.
    return { ok: false, retryable: res.statusCode >= 500 || RETRYABLE_STATUS.has(res.statusCode), errorCode: EBMS_ERRORS.connectionFailure.code, detail: `HTTP ${res.statusCode}` };
  }
  let mediaType = '';
  try {
    mediaType = parseContentType(String(res.headers['content-type'] ?? '')).mediaType;
  } catch {
    mediaType = '';
  }
  if (mediaType !== 'application/soap+xml') return { ok: false, retryable: false, errorCode: EBMS_ERRORS.invalidReceipt.code, detail: 'the answer is not a SOAP 1.2 message' };
  const checked = receiptProblem(body, p);
  if ('problem' in checked) {
    // Some access points answer errors with HTTP 200 (unsigned eb:Error): report their error, not ours.
    const signal = errorSignalOf(body);
    if (signal !== undefined) return { ok: false, retryable: false, ...signal };
    return { ok: false, retryable: false, errorCode: EBMS_ERRORS.invalidReceipt.code, detail: checked.problem };
  }
  return { ok: true, receiptMessageId: checked.receiptMessageId };
}
