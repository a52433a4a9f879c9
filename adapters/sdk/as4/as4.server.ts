// sdk.md §8 (receiving AP): the MSH endpoint of the built-in access point. For each POST it reads the
// multipart/related body within limits, verifies WS-Security itself (wss.ts), reads the signed eb:Messaging,
// checks it against our P-mode and the sender's published AP certificate, eliminates duplicates by ebMS
// MessageId, decompresses the XHE, checks its routing, hands the exact bytes to the inbound handler and answers
// with a signed receipt carrying NonRepudiationInformation. Errors are answered synchronously as eb:Error
// signals (errorAsResponse=true); 503 means "try again later" to the sender.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { createGunzip } from 'node:zlib';
import type { ParticipantId } from '../../../src/domain/sdk/identifiers.js';
import type { Logger } from '../../../src/lib/logger.js';
import type { InboundEnvelopeHandler } from '../../../src/ports/sdk.port.js';
import type { TrustStore } from '../../shared/x509-trust.js';
import type { XsdValidatorHandle } from '../../shared/xsd-validator.js';
import { EBMS_ERRORS, GZIP_MIME, type EbmsErrorKind } from './as4.constants.js';
import type { DuplicateStore } from './duplicate-store.js';
import { EbmsHeaderError, errorEnvelope, newEbmsMessageId, partProperty, propertyValue, readMessagingXml, receiptMessagingXml, type ParsedUserMessage } from './ebms.mapper.js';
import { MimeError, parseContentType, parseMultipart, type ParsedPart } from './mime.js';
import { documentForAction, legForAction, type As4Pmode } from './pmode.js';
import { leafDer, secureEnvelope, verifyEnvelope, WssError, type WssSigningKey } from './wss.js';
import { readXheRouting, routingProblem } from './xhe-routing.js';
import { releaseAfterLarge, youngGarbageRelease } from '../../../src/lib/memory.js';

/**
 * gunzip with the output bounded by `max`, into ONE buffer: zlib's output buffer is sized from the gzip
 * trailer's ISIZE (RFC 1952 §2.3.1), so the result is a view of the buffer zlib wrote, not pieces joined
 * into a second copy (issue 7 memory). An ISIZE that lies only costs the fallback (pieces joined); output
 * beyond `max` fails.
 */
export function gunzipBounded(gz: Uint8Array, max: number): Promise<Buffer> {
  const data = Buffer.from(gz.buffer, gz.byteOffset, gz.byteLength);
  const declared = data.length >= 18 ? data.readUInt32LE(data.length - 4) : 0;
  let total = 0;
  return new Promise((resolve, reject) => {
    const g = createGunzip({ chunkSize: Math.max(64 * 1024, Math.min(declared, max)) });
    const pieces: Buffer[] = [];
    g.on('data', (c: Buffer) => {
      total += c.length;
      if (total > max) g.destroy(new Error('the decompressed payload is too large'));
      else pieces.push(c);
    });
    g.on('error', reject);
    g.on('end', () => resolve(joined(pieces, total)));
    g.end(data);
  });
}

/**
 * `pieces` as one Buffer: a view when they are consecutive parts of one allocation (zlib's output) that they
 * mostly fill, else a copy (a small result is not left holding a much larger allocation).
 */
export function joined(pieces: readonly Buffer[], total: number): Buffer {
  const first = pieces[0];
  if (first === undefined) return Buffer.alloc(0);
  let end = first.byteOffset;
  const contiguous = pieces.every((p) => {
    const ok = p.buffer === first.buffer && p.byteOffset === end;
    end += p.length;
    return ok;
  });
  return contiguous && total * 2 >= first.buffer.byteLength ? Buffer.from(first.buffer, first.byteOffset, total) : Buffer.concat(pieces, total);
}

/** A peer access point as discovery (SMP) describes it. */
export interface As4Peer {
  /** HTTPS endpoint of the peer's AS4 message service handler. */
  endpointUrl: string;
  /** AS4 party id of the peer AP (the CN of its AP certificate, sdk.md §2). */
  partyId: string;
  /** The peer AP's certificate (PEM) as published in SMP: its messages and receipts must be signed with it. */
  certificatePem: string;
}

/**
 * Who serves `participant` for `documentId`: the AP we push to (outbound), or the AP whose signature we
 * accept for messages from that participant (inbound). null = not registered. Throw when discovery itself
 * fails (the caller then retries or answers 503).
 */
export type As4PeerResolver = (participant: string, documentId: string) => Promise<As4Peer | null>;

export interface InboundContext {
  pmode: As4Pmode;
  partyId: string;
  isServed(participant: string): boolean;
  trust: TrustStore;
  peers: As4PeerResolver;
  /** Which document id to look the SENDER up under, given the inbound document id (message ↔ receipt). */
  senderLookupDocumentId(documentId: string): string;
  duplicates: DuplicateStore;
  handler(): InboundEnvelopeHandler | undefined;
  signingKey: WssSigningKey;
  messaging: XsdValidatorHandle;
  maxRequestBytes: number;
  maxPayloadBytes: number;
  messageIdDomain: string;
  requireClientCertificate: boolean;
  clock(): Date;
  logger?: Logger;
  /** Called after an inbound envelope was handed over successfully (the receipt watchdog listens). */
  delivered?(documentId: string, envelope: Uint8Array): void;
}

class Refusal extends Error {
  constructor(
    readonly kind: EbmsErrorKind,
    readonly detail: string,
    readonly status: number,
    readonly refToMessageId?: string,
  ) {
    super(detail);
    this.name = 'Refusal';
  }
}

const refuse = (kind: EbmsErrorKind, detail: string, status = 500, ref?: string): Refusal => new Refusal(kind, detail, status, ref);

function readRequestBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? Number.NaN);
    if (Number.isFinite(declared) && declared > max) {
      reject(refuse('other', 'MESSAGE_TOO_LARGE', 413));
      req.resume();
      return;
    }
    // With a declared length the body is copied once into its final buffer (large messages: no second copy).
    // The listeners stay on `req` while the message is processed: they let go of the body once it is handed on.
    let preallocated = Number.isFinite(declared) && declared > 0 ? Buffer.allocUnsafe(declared) : undefined;
    let chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    // The socket's pieces are garbage once copied: collected as they come (src/lib/memory.ts).
    const release = youngGarbageRelease(preallocated?.length ?? 0);
    req.on('data', (c: Buffer) => {
      if (failed) return;
      release(c.length);
      if (size + c.length > max || (preallocated !== undefined && size + c.length > preallocated.length)) {
        failed = true;
        reject(refuse('other', preallocated !== undefined && size + c.length <= max ? 'LENGTH_MISMATCH' : 'MESSAGE_TOO_LARGE', 413));
        req.resume();
        return;
      }
      if (preallocated !== undefined) c.copy(preallocated, size);
      else chunks.push(c);
      size += c.length;
    });
    req.on('end', () => {
      if (failed) return;
      if (preallocated !== undefined) {
        if (size !== preallocated.length) reject(refuse('invalidHeader', 'LENGTH_MISMATCH', 400));
        else resolve(preallocated);
      } else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
      preallocated = undefined;
      chunks = [];
    });
    req.on('error', (e) => {
      if (!failed) reject(e);
    });
  });
}

function sendXml(res: ServerResponse, status: number, xml: string): void {
  if (res.headersSent) return;
  const body = Buffer.from(xml, 'utf8');
  res.writeHead(status, { 'content-type': 'application/soap+xml; charset=UTF-8', 'content-length': body.length });
  res.end(body);
}

/** The request handler (mount it on POST, or let createAs4AccessPoint listen with it). */
export function createInboundProcessor(ctx: InboundContext): (req: IncomingMessage, res: ServerResponse) => void {
  const log = ctx.logger;
  const skewMs = ctx.pmode.security.clockSkewSeconds * 1000;

  const answerError = (res: ServerResponse, r: Refusal): void => {
    const xml = errorEnvelope({ kind: r.kind, detail: r.detail, messageId: newEbmsMessageId(ctx.messageIdDomain), timestamp: ctx.clock(), ...(r.refToMessageId !== undefined ? { refToMessageId: r.refToMessageId } : {}) });
    sendXml(res, r.status, xml);
  };

  async function process(req: IncomingMessage): Promise<{ status: number; xml: string }> {
    if (ctx.requireClientCertificate && (req.socket as TLSSocket).authorized !== true) throw refuse('failedAuthentication', 'TLS_CLIENT_CERTIFICATE_REQUIRED', 403);
    // Memory (issue 7): the request body, its parts and the decompressed XHE are each about the size of the
    // message. The references below are `let` and dropped as soon as each is used up, so that while the
    // inbound handler stores the XHE, the compressed body is no longer held.
    let body: Buffer | undefined = await readRequestBody(req, ctx.maxRequestBytes);
    // The socket's pieces of a large body are garbage now (src/lib/memory.ts).
    releaseAfterLarge(body.length);

    // 1. Unpackaging: the SOAP part and the attachments.
    let root: ParsedPart | { body: Buffer } | undefined;
    let attachments: ParsedPart[] = [];
    try {
      const ct = parseContentType(req.headers['content-type']);
      if (ct.mediaType === 'multipart/related') {
        const mp = parseMultipart(ct, body);
        root = mp.root;
        attachments = mp.attachments;
      } else if (ct.mediaType === 'application/soap+xml') {
        root = { body };
      } else {
        throw refuse('invalidHeader', 'UNSUPPORTED_CONTENT_TYPE', 415);
      }
    } catch (e) {
      if (e instanceof Refusal) throw e;
      throw refuse('invalidHeader', e instanceof MimeError ? 'MALFORMED_MIME' : 'MALFORMED_REQUEST');
    }
    body = undefined;
    const byCid = new Map<string, { contentType: string; body: Uint8Array }>();
    for (const a of attachments) {
      if (a.contentId === undefined) throw refuse('invalidHeader', 'ATTACHMENT_WITHOUT_CONTENT_ID');
      byCid.set(a.contentId, { contentType: a.contentType, body: a.body });
    }
    attachments = [];

    // 2. WS-Security: the signature, the token's chain to our configured CAs, the timestamp.
    let verified;
    try {
      verified = verifyEnvelope(root.body, { trust: ctx.trust, attachments: byCid, now: ctx.clock(), clockSkewMs: skewMs, maxEnvelopeBytes: 1024 * 1024 });
      root = undefined;
    } catch (e) {
      if (e instanceof WssError) throw refuse(e.reason === 'UNSAFE_XML' || e.reason === 'STRUCTURE' ? 'invalidHeader' : 'failedAuthentication', `WSS_${e.reason}`);
      throw e;
    }

    // 3. The signed eb:Messaging: our subset schema, then the P-mode.
    const schema = ctx.messaging.validate(verified.messagingXml);
    if (!schema.valid) throw refuse('invalidHeader', 'EBMS_HEADER_SCHEMA');
    let um: ParsedUserMessage;
    try {
      const m = readMessagingXml(verified.messagingXml);
      if (m.kind !== 'user') throw refuse('featureNotSupported', 'SIGNAL_NOT_EXPECTED');
      um = m;
    } catch (e) {
      if (e instanceof Refusal) throw e;
      throw refuse(e instanceof EbmsHeaderError ? e.kind : 'invalidHeader', 'EBMS_HEADER');
    }
    const ref = um.messageId;
    const p = ctx.pmode;
    if (!um.to.partyIds.some((id) => id.value === ctx.partyId) || um.to.role !== p.roles.responder) throw refuse('processingModeMismatch', 'NOT_ADDRESSED_TO_THIS_ACCESS_POINT', 500, ref);
    if (um.from.role !== p.roles.initiator) throw refuse('processingModeMismatch', 'FROM_ROLE', 500, ref);
    if (um.service.value !== p.service.value || (um.service.type ?? '') !== p.service.type) throw refuse('processingModeMismatch', 'SERVICE', 500, ref);
    const leg = legForAction(p, um.action);
    const documentId = documentForAction(um.action);
    if (leg === undefined || documentId === undefined) throw refuse('processingModeMismatch', 'ACTION', 500, ref);
    if (um.mpc !== undefined && um.mpc !== p.mpc) throw refuse('processingModeMismatch', 'MPC', 500, ref);
    let originalSender: string | undefined;
    let finalRecipient: string | undefined;
    try {
      originalSender = propertyValue(um, 'originalSender');
      finalRecipient = propertyValue(um, 'finalRecipient');
    } catch {
      throw refuse('invalidHeader', 'REPEATED_PROPERTY', 500, ref);
    }
    if (originalSender === undefined || finalRecipient === undefined || originalSender === '' || finalRecipient === '') throw refuse('valueInconsistent', 'MISSING_PROPERTY', 500, ref);
    if (!ctx.isServed(finalRecipient)) throw refuse('other', 'NOT_SERVICED', 500, ref);

    // 4. The sender: the token must be the AP certificate published for the original sender, and the From
    //    party its AP (a certificate of another organisation, even from a trusted CA, is refused).
    let peer: As4Peer | null;
    try {
      peer = await ctx.peers(originalSender, ctx.senderLookupDocumentId(documentId));
    } catch {
      throw refuse('other', 'SENDER_LOOKUP_UNAVAILABLE', 503, ref);
    }
    if (peer === null) throw refuse('failedAuthentication', 'SENDER_NOT_REGISTERED', 500, ref);
    if (!verified.signer.raw.equals(leafDer(peer.certificatePem))) throw refuse('failedAuthentication', 'SIGNER_IS_NOT_THE_SENDERS_ACCESS_POINT', 500, ref);
    if (!um.from.partyIds.some((id) => id.value === peer.partyId)) throw refuse('failedAuthentication', 'FROM_PARTY_IS_NOT_THE_SENDERS_ACCESS_POINT', 500, ref);

    // 5. The payload: exactly one part, the signed attachment it names, nothing unreferenced.
    if (um.parts.length !== 1) throw refuse('valueInconsistent', 'PAYLOAD_COUNT', 500, ref);
    const part = um.parts[0]!;
    if (!part.href.startsWith('cid:')) throw refuse('featureNotSupported', 'PAYLOAD_NOT_AN_ATTACHMENT', 500, ref);
    const cid = part.href.slice(4);
    let attachment = byCid.get(cid);
    if (attachment === undefined || byCid.size !== 1) throw refuse('valueInconsistent', 'PAYLOAD_PART_MISMATCH', 500, ref);
    byCid.clear();
    const compression = partProperty(part, 'CompressionType');

    // 6. Duplicate elimination, then decompression and the routing check.
    const fromParty = peer.partyId;
    const claim = await ctx.duplicates.claim(um.messageId, fromParty);
    if (claim === 'in-progress') throw refuse('other', 'DELIVERY_IN_PROGRESS', 503, ref);
    if (claim === 'delivered') {
      log?.info({ event: 'AS4_DUPLICATE', transportMessageId: um.messageId }, 'duplicate AS4 message answered with a receipt, not delivered again');
      return { status: 200, xml: receipt(um.messageId, verified.references) };
    }
    let delivered = false;
    try {
      let envelope: Buffer;
      if (compression !== undefined) {
        if (compression !== GZIP_MIME) throw refuse('decompressionFailure', 'UNSUPPORTED_COMPRESSION', 500, ref);
        try {
          envelope = await gunzipBounded(attachment.body, ctx.maxPayloadBytes);
        } catch {
          throw refuse('decompressionFailure', 'DECOMPRESSION_FAILED_OR_TOO_LARGE', 500, ref);
        }
      } else {
        envelope = Buffer.from(attachment.body.buffer, attachment.body.byteOffset, attachment.body.byteLength);
        if (envelope.length > ctx.maxPayloadBytes) throw refuse('other', 'PAYLOAD_TOO_LARGE', 500, ref);
      }
      attachment = undefined;
      // The compressed body is garbage now; only the XHE is stored next.
      releaseAfterLarge(envelope.length);
      const routing = { originalSender: originalSender as ParticipantId, finalRecipient: finalRecipient as ParticipantId, documentId, processId: p.service.value };
      const xhe = readXheRouting(envelope);
      const problem = routingProblem(xhe, routing);
      if (problem !== null || xhe === null) throw refuse('valueInconsistent', 'ROUTING_DOES_NOT_MATCH_THE_XHE', 500, ref);
      const handler = ctx.handler();
      if (handler === undefined) throw refuse('other', 'NO_INBOUND_HANDLER', 503, ref);
      try {
        await handler({
          envelope: new Uint8Array(envelope.buffer, envelope.byteOffset, envelope.byteLength),
          routing: { ...routing, xheId: xhe.id, conversationId: um.conversationId },
          transportMessageId: um.messageId,
          receivedAt: ctx.clock(),
        });
      } catch {
        throw refuse('other', 'DELIVERY_FAILED', 503, ref);
      }
      await ctx.duplicates.complete(um.messageId, fromParty);
      delivered = true;
      log?.info({ event: 'AS4_MESSAGE_RECEIVED', transportMessageId: um.messageId, xheId: xhe.id, action: leg.name }, 'AS4 message delivered to the message service');
      ctx.delivered?.(documentId, envelope);
      return { status: 200, xml: receipt(um.messageId, verified.references) };
    } finally {
      if (!delivered) await ctx.duplicates.release(um.messageId, fromParty).catch(() => undefined);
    }
  }

  function receipt(refToMessageId: string, references: Parameters<typeof receiptMessagingXml>[0]['references']): string {
    const wsuId = `_messaging-${randomUUID()}`;
    const now = ctx.clock();
    const messagingXml = receiptMessagingXml({ messageId: newEbmsMessageId(ctx.messageIdDomain), timestamp: now, refToMessageId, references }, wsuId);
    return secureEnvelope({ messagingXml, messagingId: wsuId, key: ctx.signingKey, now, ttlSeconds: ctx.pmode.security.timestampTtlSeconds, signatureMethod: ctx.pmode.security.signatureMethod, digestMethod: ctx.pmode.security.digestMethod }).xml;
  }

  return (req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST', 'content-type': 'text/plain' }).end('POST an AS4 message');
      req.resume();
      return;
    }
    process(req).then(
      (r) => sendXml(res, r.status, r.xml),
      (e: unknown) => {
        if (e instanceof Refusal) {
          log?.warn({ event: 'AS4_MESSAGE_REFUSED', errorCode: EBMS_ERRORS[e.kind].code, reason: e.detail, ...(e.refToMessageId !== undefined ? { transportMessageId: e.refToMessageId } : {}) }, 'AS4 message refused');
          answerError(res, e);
          return;
        }
        log?.error({ event: 'AS4_RECEIVE_FAILED', err: e instanceof Error ? { name: e.name, message: e.message } : 'unknown' }, 'AS4 request failed');
        answerError(res, refuse('other', 'INTERNAL_ERROR', 503));
      },
    );
  };
}
