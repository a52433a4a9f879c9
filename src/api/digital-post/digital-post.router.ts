// REST API for digital post (issue 5; contracts/api/parts/digital-post.yaml).
import { Router } from 'express';
import { notFound, validationError } from '../../domain/errors.js';
import { principalId } from '../../domain/principal.js';
import type { DeliveryRow, DeliveryStore } from '../../ports/delivery-store.port.js';
import type { LetterStore } from '../../ports/letter-store.port.js';
import { checkReachability, LETTER_KIND, submitBatch, submitLetter, type DigitalPostDeps } from '../../use-cases/digital-post/send-letter.use-case.js';
import { principalOf } from '../principal.js';
import { scopeOrRole, type GuardSource } from '../guards.js';

const SEND = 'urn:sandebud:digital-post:send';
const READ = 'urn:sandebud:digital-post:read';

/** Mask all but the birth date of a recipient id in API answers about batches (the caller sent it; no need to echo it whole). */
const maskRecipient = (r: string) => `${r.slice(0, 8)}****`;

export function createDigitalPostRouter(deps: DigitalPostDeps & { auth: GuardSource; letters: LetterStore; store: DeliveryStore }): Router {
  const r = Router();
  const send = scopeOrRole(deps.auth, SEND, ['caseworker', 'admin']);
  const read = scopeOrRole(deps.auth, READ, ['caseworker', 'admin', 'auditor']);

  // The owner sees its letters; auditors and admins see all. Anyone else gets 404, never a hint that the id exists.
  const canSee = (res: Parameters<Parameters<typeof r.get>[1]>[1], owner: string) => {
    const p = principalOf(res);
    return principalId(p) === owner || (p.kind === 'person' && (p.roles.includes('auditor') || p.roles.includes('admin')));
  };

  r.post('/letters', ...send, async (req, res) => {
    const key = req.get('idempotency-key');
    if (key === undefined) throw validationError([{ field: '/headers/idempotency-key', message: 'required' }]);
    const { delivery, created } = await submitLetter(deps, principalId(principalOf(res)), key, req.body as object, String(res.locals.correlationId));
    res.status(created ? 202 : 200).location(`/v1/digital-post/letters/${delivery.id}`)
      .json({ id: delivery.id, status: delivery.status, statusUrl: `/v1/digital-post/letters/${delivery.id}` });
  });

  r.post('/batches', ...send, async (req, res) => {
    const key = req.get('idempotency-key');
    if (key === undefined) throw validationError([{ field: '/headers/idempotency-key', message: 'required' }]);
    const b = await submitBatch(deps, principalId(principalOf(res)), key, req.body as object, String(res.locals.correlationId));
    res.status(b.created ? 202 : 200).location(`/v1/digital-post/batches/${b.batchId}`).json({ id: b.batchId, size: b.size, statusUrl: `/v1/digital-post/batches/${b.batchId}` });
  });

  r.get('/batches/:id', ...read, async (req, res) => {
    const owner = await deps.letters.batchOwner(String(req.params.id));
    if (owner === undefined || !canSee(res, owner)) throw notFound('The batch');
    const letters = await deps.letters.batchLetters(String(req.params.id));
    const counts: Record<string, number> = {};
    for (const l of letters) counts[l.status] = (counts[l.status] ?? 0) + 1;
    res.json({
      id: req.params.id, size: letters.length, counts,
      letters: letters.map((l) => ({ index: l.index, id: l.id, recipient: maskRecipient(l.recipient), status: l.status, channel: l.channel, reason: l.reason })),
    });
  });

  r.post('/reachability', ...read, async (req, res) => {
    const body = req.body as { recipients: unknown[] };
    const results = await checkReachability(deps, body.recipients);
    res.json(results.map(({ recipient, outcome }) => ({
      recipient, reachable: outcome.reachable, reason: outcome.reason, operator: outcome.operator ? outcome.operator.name : null,
      operatorId: outcome.operator ? outcome.operator.id : null,
    })));
  });

  r.get('/letters/:id', ...read, async (req, res) => {
    const d = await deps.store.getDelivery(String(req.params.id));
    if (!d || d.kind !== LETTER_KIND || !canSee(res, d.owner)) throw notFound('The letter');
    res.json(await letterView(deps, d));
  });
  return r;
}

async function letterView(deps: { store: DeliveryStore; letters: LetterStore }, d: DeliveryRow): Promise<Record<string, unknown>> {
  const [letter, events, receipts] = await Promise.all([deps.letters.get(d.id), deps.store.listEvents(d.id), deps.store.listReceipts(d.id)]);
  return {
    id: d.id,
    status: d.status,
    channel: d.channel,
    reason: d.reason,
    // Only set when the letter left the digital channel: why it went to paper (or failed).
    paperReason: typeof d.data.paperReason === 'string' ? d.data.paperReason : d.status === 'FAILED' ? d.reason : null,
    operator: letter?.operatorId ? { id: letter.operatorId, name: letter.operatorName } : null,
    batchId: letter?.batchId ?? null,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
    events: events.map((e) => ({ status: e.status, reason: e.reason, at: e.at.toISOString() })),
    receipts: receipts.map((x) => ({ kind: x.kind, id: x.externalId, receivedAt: x.receivedAt.toISOString(), ...pickReceipt(x.data) })),
  };
}

function pickReceipt(data: Record<string, unknown>): Record<string, unknown> {
  // Allow-listed receipt fields (style.md: responses never expose a new field by default).
  const out: Record<string, unknown> = {};
  for (const k of ['operatorId', 'delivered', 'requestSha256', 'answeredAt', 'status', 'duplicate']) if (k in data) out[k] = data[k];
  return out;
}
