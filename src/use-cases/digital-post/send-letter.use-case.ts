// Sending letters to citizens through Mina meddelanden, with the paper fallback (issue 5; digital-post.md §5–§8).
// Every step is an outbox job: lookup → deliver (digital) or print (paper). A letter never falls between the
// two: each lookup outcome and each delivery decision ends in a named status and reason.
import { randomUUID } from 'node:crypto';
import { AppError, validationError, type FieldError } from '../../domain/errors.js';
import { requestHash } from '../../domain/request-hash.js';
import {
  classifyDeliveryFailure, classifyDeliveryResult, classifyLookupFailure, type DeliveryDecision, type OrganisationNumber,
  type ReachabilityOutcome, type RecipientId,
} from '../../domain/digital-post.js';
import type { DeliveryRow, DeliveryStore, UnitOfWork } from '../../ports/delivery-store.port.js';
import type { DigitalMailbox, DeliveryReceipt, LetterForDelivery, PrintProvider, RecipientRegistry } from '../../ports/digital-post.port.js';
import type { JobHandler } from '../../ports/job-handler.port.js';
import type { LetterRecord, LetterStore, NewLetter } from '../../ports/letter-store.port.js';
import type { LetterRenderer } from '../../ports/letter-renderer.port.js';
import type { QueuePort } from '../../ports/queue.port.js';
import { parseLetterContent, parseRecipient, type LetterContentInput } from './letter-input.js';

export const LETTER_KIND = 'letter';
export const JOB_LOOKUP = 'letter.lookup';
export const JOB_BATCH_LOOKUP = 'letter.batch-lookup';
export const JOB_DELIVER = 'letter.deliver';
export const JOB_PRINT = 'letter.print';
export const MAX_BATCH = 10_000;

export interface DigitalPostDeps {
  store: DeliveryStore;
  letters: LetterStore;
  queue: QueuePort;
  registry: RecipientRegistry;
  mailbox: DigitalMailbox;
  print: PrintProvider;
  renderer: LetterRenderer;
  sender: { organisationNumber: OrganisationNumber; name: string };
}

export interface SubmitLetterRequest extends LetterContentInput {
  recipient?: unknown;
  postalAddress?: unknown;
}

async function enqueueAll(queue: QueuePort, ids: string[], correlationId: string | undefined): Promise<void> {
  // Enqueue failures are healed by the reconciler: the outbox rows are committed.
  if (ids.length === 1) await queue.enqueue({ outboxId: ids[0]!, correlationId }).catch(() => undefined);
  else if (ids.length > 1) await queue.enqueueMany(ids.map((outboxId) => ({ outboxId, correlationId }))).catch(() => undefined);
}

function toNewLetter(id: string, recipient: string, postalAddress: NewLetter['postalAddress'], c: ReturnType<typeof parseLetterContent> & { ok: true }, deps: DigitalPostDeps): NewLetter {
  const v = c.value;
  return {
    id, recipient, senderOrg: deps.sender.organisationNumber, senderName: v.senderUnit ? `${deps.sender.name}, ${v.senderUnit}` : deps.sender.name,
    subject: v.subject, bodyType: v.bodyType, body: v.body, attachments: v.attachments, supportInfo: v.supportInfo, language: v.language,
    reference: v.reference, postalAddress, paperAllowed: v.paperAllowed,
  };
}

/** POST /v1/digital-post/letters: store the letter and its lookup job in one transaction (idempotent by key). */
export async function submitLetter(deps: DigitalPostDeps, owner: string, idempotencyKey: string, req: SubmitLetterRequest, correlationId?: string): Promise<{ delivery: DeliveryRow; created: boolean }> {
  const errors: FieldError[] = [];
  const content = parseLetterContent(req, '/body');
  if (!content.ok) errors.push(...content.errors);
  const r = parseRecipient(req.recipient, req.postalAddress, '/body');
  if (!r.ok) errors.push(...r.errors);
  if (!content.ok || !r.ok) throw validationError(errors);
  const result = await deps.store.transaction(async (tx) => {
    const ins = await tx.insertDelivery({ kind: LETTER_KIND, owner, idempotencyKey, requestHash: requestHash(req), correlationId, channel: undefined });
    if (!ins.created) return { ...ins, outbox: undefined };
    await tx.letters.insert(toNewLetter(ins.delivery.id, r.recipient, r.postalAddress, content, deps));
    const outbox = await tx.insertOutbox(JOB_LOOKUP, ins.delivery.id, correlationId);
    await tx.audit({ type: 'LETTER_ACCEPTED', actor: owner, subject: ins.delivery.id, outcome: 'success' });
    return { ...ins, outbox };
  });
  if (result.outbox) await enqueueAll(deps.queue, [result.outbox], correlationId);
  return { delivery: result.delivery, created: result.created };
}

export interface SubmitBatchRequest {
  letter?: LetterContentInput;
  recipients?: { recipient?: unknown; postalAddress?: unknown }[];
}

/** POST /v1/digital-post/batches: one letter to up to 10,000 recipients; one FaR lookup job for the whole batch. */
export async function submitBatch(deps: DigitalPostDeps, owner: string, idempotencyKey: string, req: SubmitBatchRequest, correlationId?: string): Promise<{ batchId: string; created: boolean; size: number }> {
  const errors: FieldError[] = [];
  const content = parseLetterContent(req.letter ?? {}, '/body/letter');
  if (!content.ok) errors.push(...content.errors);
  const list = req.recipients ?? [];
  if (list.length === 0 || list.length > MAX_BATCH) errors.push({ field: '/body/recipients', message: `must hold 1 to ${MAX_BATCH} recipients` });
  const parsed = list.map((x, i) => parseRecipient(x.recipient, x.postalAddress, `/body/recipients/${i}`));
  parsed.forEach((p) => { if (!p.ok) errors.push(...p.errors); });
  // Report at most 100 field errors: a 10,000-line answer helps nobody.
  if (errors.length > 0 || !content.ok) throw validationError(errors.slice(0, 100));
  const batchId = randomUUID();
  const result = await deps.store.transaction(async (tx) => {
    const b = await tx.letters.insertBatch({ id: batchId, owner, idempotencyKey, requestHash: requestHash(req), size: list.length, bodyType: content.value.bodyType, body: content.value.body, attachments: content.value.attachments });
    if (!b.created) return { batchId: b.id, created: false, outbox: undefined };
    const letters = parsed.map((p, i) => {
      if (!p.ok) throw new AppError('INTERNAL', 'unreachable');
      return { ...toNewLetter(randomUUID(), p.recipient, p.postalAddress, content, deps), batchId, batchIndex: i };
    });
    await tx.letters.insertBatchLetters(owner, correlationId, letters);
    const outbox = await tx.insertOutbox(JOB_BATCH_LOOKUP, batchId, correlationId);
    await tx.audit({ type: 'LETTER_BATCH_ACCEPTED', actor: owner, subject: batchId, outcome: 'success', details: { size: list.length } });
    return { batchId, created: true, outbox };
  });
  if (result.outbox) await enqueueAll(deps.queue, [result.outbox], correlationId);
  return { batchId: result.batchId, created: result.created, size: list.length };
}

/** POST /v1/digital-post/reachability: check recipients without sending (one FaR call per 1,000 ids). */
export async function checkReachability(deps: Pick<DigitalPostDeps, 'registry' | 'sender'>, recipients: unknown[]): Promise<{ recipient: string; outcome: ReachabilityOutcome }[]> {
  const errors: FieldError[] = [];
  const ids: RecipientId[] = [];
  recipients.forEach((r, i) => {
    const p = parseRecipient(r, undefined, `/body/recipients/${i}`);
    if (p.ok) ids.push(p.recipient as RecipientId);
    else errors.push(...p.errors);
  });
  if (errors.length > 0) throw validationError(errors.slice(0, 100));
  let answers: Map<RecipientId, ReachabilityOutcome>;
  try {
    answers = await deps.registry.isReachable(ids, deps.sender.organisationNumber);
  } catch (err) {
    const d = classifyLookupFailure(err);
    throw new AppError(d.reason === 'FAR_SENDER_REJECTED' ? 'FAR_SENDER_REJECTED' : 'FAR_UNAVAILABLE', 'The recipient registry (FaR) could not be asked.', { status: 502, retryable: true, cause: err });
  }
  return ids.map((id) => {
    const outcome = answers.get(id);
    if (!outcome) throw new AppError('FAR_PROTOCOL', 'FaR gave no outcome for a recipient', { status: 502 });
    return { recipient: id, outcome };
  });
}

// ---------------------------------------------------------------------------------------------------
// Jobs
// ---------------------------------------------------------------------------------------------------

/**
 * After a lookup: digital when reachable, otherwise paper (or a named failure). Returns outbox ids to enqueue.
 * The letter row (paper permission, postal address) is read only for the paper path: a reachable letter needs
 * only its id, and a batch routes thousands of letters in one transaction (bench:digital-post).
 */
function lookupRecord(outcome: ReachabilityOutcome) {
  return { lookedUpAt: outcome.record.lookedUpAt.toISOString(), accountType: outcome.record.accountType, pending: outcome.record.pending, senderAccepted: outcome.record.senderAccepted };
}

async function routeAfterLookup(tx: UnitOfWork, letterId: string, outcome: ReachabilityOutcome): Promise<string | undefined> {
  const record = lookupRecord(outcome);
  if (outcome.reachable) {
    await tx.letters.setTarget(letterId, { operatorId: outcome.operator.id, operatorName: outcome.operator.name, serviceAddress: outcome.operator.serviceAddress });
    await tx.transition(letterId, 'SENDING', { channel: 'digital', reason: 'REACHABLE', details: { operator: outcome.operator.id, lookup: record } });
    return tx.insertOutbox(JOB_DELIVER, letterId);
  }
  const letter = await tx.letters.get(letterId);
  if (!letter) throw new AppError('FAR_PROTOCOL', 'no outcome for a letter', { retryable: true });
  return toPaper(tx, letter, outcome.reason, { lookup: record });
}

/** Divert to paper with a named reason, or fail with one (no postal address, or the caller forbade paper). */
async function toPaper(tx: UnitOfWork, letter: LetterRecord, reason: string, details: Record<string, unknown>): Promise<string | undefined> {
  if (!letter.paperAllowed) {
    await tx.transition(letter.id, 'FAILED', { reason: 'DIGITAL_ONLY_NOT_REACHABLE', details: { ...details, digitalReason: reason } });
    return undefined;
  }
  if (!letter.postalAddress) {
    await tx.transition(letter.id, 'FAILED', { reason: 'NO_POSTAL_ADDRESS', details: { ...details, digitalReason: reason } });
    return undefined;
  }
  await tx.transition(letter.id, 'PAPER_QUEUED', { channel: 'paper', reason, details, data: { paperReason: reason } });
  return tx.insertOutbox(JOB_PRINT, letter.id);
}

const isOpenForLookup = (d: DeliveryRow | undefined) => d !== undefined && (d.status === 'RECEIVED' || (d.status === 'RETRY_WAIT' && d.channel === null));

function lookupRetry(cause: unknown): AppError {
  return new AppError('FAR_UNAVAILABLE', 'FaR lookup failed; will retry', { status: 502, retryable: true, cause });
}

/** Look up the letters (ids) in FaR and route each one. Shared by the single and the batch lookup jobs. */
async function lookupAndRoute(deps: DigitalPostDeps, letterIds: string[], recipients: Map<string, string>, complete: (tx: UnitOfWork) => Promise<void>, correlationId: string | undefined): Promise<void> {
  const ids = [...new Set(recipients.values())] as RecipientId[];
  let answers: Map<RecipientId, ReachabilityOutcome>;
  try {
    answers = await deps.registry.isReachable(ids, deps.sender.organisationNumber);
  } catch (err) {
    const d = classifyLookupFailure(err);
    if (d.kind === 'retry') {
      await deps.store.transaction(async (tx) => {
        for (const id of letterIds) {
          const cur = await tx.getDelivery(id, { forUpdate: true });
          if (cur?.status === 'RECEIVED') await tx.transition(id, 'RETRY_WAIT', { reason: 'FAR_UNAVAILABLE' });
        }
      });
      throw lookupRetry(err);
    }
    // The sender itself is refused: hold the letters (never report them reachable or unreachable) and alert.
    await deps.store.transaction(async (tx) => {
      for (const id of letterIds) {
        const cur = await tx.getDelivery(id, { forUpdate: true });
        if (isOpenForLookup(cur)) await tx.transition(id, 'HELD', { reason: d.reason, details: { faultCode: d.faultCode } });
      }
      await tx.audit({ type: 'FAR_SENDER_REJECTED', actor: 'system', outcome: 'failure', details: { faultCode: d.faultCode, letters: letterIds.length } });
      await complete(tx);
    });
    return;
  }
  const toEnqueue: string[] = [];
  await deps.store.transaction(async (tx) => {
    // One read for the whole batch; the rows stay locked until the routing commits.
    const current = await tx.getDeliveries(letterIds, { forUpdate: true });
    const reachable: { id: string; operator: Extract<ReachabilityOutcome, { reachable: true }>['operator']; record: ReturnType<typeof lookupRecord> }[] = [];
    for (const id of letterIds) {
      if (!isOpenForLookup(current.get(id))) continue; // already routed by an earlier attempt
      // `recipients` was read from the letter rows for this lookup; a letter's recipient never changes.
      const recipient = recipients.get(id);
      const outcome = recipient !== undefined ? answers.get(recipient as RecipientId) : undefined;
      if (!outcome) throw new AppError('FAR_PROTOCOL', 'no outcome for a letter', { retryable: true });
      if (outcome.reachable) {
        reachable.push({ id, operator: outcome.operator, record: lookupRecord(outcome) });
        continue;
      }
      const next = await routeAfterLookup(tx, id, outcome);
      if (next) toEnqueue.push(next);
    }
    // Reachable letters (the bulk of a mass mailing) are routed set-based: a few statements per batch,
    // not several per letter (bench:digital-post).
    if (reachable.length > 0) {
      await tx.letters.setTargets(reachable.map((r) => ({ id: r.id, operatorId: r.operator.id, operatorName: r.operator.name, serviceAddress: r.operator.serviceAddress })));
      const moved = await tx.transitionMany(
        reachable.map((r) => ({ id: r.id, channel: 'digital', reason: 'REACHABLE', details: { operator: r.operator.id, lookup: r.record } })),
        ['RECEIVED', 'RETRY_WAIT'], 'SENDING');
      if (moved.length !== reachable.length) throw new AppError('ILLEGAL_TRANSITION', 'a locked letter changed status while it was routed');
      toEnqueue.push(...await tx.insertOutboxMany(JOB_DELIVER, reachable.map((r) => r.id)));
    }
    await complete(tx);
  });
  await enqueueAll(deps.queue, toEnqueue, correlationId);
}

export function lookupHandler(deps: DigitalPostDeps): JobHandler {
  return {
    async handle(ctx) {
      const letter = await deps.letters.get(ctx.refId);
      const d = await deps.store.getDelivery(ctx.refId);
      if (!letter || !isOpenForLookup(d)) return;
      await lookupAndRoute(deps, [letter.id], new Map([[letter.id, letter.recipient]]), (tx) => tx.completeOutbox(ctx.outboxId), ctx.correlationId);
    },
    onDead: (ctx, err) => holdOnDead(deps, [ctx.refId], err),
  };
}

export function batchLookupHandler(deps: DigitalPostDeps): JobHandler {
  return {
    async handle(ctx) {
      const pending = await deps.letters.batchPending(ctx.refId, ['RECEIVED', 'RETRY_WAIT']);
      if (pending.length === 0) return;
      await lookupAndRoute(deps, pending.map((p) => p.id), new Map(pending.map((p) => [p.id, p.recipient])), (tx) => tx.completeOutbox(ctx.outboxId), ctx.correlationId);
    },
    async onDead(ctx, err) {
      const pending = await deps.letters.batchPending(ctx.refId, ['RECEIVED', 'RETRY_WAIT']);
      await holdOnDead(deps, pending.map((p) => p.id), err);
    },
  };
}

/** Every lookup attempt failed: the letters are held for a person, never printed on a guess. */
async function holdOnDead(deps: DigitalPostDeps, ids: string[], err: AppError): Promise<void> {
  await deps.store.transaction(async (tx) => {
    for (const id of ids) {
      const cur = await tx.getDelivery(id, { forUpdate: true });
      if (cur && isOpenForLookup(cur)) await tx.transition(id, 'HELD', { reason: 'FAR_UNAVAILABLE', details: { code: err.code } });
    }
  });
}

function letterForDelivery(l: LetterRecord, deps: DigitalPostDeps): LetterForDelivery {
  // A PDF body travels as an attachment with a short text body: the message itself must carry a message (§6.4).
  const pdfBody = l.bodyType === 'application/pdf';
  return {
    deliveryId: l.id,
    sender: { organisationNumber: deps.sender.organisationNumber, name: l.senderName },
    recipient: l.recipient as RecipientId,
    subject: l.subject,
    supportInfo: l.supportInfo,
    body: pdfBody ? { contentType: 'text/plain', content: Buffer.from(`${l.subject}\n\nBrevet finns i den bifogade PDF-filen.`, 'utf8') } : { contentType: l.bodyType as 'text/plain' | 'text/html', content: l.body },
    attachments: [...(pdfBody ? [{ contentType: 'application/pdf', filename: 'brev.pdf', content: l.body }] : []), ...l.attachments],
    receivedAt: l.receivedAt,
    reference: l.reference,
    language: l.language,
  };
}

/** Thrown to make the queue retry; the code says what happens when the retry budget is used up. */
function deliveryRetry(decision: Extract<DeliveryDecision, { kind: 'retry' }>, cause: unknown): AppError {
  return new AppError(decision.whenExhausted === 'hold' ? 'OUTCOME_UNKNOWN' : 'OPERATOR_UNAVAILABLE', 'delivery attempt failed; will retry', { status: 502, retryable: true, cause });
}

export function deliverHandler(deps: DigitalPostDeps): JobHandler {
  return {
    async handle(ctx) {
      const d = await deps.store.getDelivery(ctx.refId);
      if (!d || !(d.status === 'SENDING' || (d.status === 'RETRY_WAIT' && d.channel === 'digital'))) return;
      const letter = await deps.letters.get(ctx.refId);
      if (!letter || letter.serviceAddress === null || letter.operatorId === null) throw new AppError('LETTER_INCOMPLETE', 'letter has no delivery target');
      // Sign once and store the bytes: every retry resends exactly them (§6.6 rule 7).
      let prepared = letter.preparedRequest !== null && letter.requestSha256 !== null
        ? { deliveryId: letter.id, recipient: letter.recipient as RecipientId, soapRequest: letter.preparedRequest, requestSha256: letter.requestSha256, receivedDate: '' }
        : undefined;
      if (!prepared) {
        prepared = await deps.mailbox.prepare(letterForDelivery(letter, deps));
        const p = prepared;
        await deps.letters.setPrepared(ctx.refId, { request: p.soapRequest, sha256: p.requestSha256 });
      }
      let decision: DeliveryDecision;
      let receipt: DeliveryReceipt | undefined;
      let cause: unknown;
      try {
        receipt = await deps.mailbox.send(prepared, { serviceAddress: letter.serviceAddress, operator: { id: letter.operatorId, name: letter.operatorName ?? letter.operatorId } });
        decision = classifyDeliveryResult(receipt.delivered);
      } catch (err) {
        cause = err;
        decision = classifyDeliveryFailure(err);
      }
      // 5003 (no such mailbox at this operator): one fresh lookup; deliver at the new operator if there is one.
      if (decision.kind === 'paper' && decision.relookupFirst) {
        deps.registry.invalidate(deps.sender.organisationNumber, letter.recipient as RecipientId);
        const fresh = (await deps.registry.isReachable([letter.recipient as RecipientId], deps.sender.organisationNumber, { bypassCache: true })).get(letter.recipient as RecipientId);
        if (fresh?.reachable && fresh.operator.id !== letter.operatorId) {
          const target = fresh.operator;
          await deps.store.transaction(async (tx) => {
            await tx.letters.setTarget(ctx.refId, { operatorId: target.id, operatorName: target.name, serviceAddress: target.serviceAddress });
            await tx.transition(ctx.refId, 'RETRY_WAIT', { reason: 'REACHABLE', details: { operator: target.id, previousOperatorFault: decision.faultCode } });
          });
          throw new AppError('OPERATOR_CHANGED', 'recipient moved to another operator; delivering there', { retryable: true });
        }
      } else if (decision.kind === 'paper' && decision.invalidateLookup) {
        deps.registry.invalidate(deps.sender.organisationNumber, letter.recipient as RecipientId);
      }
      const finalDecision = decision;
      if (finalDecision.kind === 'retry') {
        await deps.store.transaction(async (tx) => {
          const cur = await tx.getDelivery(ctx.refId, { forUpdate: true });
          if (cur?.status === 'SENDING') await tx.transition(ctx.refId, 'RETRY_WAIT', { reason: finalDecision.reason, details: { faultCode: finalDecision.faultCode } });
        });
        throw deliveryRetry(finalDecision, cause);
      }
      // Paper and hold need the letter as it is now; a delivered letter needs nothing more from its row.
      let l: LetterRecord = letter;
      if (finalDecision.kind !== 'delivered') {
        const fresh = await deps.letters.get(ctx.refId);
        if (!fresh) return;
        l = fresh;
      }
      const next = await deps.store.transaction(async (tx) => {
        if (finalDecision.kind === 'delivered' && receipt) {
          // The common path in one conditional statement: a letter another attempt already finished stays as it is.
          const moved = await tx.transitionIf(ctx.refId, ['SENDING', 'RETRY_WAIT'], 'DELIVERED', { reason: 'DELIVERED', details: { operator: receipt.operatorId, transId: receipt.transId } });
          if (moved) {
            await tx.addReceipt(ctx.refId, {
              kind: 'operator-receipt', externalId: receipt.transId, raw: Buffer.from(receipt.rawResponse, 'utf8'),
              data: { operatorId: receipt.operatorId, delivered: receipt.delivered, requestSha256: receipt.requestSha256, answeredAt: receipt.answeredAt.toISOString() },
            });
          }
          await tx.completeOutbox(ctx.outboxId);
          return undefined;
        }
        const cur = await tx.getDelivery(ctx.refId, { forUpdate: true });
        if (!cur || (cur.status !== 'SENDING' && cur.status !== 'RETRY_WAIT')) { await tx.completeOutbox(ctx.outboxId); return undefined; }
        let out: string | undefined;
        if (finalDecision.kind === 'paper') {
          if (receipt) await tx.addReceipt(ctx.refId, { kind: 'operator-receipt', externalId: receipt.transId, raw: Buffer.from(receipt.rawResponse, 'utf8'), data: { operatorId: receipt.operatorId, delivered: false } });
          out = await toPaper(tx, l, finalDecision.reason, { faultCode: finalDecision.faultCode, operator: l.operatorId });
          if (finalDecision.alert) await tx.audit({ type: 'OPERATOR_REJECTED_SYSTEMIC', actor: 'system', subject: ctx.refId, outcome: 'failure', details: { operator: l.operatorId, faultCode: finalDecision.faultCode } });
        } else if (finalDecision.kind === 'hold') {
          await tx.transition(ctx.refId, 'HELD', { reason: finalDecision.reason, details: { faultCode: finalDecision.faultCode, operator: l.operatorId } });
          await tx.audit({ type: 'LETTER_HELD', actor: 'system', subject: ctx.refId, outcome: 'failure', details: { reason: finalDecision.reason, faultCode: finalDecision.faultCode } });
        }
        await tx.completeOutbox(ctx.outboxId);
        return out;
      });
      if (next) await enqueueAll(deps.queue, [next], ctx.correlationId);
    },
    async onDead(ctx, err) {
      // Retry budget used: paper when the request never reached the operator; held while the outcome is
      // unknown — never print a letter that may already be in the citizen's mailbox (§6.7).
      const next = await deps.store.transaction(async (tx) => {
        const cur = await tx.getDelivery(ctx.refId, { forUpdate: true });
        const letter = await tx.letters.get(ctx.refId);
        if (!cur || !letter || !(cur.status === 'SENDING' || cur.status === 'RETRY_WAIT')) return undefined;
        if (err.code === 'OPERATOR_UNAVAILABLE') return toPaper(tx, letter, 'OPERATOR_UNAVAILABLE', { operator: letter.operatorId });
        await tx.transition(ctx.refId, 'HELD', { reason: err.code === 'OUTCOME_UNKNOWN' ? 'OUTCOME_UNKNOWN' : 'OPERATOR_UNAVAILABLE', details: { code: err.code } });
        return undefined;
      });
      if (next) await enqueueAll(deps.queue, [next], ctx.correlationId);
    },
  };
}

export function printHandler(deps: DigitalPostDeps): JobHandler {
  return {
    async handle(ctx) {
      const d = await deps.store.getDelivery(ctx.refId);
      if (!d || d.status !== 'PAPER_QUEUED') return;
      const letter = await deps.letters.get(ctx.refId);
      if (!letter?.postalAddress) throw new AppError('LETTER_INCOMPLETE', 'letter has no postal address');
      const pdf = await deps.renderer.toPdf({ subject: letter.subject, bodyType: letter.bodyType, body: letter.body, senderName: letter.senderName });
      try {
        const c = await deps.print.submit({ letterId: letter.id, pdf, envelope: 'PLAIN' }, letter.postalAddress);
        await deps.store.transaction(async (tx) => {
          await tx.addReceipt(ctx.refId, { kind: 'print-confirmation', externalId: c.jobId, data: { status: c.status, duplicate: c.duplicate } });
          // The reason stays the one that sent the letter to paper; the event records the provider's acceptance.
          await tx.transition(ctx.refId, 'PRINTED', { details: { jobId: c.jobId, outcome: 'PRINT_ACCEPTED' } });
          await tx.completeOutbox(ctx.outboxId);
        });
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code === 'PRINT_REJECTED') {
          const reason = (err as { details?: { reason?: string } }).details?.reason;
          await deps.store.transaction(async (tx) => {
            await tx.transition(ctx.refId, 'FAILED', { reason: 'PRINT_REJECTED', details: { providerReason: reason } });
            await tx.audit({ type: 'PRINT_REJECTED', actor: 'system', subject: ctx.refId, outcome: 'failure', details: { providerReason: reason } });
            await tx.completeOutbox(ctx.outboxId);
          });
          return;
        }
        throw err;
      }
    },
    async onDead(ctx, err) {
      await deps.store.transaction(async (tx) => {
        const cur = await tx.getDelivery(ctx.refId, { forUpdate: true });
        if (cur?.status === 'PAPER_QUEUED') await tx.transition(ctx.refId, 'HELD', { reason: 'PRINT_UNAVAILABLE', details: { code: err.code } });
      });
    },
  };
}

export function digitalPostHandlers(deps: DigitalPostDeps): Record<string, JobHandler> {
  return { [JOB_LOOKUP]: lookupHandler(deps), [JOB_BATCH_LOOKUP]: batchLookupHandler(deps), [JOB_DELIVER]: deliverHandler(deps), [JOB_PRINT]: printHandler(deps) };
}
