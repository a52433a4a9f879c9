// sdk.md §5 (inbound checks and receipts), §9 (receipts), §10 (MT–MK statuses and events), §13, §14.3, §14.12,
// §16.17–16.33: sending and receiving SDK messages through the outbox and the AccessPoint port.
//
// Outbound: POST stores the message, its delivery and an outbox row in one transaction (SCHEDULED) → job
// `sdk.message.send` seals it (encrypt for the recipient, sign), keeps the exact envelope bytes and hands them to
// the access point (SUBMITTED) → AP events (ACKNOWLEDGE → WAITING_FOR_RECEIPT, SCHEDULED_FOR_RESEND, or
// MESSAGE_EXCHANGE_ERROR) → the recipient's receipt (ACCEPTED, or REJECTED → MESSAGE_EXCHANGE_ERROR with one
// event line per LineResponse) → or the receipt timeout (MESSAGE_EXCHANGE_ERROR).
// Inbound: the AP's bytes are stored before the AP is answered → job `sdk.inbound.process` judges them with the
// core → ACCEPTED: one inbox row (RETRIEVED; the unique index makes a duplicate impossible) and a signed receipt
// sent back → its transport receipt moves the message to RECEIPT_SENT → NEW (visible). REJECTED: a receipt with
// the reasons and nothing in the inbox. An inbound receipt is verified by the core and applied, never answered.
import { randomUUID } from 'node:crypto';
import { AppError, conflict, forbidden, isAppError } from '../../domain/errors.js';
import { canTransition as canTransitionDelivery, type DeliveryStatus } from '../../domain/delivery-status.js';
import { requestHash } from '../../domain/request-hash.js';
import { attachmentsInPayload, LARGE_CONTENT_CHARS } from '../../domain/sdk/attachments-in-payload.js';
import { sameParticipant, type FunctionAddress, type MessageId, type ParticipantId } from '../../domain/sdk/identifiers.js';
import { checkOutboundMessage, recipientFunctionAddress, type SdkMessage } from '../../domain/sdk/message.js';
import { reason, type ReceiptVerdict } from '../../domain/sdk/receipt.js';
import { isFinal, type MessageStatus } from '../../domain/sdk/status.js';
import type { JobContext, JobHandler } from '../../ports/job-handler.port.js';
import type { InboundEnvelopeHead, InboundEnvelopeRecord, NewSdkEventLine, SdkMessageRecord, SdkStore, SdkUnitOfWork } from '../../ports/sdk-store.port.js';
import type { AccessPointEvent, AddressBookLookup, InboundEnvelope, InboundLookups } from '../../ports/sdk.port.js';
import type { Logger } from '../../lib/logger.js';
import { releaseAfterLarge } from '../../lib/memory.js';
import { SdkRequestError, TOO_LONG_CODE, tooLongRequest, type ReceivedMessage, type ReceivedReceiptResult, type SdkDeps, type SdkIssue } from './sdk-deps.js';

export const SDK_DELIVERY_KIND = 'sdk-message';
export const JOB_SDK_SEND = 'sdk.message.send';
export const JOB_SDK_INBOUND = 'sdk.inbound.process';

/** Inbound statuses before our receipt is confirmed: the message is not in anyone's inbox yet. */
export const IN_FLIGHT_INBOUND: readonly MessageStatus[] = ['RETRIEVED', 'RECEIPT_SENT'];
/** Outbound statuses in which a receipt is still expected. */
const AWAITING_RECEIPT: readonly MessageStatus[] = ['SCHEDULED', 'SCHEDULED_FOR_RESEND', 'SUBMITTED', 'ACKNOWLEDGE', 'WAITING_FOR_RECEIPT'];
/** Stands in for an envelope once it is judged and stored (the inbound job lets go of the bytes, issue 7 memory). */
const NO_BYTES: Buffer = Buffer.alloc(0);

const ATTR = '/body/data/attributes';

const now = (deps: Pick<SdkDeps, 'clock'>): Date => (deps.clock ?? (() => new Date()))();

// ---------------------------------------------------------------------------------------------------------
// Outbound: accept a message from a case system

export interface SubmitRequest {
  /** principalId() of the caller: owner of the delivery and its Idempotency-Key. */
  owner: string;
  idempotencyKey?: string;
  correlationId?: string;
  /** The request body as received (hashed for Idempotency-Key comparison). */
  body: unknown;
  /** The message mapped from the body, with messageId / conversationId / creationDateTime filled in. */
  message: SdkMessage;
}

/**
 * POST /v1/sdk/messages after authorization: check the message as it will be sent, then store it, its delivery
 * and its outbox row in one transaction (SCHEDULED). Nothing is stored when a check fails.
 */
export async function submitMessage(deps: SdkDeps, req: SubmitRequest): Promise<{ record: SdkMessageRecord; created: boolean }> {
  const msg = req.message;
  const fieldErrors = checkOutboundMessage(msg);
  if (fieldErrors.length > 0) {
    throw new SdkRequestError('VALIDATION_FAILED', 'The SDK message is invalid.', fieldErrors.map((e) => ({ in: `${ATTR}${e.field}`, title: "Input isn't valid", detail: e.message })));
  }
  // §10: the client must be able to act for the sender organisation; this gateway acts for exactly one.
  if (!sameParticipant(msg.sender.id, deps.ownParticipant)) {
    throw forbidden('SDK_SENDER_NOT_ALLOWED', 'The sender must be this organisation\'s participant id.');
  }
  await checkRecipientAddress(deps, msg);
  const prepared = deps.preparePayload(msg);
  if (prepared.problems.some((p) => p.detail === 'too-long')) throw tooLongRequest(`${ATTR}/digitalDocument`);
  if (prepared.problems.length > 0) {
    throw new SdkRequestError('VALIDATION_FAILED', 'The SDK message does not validate against the message schema and rules.',
      prepared.problems.map((p): SdkIssue => ({ in: p.path, title: p.detail, detail: `${p.code}: ${p.text}` })));
  }
  // Memory (issue 7): from here on the payload holds every attachment's text. The request's own copies (the
  // parsed body and the message mapped from it) are let go — hashed first — so that while the payload is
  // written only the payload is payload-sized; the message is stored with its large attachments as ranges of
  // the payload (attachments-in-payload.ts) and nothing after this reads them (the answer has no documents).
  const bodyHash = requestHash(req.body);
  const stored = attachmentsInPayload(msg, prepared.payload);
  letGoOfMoved(stored, msg, req.body);
  let result: { record: SdkMessageRecord; created: boolean; outboxId?: string };
  try {
    result = await deps.store.transaction(async (tx) => {
      const d = await tx.insertDelivery({
        kind: SDK_DELIVERY_KIND, owner: req.owner, requestHash: bodyHash, channel: 'sdk', data: { messageId: msg.messageId },
        ...(req.idempotencyKey !== undefined ? { idempotencyKey: req.idempotencyKey } : {}),
        ...(req.correlationId !== undefined ? { correlationId: req.correlationId } : {}),
      });
      if (!d.created) {
        const existing = await tx.getMessageByDelivery(d.delivery.id);
        if (existing === undefined) throw new AppError('SDK_IDEMPOTENCY_ORPHAN', 'the delivery for this key has no SDK message');
        return { record: existing, created: false };
      }
      const ins = await tx.insertMessage({
        direction: 'out', preferredId: msg.messageId, message: stored, payload: prepared.payload, status: 'SCHEDULED',
        title: 'Message scheduled for sending to the access point', deliveryId: d.delivery.id,
      });
      const outboxId = await tx.insertOutbox(JOB_SDK_SEND, ins.record.id, req.correlationId);
      await tx.audit({ type: 'SDK_MESSAGE_ACCEPTED', actor: req.owner, subject: ins.record.id, outcome: 'success', details: { from: ins.record.senderAddress, to: ins.record.recipientAddress, recipient: msg.recipient.id } });
      return { record: ins.record, created: true, outboxId };
    });
  } catch (err) {
    // The outbound unique index: a client-chosen messageId that was used before.
    if ((err as { code?: unknown }).code === '23505') throw conflict('SDK_MESSAGE_ID_EXISTS', 'A message with this messageId already exists.');
    throw err;
  }
  // The payload and the statements that wrote it are garbage now, before the send job builds the envelope.
  releaseAfterLarge(prepared.payload.length);
  if (result.outboxId !== undefined) await deps.queue.enqueue({ outboxId: result.outboxId, correlationId: req.correlationId }).catch(() => undefined);
  return { record: result.record, created: result.created };
}

/**
 * Blank, in the message and the request body, the texts of the attachments `stored` keeps in the payload.
 * A function of its own so that the set of those texts dies with its frame: held by submitMessage while the
 * message is stored, it kept a 29 MB attachment alive for exactly the stage it was meant to free.
 */
function letGoOfMoved(stored: SdkMessage, msg: SdkMessage, body: unknown): void {
  const moved = new Set<string>();
  stored.documents.forEach((d, i) => d.files.forEach((f, j) => {
    const original = msg.documents[i]?.files[j];
    if (f.contentInPayload !== undefined && original !== undefined) moved.add(original.content);
  }));
  letGoOf(moved, body);
  letGoOf(moved, msg);
}

/**
 * Replace every file `content` inside `value` (plain objects and arrays) that is one of `texts` by "", so the
 * request no longer holds the attachments' texts once the payload does (submitMessage). Only texts that are
 * now stored in the payload are in `texts`, and only properties named `content` (a file's text in the request
 * body and in the message) are touched; everything else is left as it is.
 */
function letGoOf(texts: ReadonlySet<string>, value: unknown): void {
  if (texts.size === 0 || value === null || typeof value !== 'object') return;
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (typeof v === 'string') {
      if (k === 'content' && v.length >= LARGE_CONTENT_CHARS && texts.has(v)) o[k] = '';
    } else {
      letGoOf(texts, v);
    }
  }
}

export { TOO_LONG_CODE };

/** The adapter's code for "no copy of the national address book at all" (docs/as4.md §4). */
export const ADDRESS_BOOK_UNAVAILABLE = 'ADDRESS_BOOK_UNAVAILABLE';
const isBookUnavailable = (err: unknown): boolean => isAppError(err) && err.code === ADDRESS_BOOK_UNAVAILABLE;

/**
 * sdk.md §16.5 and §10 (SCHEDULED = "accepted from MK after schema + address-book checks"): the recipient function
 * address must be listed in the national address book (§3) for the recipient organisation, and a message to our
 * own organisation must in addition name one of our own function addresses (our table decides which of the
 * nationally listed addresses this message service serves). Refused with 400 urn:problem-type:sdk:badRequest
 * naming the field (title `not-found`, the receipt detail code of §5 row 9); nothing is stored or sent.
 *
 * Without any copy of the book (never downloaded and none stored — a first start while the read API is down) the
 * message is refused with 503 ADDRESS_BOOK_UNAVAILABLE rather than accepted unchecked: §10 lets a message reach
 * SCHEDULED only after the address-book check, and the case system can simply retry (nothing is stored). A copy
 * that is merely old is still used (docs/sdk.md "Address book").
 */
async function checkRecipientAddress(deps: SdkDeps, msg: SdkMessage): Promise<void> {
  const address = recipientFunctionAddress(msg);
  const field = `${ATTR}/recipientAttention/subOrganization/extension`;
  const refuse = (detail: string, also: SdkIssue[] = []): SdkRequestError =>
    new SdkRequestError('SDK_UNKNOWN_FUNCTION_ADDRESS', 'The recipient function address does not exist.', [{ in: field, title: 'not-found', detail }, ...also]);
  if (sameParticipant(msg.recipient.id, deps.ownParticipant) && !(await deps.store.isOwnFunctionAddress(address))) {
    throw refuse('not a function address of the recipient organisation');
  }
  if (deps.addressBook === undefined) return;
  let listedFor: { participantId: string } | undefined;
  try {
    listedFor = await deps.addressBook.organisationOf(address);
  } catch (err) {
    if (!isBookUnavailable(err)) throw err;
    deps.logger.warn({ event: 'SDK_ADDRESS_BOOK_UNAVAILABLE', direction: 'outbound' }, 'no copy of the national SDK address book: message refused (503), the client may retry');
    throw new AppError(ADDRESS_BOOK_UNAVAILABLE, 'No copy of the national SDK address book is available yet, so the recipient cannot be checked; try again later.', { status: 503, retryable: true, expose: true, cause: err });
  }
  if (listedFor === undefined) throw refuse('not listed in the national SDK address book');
  if (!sameParticipant(listedFor.participantId, msg.recipient.id)) {
    throw refuse('listed in the national SDK address book for another organisation', [{ in: `${ATTR}/recipient`, title: 'not-found', detail: 'does not own the recipient function address in the national SDK address book' }]);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Status helpers shared by the jobs and the AP event listener

/** Keep the foundation's coarse delivery status in step (DELIVERED / REJECTED / FAILED / SENDING / RETRY_WAIT). */
async function syncDelivery(tx: SdkUnitOfWork, rec: SdkMessageRecord, to: DeliveryStatus, reasonCode?: string): Promise<void> {
  if (rec.deliveryId === null) return;
  const d = await tx.getDelivery(rec.deliveryId, { forUpdate: true });
  if (d === undefined || d.status === to) return;
  let from = d.status;
  if (!canTransitionDelivery(from, to) && from === 'RECEIVED' && canTransitionDelivery('SENDING', to)) {
    await tx.transitionDelivery(d.id, 'SENDING');
    from = 'SENDING';
  }
  if (canTransitionDelivery(from, to)) await tx.transitionDelivery(d.id, to, reasonCode !== undefined ? { reason: reasonCode } : {});
}

/** A later signal (AP event, receipt) proves the envelope was handed over, even if the job has not recorded it yet. */
async function ensureSubmitted(tx: SdkUnitOfWork, rec: SdkMessageRecord): Promise<SdkMessageRecord> {
  if (rec.status !== 'SCHEDULED' && rec.status !== 'SCHEDULED_FOR_RESEND') return rec;
  const next = await tx.setStatus(rec.id, 'SUBMITTED', 'Handed to the access point');
  await syncDelivery(tx, next, 'SENDING');
  return next;
}

async function failOutbound(tx: SdkUnitOfWork, rec: SdkMessageRecord, title: string, lines: NewSdkEventLine[], reasonCode: string): Promise<void> {
  if (isFinal(rec.status) || !AWAITING_RECEIPT.includes(rec.status)) return;
  const next = await tx.setStatus(rec.id, 'MESSAGE_EXCHANGE_ERROR', title, lines, reasonCode);
  await syncDelivery(tx, next, 'FAILED', reasonCode);
  await tx.audit({ type: 'SDK_MESSAGE_FAILED', actor: 'system', subject: rec.id, outcome: 'failure', details: { reason: reasonCode } });
}

// ---------------------------------------------------------------------------------------------------------
// Job: seal and hand to the access point

function sendHandler(deps: SdkDeps): JobHandler {
  const { store } = deps;
  return {
    async handle(ctx) {
      const rec = await store.getMessage(ctx.refId);
      if (rec === undefined || (rec.status !== 'SCHEDULED' && rec.status !== 'SCHEDULED_FOR_RESEND')) return;
      let content = await store.transaction((tx) => tx.getSendContent(rec.id));
      if (content === undefined) return;
      let envelope = content.envelope;
      let routing = content.routing;
      if (envelope === null || routing === null) {
        // Seal once and keep the bytes: every retry hands the AP exactly the envelope that was signed (§16.11).
        // The payload stored at submission is what is sealed — the bytes validated then are the bytes sent, and a
        // large attachment is never read back into the message (issue 7 memory). A row without one (written by
        // no current code path) is sealed from the whole message instead.
        try {
          let sealed;
          if (content.payload !== null) {
            sealed = await deps.service.seal(content.header, content.payload);
          } else {
            const full = await store.transaction((tx) => tx.getContent(rec.id));
            if (full === undefined) return;
            sealed = await deps.service.seal(full.message);
          }
          // A view, not a copy; and the message (attachments included) is let go once sealed (issue 7 memory).
          envelope = Buffer.from(sealed.envelope.buffer, sealed.envelope.byteOffset, sealed.envelope.byteLength);
          routing = sealed.routing;
          content = undefined;
          releaseAfterLarge(envelope.length);
        } catch (err) {
          if (isAppError(err) && err.retryable) throw err;
          const code = isAppError(err) ? err.code : 'SDK_SEAL_FAILED';
          deps.logger.warn({ event: 'SDK_SEAL_FAILED', sdkMessageId: rec.id, code }, 'the message could not be sealed');
          await store.transaction(async (tx) => {
            const cur = await tx.getMessage(rec.id, { forUpdate: true });
            if (cur !== undefined) await failOutbound(tx, cur, 'The message could not be enveloped, signed and encrypted', [{ typeCode: 'MESSAGE_EXCHANGE_ERROR', title: code, detail: isAppError(err) && err.expose ? err.message : 'internal error' }], code);
            await tx.completeOutbox(ctx.outboxId);
          });
          return;
        }
        const e = envelope;
        const r = routing;
        await store.transaction((tx) => tx.setEnvelope(rec.id, e, r));
        releaseAfterLarge(e.length);
      }
      let transportMessageId: string;
      // The access point takes its own copy (AS4: the gzip of it) before send() resolves and delivers in the
      // background; from then on the envelope is garbage here (issue 7 memory: held until this job ended, it
      // sat next to the compressed copy for the whole transfer).
      const size = envelope.length;
      const sending = deps.accessPoint.send(envelope, routing);
      envelope = null;
      content = undefined;
      try {
        transportMessageId = (await sending).transportMessageId;
        releaseAfterLarge(size);
      } catch (err) {
        const retryable = !isAppError(err) || err.retryable;
        const code = isAppError(err) ? err.code : 'ACCESS_POINT_UNAVAILABLE';
        await store.transaction(async (tx) => {
          const cur = await tx.getMessage(rec.id, { forUpdate: true });
          if (cur === undefined) return;
          if (!retryable) {
            await failOutbound(tx, cur, 'The access point refused the message', [{ typeCode: 'TRANSPORT', title: code, detail: 'the access point did not take the message' }], code);
            await tx.completeOutbox(ctx.outboxId);
          } else if (cur.status === 'SCHEDULED' || cur.status === 'SCHEDULED_FOR_RESEND') {
            const next = await tx.setStatus(cur.id, 'SCHEDULED_FOR_RESEND', 'The access point could not be reached; will retry');
            await syncDelivery(tx, next, 'RETRY_WAIT', code);
          }
        });
        if (retryable) throw new AppError('SDK_ACCESS_POINT_UNAVAILABLE', 'the access point did not take the message; will retry', { status: 502, retryable: true, cause: err });
        return;
      }
      await store.transaction(async (tx) => {
        const cur = await tx.getMessage(rec.id, { forUpdate: true });
        if (cur === undefined) return;
        await tx.setTransportMessageId(cur.id, transportMessageId);
        await ensureSubmitted(tx, cur);
        await tx.completeOutbox(ctx.outboxId);
      });
      deps.logger.info({ event: 'SDK_MESSAGE_SUBMITTED', sdkMessageId: rec.id, xheId: routing.xheId, transportMessageId }, 'SDK message handed to the access point');
    },
    async onDead(ctx, err) {
      await store.transaction(async (tx) => {
        const cur = await tx.getMessage(ctx.refId, { forUpdate: true });
        if (cur !== undefined && (cur.status === 'SCHEDULED' || cur.status === 'SCHEDULED_FOR_RESEND')) {
          await failOutbound(tx, cur, 'The message could not be handed to the access point', [{ typeCode: 'TRANSPORT', title: err.code, detail: 'every attempt failed' }], err.code);
        }
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Inbound: take over an envelope from the access point

/** The AccessPoint inbound handler: store the exact bytes and an outbox row, then answer the AP (taken over). */
export function inboundHandler(deps: Pick<SdkDeps, 'store' | 'queue' | 'logger'>): (inbound: InboundEnvelope) => Promise<void> {
  return async (inbound) => {
    const stored = await deps.store.transaction(async (tx) => {
      const r = await tx.insertInboundEnvelope({
        id: randomUUID(), transportMessageId: inbound.transportMessageId, envelope: Buffer.from(inbound.envelope.buffer, inbound.envelope.byteOffset, inbound.envelope.byteLength), routing: inbound.routing, receivedAt: inbound.receivedAt,
      });
      return r.created ? { id: r.id, outboxId: await tx.insertOutbox(JOB_SDK_INBOUND, r.id) } : undefined;
    });
    releaseAfterLarge(inbound.envelope.byteLength);
    if (stored === undefined) return;
    deps.logger.info({ event: 'SDK_ENVELOPE_RECEIVED', inboundId: stored.id, xheId: inbound.routing.xheId, transportMessageId: inbound.transportMessageId }, 'SDK envelope taken over from the access point');
    await deps.queue.enqueue({ outboxId: stored.outboxId }).catch(() => undefined);
  };
}

function verdictJson(v: ReceiptVerdict): Record<string, unknown> {
  return v.status === 'ACCEPTED' ? { status: 'ACCEPTED' } : { status: 'REJECTED', reasons: v.reasons.map((r) => ({ code: r.code, detail: r.detail, path: r.path, text: r.text })) };
}

function inboundJobHandler(deps: SdkDeps): JobHandler {
  const { store } = deps;

  async function applyReceipt(ctx: JobContext, env: InboundEnvelopeRecord, result: ReceivedReceiptResult): Promise<void> {
    await store.transaction(async (tx) => {
      const cur = await tx.getInboundEnvelopeHead(env.id, { forUpdate: true });
      if (cur === undefined || cur.state !== 'received') return;
      if (!result.ok) {
        // §9: a receipt that fails verification is logged and ignored, never answered.
        await tx.updateInboundEnvelope(env.id, {
          kind: 'receipt', state: 'receipt-refused', processed: true, verdict: { problems: result.problems.map((p) => ({ code: p.code, detail: p.detail, path: p.path })) },
          ...(result.envelope ? { xheId: result.envelope.id, sender: result.envelope.from } : {}),
        });
        await tx.audit({ type: 'SDK_RECEIPT_REFUSED', actor: 'system', subject: env.id, outcome: 'failure', details: { codes: result.problems.map((p) => `${p.code}/${p.detail}`) } });
        deps.logger.warn({ event: 'SDK_RECEIPT_REFUSED', inboundId: env.id, codes: result.problems.map((p) => `${p.code}/${p.detail}`) }, 'an inbound receipt failed verification and was ignored');
        await tx.completeOutbox(ctx.outboxId);
        return;
      }
      const r = result.receipt;
      const base = { kind: 'receipt' as const, xheId: result.envelope.id, sender: result.envelope.from, processed: true };
      const msg = await tx.findOutboundForUpdate(r.documentReference);
      // §16.33: the receipt must acknowledge an outbound message addressed to its issuer.
      if (msg === undefined || !sameParticipant(msg.recipient, r.issuer)) {
        await tx.updateInboundEnvelope(env.id, { ...base, state: 'receipt-ignored', verdict: { status: r.status, reason: 'no matching outbound message' } });
        deps.logger.warn({ event: 'SDK_RECEIPT_UNMATCHED', inboundId: env.id }, 'a receipt for no outbound message of ours was ignored');
        await tx.completeOutbox(ctx.outboxId);
        return;
      }
      if (msg.deliveryId !== null) {
        await tx.addReceipt(msg.deliveryId, {
          kind: 'sdk-receipt', externalId: r.receiptId, raw: env.envelope,
          data: { status: r.status, issuer: r.issuer, issueDate: r.issueDate, issueTime: r.issueTime, lines: r.lines.map((l) => ({ code: l.code, detail: l.detail ?? null, path: l.path, text: l.text })) },
        });
      }
      if (!AWAITING_RECEIPT.includes(msg.status)) {
        // §16.32 / §14.12: receipts for messages already in a final state change nothing (e.g. a duplicate's REJECTED).
        await tx.updateInboundEnvelope(env.id, { ...base, state: 'receipt-ignored', verdict: { status: r.status, reason: `message already ${msg.status}` } });
        await tx.completeOutbox(ctx.outboxId);
        return;
      }
      const submitted = await ensureSubmitted(tx, msg);
      if (r.status === 'ACCEPTED') {
        const next = await tx.setStatus(submitted.id, 'ACCEPTED', 'ACCEPTED receipt received', [], 'ACCEPTED');
        await syncDelivery(tx, next, 'DELIVERED', 'ACCEPTED');
      } else {
        // §10 / §14.3: REJECTED is recorded with one line per LineResponse, then the message ends in MESSAGE_EXCHANGE_ERROR.
        const lines: NewSdkEventLine[] = r.lines.map((l) => ({ typeCode: l.code, title: l.detail ?? l.code, detail: l.text, location: l.path }));
        await tx.setStatus(submitted.id, 'REJECTED', 'REJECTED receipt received', lines, 'REJECTED');
        const next = await tx.setStatus(submitted.id, 'MESSAGE_EXCHANGE_ERROR', 'The recipient rejected the message', [], 'REJECTED');
        await syncDelivery(tx, next, 'REJECTED', 'SDK_REJECTED');
      }
      await tx.updateInboundEnvelope(env.id, { ...base, state: 'receipt-applied', verdict: { status: r.status } });
      await tx.audit({ type: 'SDK_RECEIPT_RECEIVED', actor: 'system', subject: msg.id, outcome: r.status === 'ACCEPTED' ? 'success' : 'failure', details: { status: r.status, codes: r.lines.map((l) => `${l.code}/${l.detail ?? ''}`) } });
      await tx.completeOutbox(ctx.outboxId);
    });
  }

  async function judgeMessage(ctx: JobContext, env: InboundEnvelopeHead, result: ReceivedMessage): Promise<boolean> {
    return store.transaction(async (tx) => {
      const cur = await tx.getInboundEnvelopeHead(env.id, { forUpdate: true });
      if (cur === undefined || cur.state !== 'received') return false;
      let verdict = result.verdict;
      let inboxId: string | undefined;
      if (verdict.status === 'ACCEPTED' && result.message !== undefined && result.payloadBytes !== undefined) {
        const ins = await tx.insertMessage({
          direction: 'in', preferredId: result.message.messageId, message: result.message, payload: result.payloadBytes, status: 'RETRIEVED',
          title: 'Received and validated; receipt pending', inboundEnvelopeId: env.id,
        });
        if (ins.created) inboxId = ins.record.id;
        // A concurrent delivery of the same messageId won the unique index: this one is a duplicate (§5 row 6).
        else verdict = { status: 'REJECTED', reasons: [reason('duplicate', '/tns:messagePayload/tns:message/tns:messageHeader/tns:messageId', 'A message with this messageId has already been received.')] };
      }
      const receipt = result.sendReceipt ? deps.service.receiptFor({ ...result, verdict }) : null;
      await tx.updateInboundEnvelope(env.id, {
        kind: 'message', verdict: verdictJson(verdict), state: receipt === null ? 'no-receipt' : 'judged', processed: receipt === null,
        ...(result.envelope ? { xheId: result.envelope.id, sender: result.envelope.from } : {}),
        ...(result.noReceiptReason !== undefined ? { noReceiptReason: result.noReceiptReason } : {}),
        ...(receipt !== null ? { receipt: { envelope: Buffer.from(receipt.envelope), xheId: receipt.xheId, routing: receipt.routing } } : {}),
      });
      const codes = verdict.status === 'REJECTED' ? verdict.reasons.map((r) => `${r.code}/${r.detail}`) : [];
      if (receipt === null) {
        // §5 "No receipt is sent": an incident for a person, never an answer to the sender.
        await tx.audit({ type: 'SDK_INBOUND_INCIDENT', actor: 'system', subject: env.id, outcome: 'failure', details: { reason: result.noReceiptReason ?? 'no-receipt', codes } });
        deps.logger.warn({ event: 'SDK_INBOUND_INCIDENT', inboundId: env.id, reason: result.noReceiptReason, codes }, 'inbound SDK envelope not receipted');
        await tx.completeOutbox(ctx.outboxId);
      } else {
        await tx.audit({ type: 'SDK_MESSAGE_RECEIVED', actor: 'system', subject: inboxId ?? env.id, outcome: verdict.status === 'ACCEPTED' ? 'success' : 'failure', details: { verdict: verdict.status, codes } });
      }
      return receipt !== null;
    });
  }

  async function sendOurReceipt(ctx: JobContext, envelopeId: string): Promise<void> {
    const env = await store.getInboundEnvelopeHead(envelopeId);
    if (env === undefined || env.state !== 'judged' || env.receiptEnvelope === null || env.receiptRouting === null) return;
    let transportMessageId: string;
    try {
      transportMessageId = (await deps.accessPoint.send(env.receiptEnvelope, env.receiptRouting)).transportMessageId;
    } catch (err) {
      throw new AppError('SDK_RECEIPT_NOT_SENT', 'our receipt could not be handed to the access point; will retry', { status: 502, retryable: !isAppError(err) || err.retryable, cause: err });
    }
    await store.transaction(async (tx) => {
      const cur = await tx.getInboundEnvelopeHead(env.id, { forUpdate: true });
      // The AP's acknowledgement may already have moved the row on: never move it back.
      if (cur?.state === 'judged') await tx.updateInboundEnvelope(env.id, { state: 'receipt-submitted', receiptTransportMessageId: transportMessageId });
      await tx.completeOutbox(ctx.outboxId);
    });
  }

  return {
    async handle(ctx) {
      // The row's state first: only an envelope still to be judged is read with its (possibly large) bytes.
      const head = await store.getInboundEnvelopeHead(ctx.refId);
      if (head === undefined) return;
      if (head.state === 'judged') return sendOurReceipt(ctx, head.id);
      if (head.state !== 'received') return;
      let env = await store.getInboundEnvelope(head.id);
      if (env === undefined) return;
      let result: ReceivedMessage | ReceivedReceiptResult | undefined = await deps.service.receive(env.envelope, { originalSender: env.routing.originalSender, finalRecipient: env.routing.finalRecipient });
      if (result.kind === 'receipt') return applyReceipt(ctx, env, result);
      // Memory (issue 7): the envelope is stored and judged; only its decrypted payload is needed from here on.
      // Drop both references to its bytes (the record's and the verdict's) before the message is stored, so a
      // large envelope and the payload taken out of it are not held at once.
      const size = env.envelope.length;
      const verdict = { ...result, envelopeBytes: NO_BYTES };
      env = undefined;
      result = undefined;
      releaseAfterLarge(size);
      const judged = await judgeMessage(ctx, head, verdict);
      releaseAfterLarge(size);
      if (judged) await sendOurReceipt(ctx, head.id);
    },
    async onDead(ctx, err) {
      await store.transaction(async (tx) => {
        const env = await tx.getInboundEnvelopeHead(ctx.refId, { forUpdate: true });
        if (env?.state !== 'judged') return;
        await tx.updateInboundEnvelope(env.id, { state: 'receipt-failed', processed: true });
        const msg = await tx.getMessageByInboundEnvelope(env.id);
        if (msg !== undefined && msg.status === 'RETRIEVED') await tx.setStatus(msg.id, 'MESSAGE_EXCHANGE_ERROR', 'Our receipt could not be sent', [{ typeCode: 'TRANSPORT', title: err.code, detail: 'every attempt failed' }]);
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Access point status events (Domibus messageSendSuccess / messageStatusChanged / messageSendFailed)

export async function applyTransportEvent(deps: Pick<SdkDeps, 'store' | 'logger'>, e: AccessPointEvent): Promise<void> {
  await deps.store.transaction(async (tx) => {
    const msg = await tx.findOutboundForUpdate(e.xheId);
    if (msg !== undefined) {
      if (!AWAITING_RECEIPT.includes(msg.status)) return;
      if (e.type === 'ACKNOWLEDGED') {
        const cur = await ensureSubmitted(tx, msg);
        if (cur.status === 'SUBMITTED' || cur.status === 'SCHEDULED_FOR_RESEND') {
          await tx.setStatus(cur.id, 'ACKNOWLEDGE', 'AS4 transport receipt received');
          await tx.setStatus(cur.id, 'WAITING_FOR_RECEIPT', 'Waiting for the message receipt from the recipient');
        }
      } else if (e.type === 'RETRY_SCHEDULED') {
        const cur = await ensureSubmitted(tx, msg);
        if (cur.status === 'SUBMITTED' || cur.status === 'SCHEDULED_FOR_RESEND') {
          const next = await tx.setStatus(cur.id, 'SCHEDULED_FOR_RESEND', 'The receiving access point could not be reached; the access point retries');
          await syncDelivery(tx, next, 'RETRY_WAIT', 'AP_RETRY');
        }
      } else {
        await failOutbound(tx, msg, 'The access point could not deliver the message', [{ typeCode: 'TRANSPORT', title: e.errorCode, detail: e.detail }], e.errorCode);
      }
      return;
    }
    const env = await tx.findByReceiptXheIdForUpdate(e.xheId);
    if (env === undefined) return;
    const inbox = await tx.getMessageByInboundEnvelope(env.id);
    if (e.type === 'ACKNOWLEDGED' && (env.state === 'judged' || env.state === 'receipt-submitted')) {
      await tx.updateInboundEnvelope(env.id, { state: 'receipt-acknowledged', processed: true });
      if (inbox?.status === 'RETRIEVED') {
        await tx.setStatus(inbox.id, 'RECEIPT_SENT', 'Transport receipt received for our receipt');
        await tx.setStatus(inbox.id, 'NEW', 'Receipted; available in the inbox');
      }
    } else if (e.type === 'SEND_FAILED' && env.state !== 'receipt-acknowledged') {
      await tx.updateInboundEnvelope(env.id, { state: 'receipt-failed', processed: true });
      if (inbox?.status === 'RETRIEVED') await tx.setStatus(inbox.id, 'MESSAGE_EXCHANGE_ERROR', 'Our receipt could not be delivered', [{ typeCode: 'TRANSPORT', title: e.errorCode, detail: e.detail }]);
      deps.logger.warn({ event: 'SDK_RECEIPT_UNDELIVERED', inboundId: env.id, errorCode: e.errorCode }, 'our receipt could not be delivered');
    }
  });
}

// ---------------------------------------------------------------------------------------------------------
// Receipt timeout

/** Outbound messages without a receipt `receiptTimeoutMs` after SUBMITTED end in MESSAGE_EXCHANGE_ERROR (§16.25). */
export async function expireOverdue(deps: Pick<SdkDeps, 'store' | 'receiptTimeoutMs' | 'clock' | 'logger'>): Promise<number> {
  const ids = await deps.store.overdueOutbound(new Date(now(deps).getTime() - deps.receiptTimeoutMs), 200);
  let n = 0;
  for (const id of ids) {
    await deps.store.transaction(async (tx) => {
      const cur = await tx.getMessage(id, { forUpdate: true });
      if (cur === undefined || cur.status === 'SCHEDULED' || !AWAITING_RECEIPT.includes(cur.status)) return;
      await failOutbound(tx, cur, 'No message receipt received in time; the message may not have been delivered', [], 'RECEIPT_TIMEOUT');
      n++;
    });
  }
  if (n > 0) deps.logger.warn({ event: 'SDK_RECEIPT_TIMEOUT', count: n }, 'SDK messages ended without a receipt');
  return n;
}

// ---------------------------------------------------------------------------------------------------------
// Look-ups the core's inbound checks need, answered from our tables

export interface InboundLookupOptions {
  supportedContentTypes: readonly string[];
  /** With the address book: our participant id, and where unchecked look-ups are reported. */
  addressBook?: { book: AddressBookLookup; ownParticipant: ParticipantId; logger: Logger };
}

/**
 * §5 row 9 ("function address missing/unknown" → REJECTED/BV/not-found): an incoming recipient function address
 * must be one of ours (our table) AND listed for our organisation in the national address book (§3: the MT checks
 * incoming function addresses against it). An address of ours that the book does not list (or lists for another
 * organisation) is therefore answered not-found — the administrator sees it in GET /v1/admin/sdk/address-book.
 *
 * Without any copy of the book the look-up answers from our table alone, logged and counted: the envelope was
 * already acknowledged at AS4 level, so failing the job would leave the sender without a receipt until its
 * receipt timeout, and answering not-found would reject a message that may well be correct. The sender's
 * function address is not checked: §5 gives no receipt code for it (row 13 is about the sender participant).
 */
export function inboundLookups(store: SdkStore, opts: InboundLookupOptions): InboundLookups {
  const types = new Set(opts.supportedContentTypes.map((t) => t.toLowerCase()));
  const ab = opts.addressBook;
  return {
    isKnownFunctionAddress: async (a: FunctionAddress) => {
      if (!(await store.isOwnFunctionAddress(a))) return false;
      if (ab === undefined) return true;
      try {
        const listedFor = await ab.book.organisationOf(a);
        return listedFor !== undefined && sameParticipant(listedFor.participantId, ab.ownParticipant);
      } catch (err) {
        if (!isBookUnavailable(err)) throw err;
        ab.logger.warn({ event: 'SDK_ADDRESS_BOOK_UNAVAILABLE', direction: 'inbound' }, 'no copy of the national SDK address book: incoming function address checked against our own table only');
        return true;
      }
    },
    isDuplicateMessage: (s: ParticipantId, id: MessageId) => store.inboundExists(s, id),
    referencedMessageState: (id: MessageId) => store.referencedState(id),
    // Every participant must accept application/pdf (sdk.md §4); parameters such as charset are ignored.
    isSupportedContentType: (ct: string) => types.has(ct.split(';')[0]!.trim().toLowerCase()) || ct.toLowerCase().startsWith('application/pdf'),
  };
}

// ---------------------------------------------------------------------------------------------------------
// The module the composition root starts

export interface SdkModule {
  deps: SdkDeps;
  /** Outbox job handlers by kind. */
  handlers: Record<string, JobHandler>;
  /** Register with the access point (inbound handler, status events) and, with workers, start the receipt-timeout sweep. */
  start(opts: { sweepIntervalMs?: number }): void;
  stop(): Promise<void>;
}

export function createSdkModule(deps: SdkDeps): SdkModule {
  let unsubscribe: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<unknown> | undefined;
  const pending = new Set<Promise<void>>();
  return {
    deps,
    handlers: { [JOB_SDK_SEND]: sendHandler(deps), [JOB_SDK_INBOUND]: inboundJobHandler(deps) },
    start(opts) {
      deps.accessPoint.onInbound(inboundHandler(deps));
      unsubscribe = deps.accessPoint.onStatus((e) => {
        const p = applyTransportEvent(deps, e)
          .catch((err: unknown) => deps.logger.error({ event: 'SDK_TRANSPORT_EVENT_FAILED', type: e.type, xheId: e.xheId, err }, 'an access point event could not be applied'))
          .finally(() => pending.delete(p));
        pending.add(p);
      });
      if (opts.sweepIntervalMs !== undefined) {
        const tick = (): void => {
          sweeping = expireOverdue(deps).catch((err: unknown) => deps.logger.error({ event: 'SDK_SWEEP_FAILED', err }, 'receipt timeout sweep failed'));
        };
        timer = setInterval(tick, opts.sweepIntervalMs);
        timer.unref();
      }
    },
    async stop() {
      if (timer) clearInterval(timer);
      unsubscribe?.();
      await sweeping;
      await Promise.allSettled([...pending]);
    },
  };
}
