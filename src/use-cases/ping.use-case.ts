// A trivial internal delivery kind ("ping") that exercises the whole outbox path — store, enqueue, claim,
// handle, complete — without any external system (issue 3 "Must show": outbox recovery). Operators can use it
// as an end-to-end smoke test of a deployment's database and queue.
import type { QueuePort } from '../ports/queue.port.js';
import type { DeliveryRow, DeliveryStore } from '../ports/delivery-store.port.js';
import type { JobHandler } from '../ports/job-handler.port.js';
import { requestHash } from '../domain/request-hash.js';

export const PING_KIND = 'ping';
export const PING_JOB = 'ping.deliver';

export interface SubmitPing { owner: string; idempotencyKey?: string; correlationId?: string; note?: string }

/** Store a ping and its outbox row in one transaction, then enqueue (a failed enqueue is healed by the reconciler). */
export async function submitPing(deps: { store: DeliveryStore; queue?: QueuePort }, req: SubmitPing): Promise<DeliveryRow> {
  const { delivery, outboxId } = await deps.store.transaction(async (tx) => {
    const r = await tx.insertDelivery({
      kind: PING_KIND, owner: req.owner, idempotencyKey: req.idempotencyKey, requestHash: requestHash({ note: req.note ?? null }),
      correlationId: req.correlationId, data: { note: req.note ?? null },
    });
    const ob = r.created ? await tx.insertOutbox(PING_JOB, r.delivery.id, req.correlationId) : undefined;
    return { delivery: r.delivery, outboxId: ob };
  });
  if (outboxId !== undefined && deps.queue) {
    await deps.queue.enqueue({ outboxId, correlationId: req.correlationId }).catch(() => undefined);
  }
  return delivery;
}

/** Marks the ping DELIVERED and completes the outbox row in the same transaction: exactly once, even after a crash. */
export function pingHandler(deps: { store: DeliveryStore }, opts: { delayMs?: number } = {}): JobHandler {
  return {
    async handle(ctx) {
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      await deps.store.transaction(async (tx) => {
        const d = await tx.getDelivery(ctx.refId, { forUpdate: true });
        if (d && d.status === 'RECEIVED') await tx.transition(ctx.refId, 'DELIVERED', { channel: 'internal', details: { attempt: ctx.attempt } });
        await tx.completeOutbox(ctx.outboxId);
      });
    },
  };
}
