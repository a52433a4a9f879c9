// sdk.md §1 (interface A, AP↔AP) and §8 (AS4 essentials): the built-in AS4 access point as an implementation
// of the AccessPoint port (src/ports/sdk.port.ts), a drop-in replacement for the loopback network. Outbound:
// ebMS 3 one-way push of the XHE as a gzip-compressed SwA attachment, WS-Security signed, over mutual TLS,
// with retries by policy until a signed receipt with NonRepudiationInformation arrives. Inbound: see
// as4.server.ts. Status events follow the port (ACKNOWLEDGED / RETRY_SCHEDULED / SEND_FAILED); when the
// recipient's SDK message receipt does not arrive in time, SEND_FAILED carries errorCode MESSAGE_EXCHANGE_ERROR.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGzip, constants as zlibConstants, type ZlibOptions } from 'node:zlib';
import type { Agent } from 'undici';
import { AppError } from '../../../src/domain/errors.js';
import { MESSAGE_DOCUMENT_ID, RECEIPT_DOCUMENT_ID, SDK_LIMITS } from '../../../src/domain/sdk/constants.js';
import { sameParticipant } from '../../../src/domain/sdk/identifiers.js';
import type { Logger } from '../../../src/lib/logger.js';
import type { AccessPoint, AccessPointEvent, AccessPointRouting, AccessPointSubmission, InboundEnvelopeHandler } from '../../../src/ports/sdk.port.js';
import { createMtlsAgent } from '../../shared/mtls-http.js';
import { createTrustStore, type TrustStore } from '../../shared/x509-trust.js';
import { loadXsdValidator, type XsdValidatorHandle } from '../../shared/xsd-validator.js';
import { EBMS_ERRORS, GZIP_MIME, MESSAGE_EXCHANGE_ERROR } from './as4.constants.js';
import { postUserMessage, type SendOutcome } from './as4.client.js';
import { createInboundProcessor, joined, type As4Peer, type As4PeerResolver } from './as4.server.js';
import { createMemoryDuplicateStore, type DuplicateStore } from './duplicate-store.js';
import { newEbmsMessageId, userMessagingXml } from './ebms.mapper.js';
import { buildMultipart } from './mime.js';
import { actionForDocument, defaultPmode, legForAction, type As4Pmode } from './pmode.js';
import { createBackoffPolicy, type RetryPolicy } from './retry-policy.js';
import { secureEnvelope, type SignedReference } from './wss.js';
import { acknowledgedXheId } from './xhe-routing.js';

/**
 * gzip into ONE buffer: zlib's output buffer gets zlib's worst-case size (deflateBound plus the gzip header
 * and trailer), so the result is a view of what zlib wrote instead of pieces joined into a second copy; the
 * unwritten tail of that allocation is never touched and costs no resident memory (issue 7 memory).
 */
export function gzipInto(input: Uint8Array, opts: ZlibOptions): Promise<Buffer> {
  const n = input.byteLength;
  const bound = n + (n >>> 12) + (n >>> 14) + (n >>> 25) + 13 + 18 + 64;
  return new Promise((resolve, reject) => {
    const z = createGzip({ ...opts, chunkSize: Math.max(64 * 1024, bound) });
    const pieces: Buffer[] = [];
    let total = 0;
    z.on('data', (c: Buffer) => {
      pieces.push(c);
      total += c.length;
    });
    z.on('error', reject);
    z.on('end', () => resolve(joined(pieces, total)));
    z.end(Buffer.from(input.buffer, input.byteOffset, input.byteLength));
  });
}

export const DEFAULT_EBMS_HEADER_XSD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../contracts/sdk/as4/ebms-header-subset.xsd');

export interface As4AccessPointOptions {
  /** Our AS4 party id: the CN of our AP certificate, as published in SMP (sdk.md §2). */
  partyId: string;
  /** Participants this AP serves; an inbound message for anyone else is refused with EBMS:0004 NOT_SERVICED. */
  servedParticipants: readonly string[] | ((participant: string) => boolean);
  /** The AP certificate and key that sign our ebMS messages and receipts (PEM contents). */
  signing: { privateKeyPem: string; certificatePem: string };
  /** Mutual TLS: our certificate (server and client) and key, and the CAs we accept for peers (PEM contents). */
  tls: { keyPem: string; certPem: string; caPem: string | readonly string[] };
  /** CAs (roots and intermediates, PEM) to which a peer's WS-Security signing certificate must chain. */
  trustedCaPem: string | readonly string[];
  /** Discovery: the AP serving a participant (outbound) / whose signature we accept for it (inbound). */
  peers: As4PeerResolver;
  /** Start our own HTTPS server (requestCert, rejectUnauthorized). Omit to mount `handler` elsewhere. */
  listen?: { host?: string; port?: number };
  /** Path of the MSH endpoint on our own server. Default `/as4`. */
  path?: string;
  /** The P-mode; default contracts/sdk/as4/pmode.yaml. */
  pmode?: As4Pmode;
  /** TCP+TLS connect limit per attempt. Default 5,000 ms. */
  connectTimeoutMs?: number;
  /** How long one attempt waits for the synchronous AS4 receipt. Default 120,000 ms. */
  responseTimeoutMs?: number;
  /**
   * After this long without the recipient's SDK message receipt (an inbound receipt envelope whose
   * DocumentReference/ID is the message's XHE id), raise SEND_FAILED with errorCode MESSAGE_EXCHANGE_ERROR.
   * Counted from send(). Default: off (the gateway's durable sweep owns this timeout).
   */
  sdkReceiptTimeoutMs?: number;
  /** Retry policy for unreachable receivers; default from the P-mode (Domibus 12;4;CONSTANT). */
  retry?: RetryPolicy;
  /** Duplicate elimination store; default in memory (the gateway must pass a PostgreSQL-backed one). */
  duplicates?: DuplicateStore;
  /** Largest inbound HTTP body. Default SDK_LIMITS.maxInboundEnvelopeBytes + 1 MiB. */
  maxRequestBytes?: number;
  /** Largest XHE after decompression. Default SDK_LIMITS.maxInboundEnvelopeBytes. */
  maxPayloadBytes?: number;
  /** gzip the XHE (P-mode compressPayloads). Default from the P-mode. */
  compress?: boolean;
  /** Domain part of our ebMS MessageIds. Default `sandebud.as4`. */
  messageIdDomain?: string;
  /** Require a verified TLS client certificate on inbound requests (false only behind a TLS-terminating proxy that verifies it). Default true. */
  requireClientCertificate?: boolean;
  clock?: () => Date;
  logger?: Logger;
}

export interface As4AccessPoint extends AccessPoint {
  /** URL of the MSH endpoint on our own server (when `listen` was given). */
  readonly url: string | undefined;
  /** The MSH request handler, to mount on an existing HTTPS server (POST). */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** Resolves when every delivery started so far has ended (tests; retries included). */
  idle(): Promise<void>;
}

/** The request handler of an access point, for mounting (e.g. `app.post('/as4', as4RequestHandler(ap))`). */
export function as4RequestHandler(ap: As4AccessPoint): (req: IncomingMessage, res: ServerResponse) => void {
  return ap.handler;
}

/** Message ↔ receipt: a sender of messages is registered for receipts and vice versa (sdk.md §3). */
function senderLookupDocumentId(documentId: string): string {
  if (documentId === MESSAGE_DOCUMENT_ID) return RECEIPT_DOCUMENT_ID;
  if (documentId === RECEIPT_DOCUMENT_ID) return MESSAGE_DOCUMENT_ID;
  return documentId;
}

function pems(v: string | readonly string[]): string[] {
  return typeof v === 'string' ? [v] : [...v];
}

export function defaultRetryPolicy(pmode: As4Pmode): RetryPolicy {
  const r = pmode.reliability.retry;
  return createBackoffPolicy({ attempts: r.attempts, initialDelayMs: r.initialDelaySeconds * 1000, factor: r.factor, maxDelayMs: r.maxDelaySeconds * 1000 });
}

interface Delivery {
  transportMessageId: string;
  xheId: string;
  done: Promise<void>;
}

export async function createAs4AccessPoint(opts: As4AccessPointOptions): Promise<As4AccessPoint> {
  const pmode = opts.pmode ?? defaultPmode();
  const clock = opts.clock ?? (() => new Date());
  const log = opts.logger;
  const trust: TrustStore = createTrustStore(...pems(opts.trustedCaPem));
  const signingKey: { privateKey: KeyObject; certificatePem: string } = { privateKey: createPrivateKey(opts.signing.privateKeyPem), certificatePem: opts.signing.certificatePem };
  const retry = opts.retry ?? defaultRetryPolicy(pmode);
  const duplicates = opts.duplicates ?? createMemoryDuplicateStore();
  const compress = opts.compress ?? pmode.payload.compress;
  const domain = opts.messageIdDomain ?? 'sandebud.as4';
  const served = opts.servedParticipants;
  const isServed = typeof served === 'function' ? served : (p: string): boolean => served.some((s) => sameParticipant(s, p));
  const messagingSchema: XsdValidatorHandle = loadXsdValidator(DEFAULT_EBMS_HEADER_XSD);
  const agent: Agent = createMtlsAgent({
    tls: { key: opts.tls.keyPem, cert: opts.tls.certPem, ca: pems(opts.tls.caPem) },
    connectTimeoutMs: opts.connectTimeoutMs ?? 5_000,
    readTimeoutMs: opts.responseTimeoutMs ?? 120_000,
  });
  const abort = new AbortController();
  const listeners = new Set<(e: AccessPointEvent) => void>();
  const deliveries = new Map<string, Delivery>();
  const sleeps = new Map<NodeJS.Timeout, () => void>();
  // SDK message receipt watchdog: XHE id → timer (only when sdkReceiptTimeoutMs is set).
  const awaitingReceipt = new Map<string, { timer: NodeJS.Timeout; transportMessageId: string }>();
  let handler: InboundEnvelopeHandler | undefined;
  let closed = false;

  const emit = (e: AccessPointEvent): void => {
    if (closed) return;
    for (const l of listeners) {
      try {
        l(e);
      } catch {
        // A failing listener must not break delivery or the other listeners.
      }
    }
  };

  const stopWatchdog = (xheId: string): void => {
    const w = awaitingReceipt.get(xheId);
    if (w !== undefined) {
      clearTimeout(w.timer);
      awaitingReceipt.delete(xheId);
    }
  };

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        sleeps.delete(t);
        resolve();
      }, ms);
      sleeps.set(t, resolve);
    });

  async function attempt(envelope: { payload: Buffer; mimeType: string }, routing: AccessPointRouting, transportMessageId: string, peer: As4Peer): Promise<SendOutcome> {
    const action = actionForDocument(routing.documentId);
    const now = clock();
    const wsuId = `_messaging-${transportMessageId.split('@')[0]}`;
    const messagingXml = userMessagingXml(
      pmode,
      {
        messageId: transportMessageId,
        timestamp: now,
        fromPartyId: opts.partyId,
        toPartyId: peer.partyId,
        action,
        // sdk.md §14.1: the SDK conversationId when we know it, else the XHE id.
        conversationId: routing.conversationId ?? routing.xheId,
        originalSender: routing.originalSender,
        finalRecipient: routing.finalRecipient,
        payloadCid: pmode.payload.cid,
        payloadMimeType: pmode.payload.mimeType,
        compressed: compress,
      },
      wsuId,
    );
    // Each attempt is signed afresh (new Timestamp); the ebMS MessageId stays the same (sdk.md §8).
    let references: SignedReference[];
    let soap: string;
    try {
      const secured = secureEnvelope({
        messagingXml,
        messagingId: wsuId,
        attachments: [{ contentId: pmode.payload.cid, contentType: envelope.mimeType, body: envelope.payload }],
        key: signingKey,
        now,
        ttlSeconds: pmode.security.timestampTtlSeconds,
        signatureMethod: pmode.security.signatureMethod,
        digestMethod: pmode.security.digestMethod,
      });
      references = secured.references;
      soap = secured.xml;
    } catch (e) {
      log?.error({ event: 'AS4_SIGN_FAILED', transportMessageId, err: e instanceof Error ? e.message : 'unknown' }, 'the AS4 message could not be signed');
      return { ok: false, retryable: false, errorCode: EBMS_ERRORS.other.code, detail: 'the message could not be signed' };
    }
    const body = buildMultipart({ contentId: `soapPart-${transportMessageId.split('@')[0]}`, body: Buffer.from(soap, 'utf8') }, [{ contentId: pmode.payload.cid, contentType: envelope.mimeType, body: envelope.payload }]);
    return postUserMessage({
      agent,
      url: peer.endpointUrl,
      body,
      messageId: transportMessageId,
      references,
      peerCertificatePem: peer.certificatePem,
      trust,
      now: clock,
      clockSkewMs: pmode.security.clockSkewSeconds * 1000,
      signal: abort.signal,
    });
  }

  async function deliver(envelope: { payload: Buffer; mimeType: string }, routing: AccessPointRouting, transportMessageId: string): Promise<void> {
    const base = { transportMessageId, xheId: routing.xheId };
    const failed = (errorCode: string, detail: string, retryable: boolean): void => {
      stopWatchdog(routing.xheId);
      log?.warn({ event: 'AS4_SEND_FAILED', ...base, errorCode, detail }, 'AS4 message could not be delivered');
      emit({ type: 'SEND_FAILED', ...base, at: clock(), errorCode, detail, retryable });
    };
    for (let n = 1; ; n++) {
      if (closed) return;
      let outcome: SendOutcome;
      try {
        const peer = await opts.peers(routing.finalRecipient, routing.documentId);
        outcome =
          peer === null
            ? { ok: false, retryable: false, errorCode: EBMS_ERRORS.other.code, detail: 'NOT_SERVICED: no access point is registered for the final recipient' }
            : await attempt(envelope, routing, transportMessageId, peer);
      } catch {
        outcome = { ok: false, retryable: true, errorCode: EBMS_ERRORS.other.code, detail: 'discovery of the receiving access point failed' };
      }
      if (closed) return;
      if (outcome.ok) {
        log?.info({ event: 'AS4_ACKNOWLEDGED', ...base, attempt: n }, 'AS4 receipt received');
        emit({ type: 'ACKNOWLEDGED', ...base, at: clock() });
        return;
      }
      if (!outcome.retryable) return failed(outcome.errorCode, outcome.detail, false);
      const delay = retry.nextDelayMs(n);
      if (delay === null) return failed(outcome.errorCode, `${outcome.detail}; gave up after ${n} attempts`, true);
      const nextAttemptAt = new Date(clock().getTime() + delay);
      log?.info({ event: 'AS4_RETRY_SCHEDULED', ...base, attempt: n, errorCode: outcome.errorCode, detail: outcome.detail, delayMs: delay }, 'AS4 delivery will be retried');
      emit({ type: 'RETRY_SCHEDULED', ...base, at: clock(), nextAttemptAt });
      await sleep(delay);
    }
  }

  const inbound = createInboundProcessor({
    pmode,
    partyId: opts.partyId,
    isServed,
    trust,
    peers: opts.peers,
    senderLookupDocumentId,
    duplicates,
    handler: () => handler,
    signingKey,
    messaging: messagingSchema,
    maxRequestBytes: opts.maxRequestBytes ?? SDK_LIMITS.maxInboundEnvelopeBytes + 1024 * 1024,
    maxPayloadBytes: opts.maxPayloadBytes ?? SDK_LIMITS.maxInboundEnvelopeBytes,
    messageIdDomain: domain,
    requireClientCertificate: opts.requireClientCertificate ?? true,
    clock,
    ...(log ? { logger: log } : {}),
    delivered(documentId, envelope) {
      if (documentId !== RECEIPT_DOCUMENT_ID || awaitingReceipt.size === 0) return;
      const ack = acknowledgedXheId(envelope);
      if (ack !== undefined) stopWatchdog(ack);
    },
  });

  const mshPath = opts.path ?? '/as4';
  let server: https.Server | undefined;
  let url: string | undefined;
  if (opts.listen !== undefined) {
    server = https.createServer({ key: opts.tls.keyPem, cert: opts.tls.certPem, ca: pems(opts.tls.caPem), requestCert: true, rejectUnauthorized: true }, (req, res) => {
      const p = (req.url ?? '/').split('?')[0];
      if (p !== mshPath) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        req.resume();
        return;
      }
      inbound(req, res);
    });
    server.on('tlsClientError', (err) => log?.debug({ event: 'AS4_TLS_REFUSED', code: (err as { code?: string }).code }, 'TLS handshake refused'));
    const host = opts.listen.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(opts.listen!.port ?? 0, host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const urlHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
    url = `https://${urlHost}:${port}${mshPath}`;
  }

  const ap: As4AccessPoint = {
    url,
    handler: inbound,
    async send(envelope: Uint8Array, routing: AccessPointRouting): Promise<AccessPointSubmission> {
      if (closed) throw new AppError('AS4_ACCESS_POINT_CLOSED', 'The access point is closed.', { status: 503, retryable: true });
      if (legForAction(pmode, actionForDocument(routing.documentId)) === undefined) {
        throw new AppError('AS4_NO_PMODE_LEG', 'The access point has no P-mode leg for this document type.', { status: 422, retryable: false });
      }
      if (envelope.byteLength > (opts.maxPayloadBytes ?? SDK_LIMITS.maxInboundEnvelopeBytes)) {
        throw new AppError('AS4_PAYLOAD_TOO_LARGE', 'The envelope is larger than the access point sends.', { status: 413, retryable: false });
      }
      const transportMessageId = newEbmsMessageId(domain);
      // Compress now: the caller may reuse its buffer once send() resolves, and the gzip output is ours.
      // A large XHE is base64 of ciphertext: its only redundancy is the 64-symbol alphabet, which Huffman
      // coding alone removes (measured: same 0.75 ratio as level 6, about twice as fast). Small envelopes
      // (receipts, clear XML) get ordinary deflate.
      const payload = compress
        ? await gzipInto(envelope, envelope.byteLength > 1024 * 1024 ? { strategy: zlibConstants.Z_HUFFMAN_ONLY } : { level: 6 })
        : Buffer.from(envelope);
      const mimeType = compress ? GZIP_MIME : pmode.payload.mimeType;
      if (opts.sdkReceiptTimeoutMs !== undefined && routing.documentId === MESSAGE_DOCUMENT_ID) {
        stopWatchdog(routing.xheId);
        const timer = setTimeout(() => {
          awaitingReceipt.delete(routing.xheId);
          log?.warn({ event: 'AS4_MESSAGE_RECEIPT_TIMEOUT', transportMessageId, xheId: routing.xheId }, 'no SDK message receipt in time');
          emit({ type: 'SEND_FAILED', transportMessageId, xheId: routing.xheId, at: clock(), errorCode: MESSAGE_EXCHANGE_ERROR, detail: `no SDK message receipt within ${opts.sdkReceiptTimeoutMs} ms`, retryable: false });
        }, opts.sdkReceiptTimeoutMs);
        timer.unref();
        awaitingReceipt.set(routing.xheId, { timer, transportMessageId });
      }
      log?.info({ event: 'AS4_SUBMITTED', transportMessageId, xheId: routing.xheId, bytes: envelope.byteLength }, 'envelope accepted for AS4 transport');
      const done = deliver({ payload, mimeType }, { ...routing }, transportMessageId).finally(() => deliveries.delete(transportMessageId));
      deliveries.set(transportMessageId, { transportMessageId, xheId: routing.xheId, done });
      return { transportMessageId };
    },
    onInbound(h) {
      handler = h;
    },
    onStatus(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async idle() {
      while (deliveries.size > 0) await Promise.allSettled([...deliveries.values()].map((d) => d.done));
    },
    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      for (const [t, resolve] of sleeps) {
        clearTimeout(t);
        resolve();
      }
      sleeps.clear();
      for (const w of awaitingReceipt.values()) clearTimeout(w.timer);
      awaitingReceipt.clear();
      abort.abort();
      await Promise.allSettled([...deliveries.values()].map((d) => d.done));
      if (server !== undefined) {
        const s = server;
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        });
      }
      await agent.close().catch(() => undefined);
      messagingSchema.dispose();
    },
  };
  return ap;
}

export type { As4Peer, As4PeerResolver } from './as4.server.js';
export { createMemoryDuplicateStore, type DuplicateClaim, type DuplicateStore, type MemoryDuplicateStoreOptions } from './duplicate-store.js';
export { createBackoffPolicy, parseDomibusRetry, type BackoffOptions, type RetryPolicy } from './retry-policy.js';
export { defaultPmode, loadPmode, DEFAULT_PMODE_FILE, type As4Pmode } from './pmode.js';
export { MESSAGE_EXCHANGE_ERROR, EBMS_ERRORS } from './as4.constants.js';
export { createStaticPeerResolver } from './static-peers.js';
