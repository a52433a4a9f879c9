// Diagnostics API: an internal ping through outbox and queue (see src/use-cases/ping.use-case.ts).
import { Router, type RequestHandler } from 'express';
import { notFound, validationError } from '../domain/errors.js';
import type { DeliveryStore } from '../ports/delivery-store.port.js';
import type { QueuePort } from '../ports/queue.port.js';
import { PING_KIND, submitPing } from '../use-cases/ping.use-case.js';
import { ownerOf } from './principal.js';

export function createDiagnosticsRouter(deps: { store: DeliveryStore; queue: QueuePort; guard: RequestHandler[] }): Router {
  const r = Router();
  r.post('/pings', ...deps.guard, async (req, res) => {
    const key = req.get('idempotency-key');
    if (key === undefined) throw validationError([{ field: '/header/idempotency-key', message: 'required' }]);
    const body = req.body as { note?: string };
    const d = await submitPing(deps, { owner: ownerOf(res), idempotencyKey: key, note: body.note, correlationId: String(res.locals.correlationId) });
    const events = await deps.store.listEvents(d.id);
    res.status(202).location(`/v1/diagnostics/pings/${d.id}`).json({ id: d.id, status: d.status, createdAt: d.createdAt.toISOString(), events: events.map((e) => ({ status: e.status, at: e.at.toISOString() })) });
  });
  r.get('/pings/:id', ...deps.guard, async (req, res) => {
    const d = await deps.store.getDelivery(String(req.params.id));
    // Another owner's ping is reported as missing, not forbidden: ids of other callers are not confirmed.
    if (!d || d.kind !== PING_KIND || d.owner !== ownerOf(res)) throw notFound('The ping');
    const events = await deps.store.listEvents(d.id);
    res.json({ id: d.id, status: d.status, createdAt: d.createdAt.toISOString(), events: events.map((e) => ({ status: e.status, at: e.at.toISOString() })) });
  });
  return r;
}
