// Deliveries (one row per letter / SDK message / signing request) with their status history and receipts
// (issue 3 §3). Status changes go through transition(), which enforces the documented transition table.
import { randomUUID } from 'node:crypto';
import { AppError, conflict } from '../domain/errors.js';
import { canTransition, isDeliveryStatus, type DeliveryStatus } from '../domain/delivery-status.js';
import type { Queryable } from '../ports/queryable.port.js';
import type { DeliveryEvent, DeliveryRow, DeliveryStore, NewDelivery, ReceiptRow, TransitionOptions } from '../ports/delivery-store.port.js';
import type pg from 'pg';
import { withTransaction } from './database.js';
import { insertOutbox, markOutboxDone } from './outbox.repository.js';
import { recordAudit } from './audit-sql.js';
import { letterTx } from './letter.repository.js';

interface Raw {
  id: string; kind: string; status: string; channel: string | null; reason: string | null; owner: string; idempotency_key: string | null;
  correlation_id: string | null; data: unknown; created_at: Date; updated_at: Date; request_hash?: string | null;
}

// Rows read back are input too (style.md: database output is parsed): an unknown status is an error, not a cast.
function toDelivery(r: Raw): DeliveryRow {
  if (!isDeliveryStatus(r.status)) throw new AppError('CORRUPT_ROW', `delivery ${r.id} has unknown status`);
  return {
    id: r.id, kind: r.kind, status: r.status, channel: r.channel, reason: r.reason, owner: r.owner, idempotencyKey: r.idempotency_key,
    correlationId: r.correlation_id, data: (typeof r.data === 'object' && r.data !== null ? r.data : {}) as Record<string, unknown>,
    createdAt: r.created_at, updatedAt: r.updated_at,
  };
}

const COLS = 'id, kind, status, channel, reason, owner, idempotency_key, correlation_id, data, created_at, updated_at';

export { requestHash } from '../domain/request-hash.js';

/**
 * Insert a delivery in RECEIVED (inside the caller's transaction), or return the existing one for the same
 * owner + Idempotency-Key. The same key with a different request body is a 409 (style.md convention 9).
 */
export async function insertDelivery(db: Queryable, d: NewDelivery): Promise<{ delivery: DeliveryRow; created: boolean }> {
  const id = randomUUID();
  const { rows } = await db.query<Raw>(
    `INSERT INTO deliveries (id, kind, status, channel, owner, idempotency_key, request_hash, correlation_id, data)
     VALUES ($1, $2, 'RECEIVED', $3, $4, $5, $6, $7, $8)
     ON CONFLICT (owner, kind, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
     RETURNING ${COLS}`,
    [id, d.kind, d.channel ?? null, d.owner, d.idempotencyKey ?? null, d.requestHash ?? null, d.correlationId ?? null, JSON.stringify(d.data ?? {})]);
  const inserted = rows[0];
  if (inserted) {
    await db.query("INSERT INTO delivery_events (delivery_id, status) VALUES ($1, 'RECEIVED')", [id]);
    return { delivery: toDelivery(inserted), created: true };
  }
  const existing = await db.query<Raw>(`SELECT ${COLS}, request_hash FROM deliveries WHERE owner = $1 AND kind = $2 AND idempotency_key = $3`,
    [d.owner, d.kind, d.idempotencyKey ?? null]);
  const row = existing.rows[0];
  if (!row) throw new AppError('IDEMPOTENCY_RACE', 'idempotent insert found no row', { retryable: true });
  if (row.request_hash !== (d.requestHash ?? null)) {
    throw conflict('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different request body.');
  }
  return { delivery: toDelivery(row), created: false };
}

export async function getDelivery(db: Queryable, id: string, opts: { forUpdate?: boolean } = {}): Promise<DeliveryRow | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
  const { rows } = await db.query<Raw>(`SELECT ${COLS} FROM deliveries WHERE id = $1${opts.forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0] ? toDelivery(rows[0]) : undefined;
}

/** Move a delivery to `to`, recording the event. Refuses transitions the table does not allow. */
export async function transition(db: Queryable, id: string, to: DeliveryStatus, opts: TransitionOptions = {}): Promise<DeliveryRow> {
  const current = await getDelivery(db, id, { forUpdate: true });
  if (!current) throw new AppError('NOT_FOUND', `delivery ${id} not found`, { status: 404 });
  if (!canTransition(current.status, to)) {
    throw new AppError('ILLEGAL_TRANSITION', `delivery cannot go from ${current.status} to ${to}`);
  }
  const { rows } = await db.query<Raw>(
    `UPDATE deliveries SET status = $2, reason = COALESCE($3, reason), channel = COALESCE($4, channel), data = data || $5::jsonb, updated_at = now()
      WHERE id = $1 RETURNING ${COLS}`,
    [id, to, opts.reason ?? null, opts.channel ?? null, JSON.stringify(opts.data ?? {})]);
  await db.query('INSERT INTO delivery_events (delivery_id, status, reason, details) VALUES ($1, $2, $3, $4)',
    [id, to, opts.reason ?? null, JSON.stringify(opts.details ?? {})]);
  const row = rows[0];
  if (!row) throw new AppError('NOT_FOUND', `delivery ${id} not found`, { status: 404 });
  return toDelivery(row);
}

export async function listEvents(db: Queryable, id: string): Promise<DeliveryEvent[]> {
  const { rows } = await db.query<{ status: string; reason: string | null; details: Record<string, unknown>; at: Date }>(
    'SELECT status, reason, details, at FROM delivery_events WHERE delivery_id = $1 ORDER BY id', [id]);
  return rows.map((r) => ({ status: isDeliveryStatus(r.status) ? r.status : 'FAILED', reason: r.reason, details: r.details, at: r.at }));
}

/** Store a receipt once (the unique key makes a re-delivered receipt a no-op). */
export async function addReceipt(db: Queryable, deliveryId: string, r: { kind: string; externalId?: string; data?: Record<string, unknown>; raw?: Buffer }): Promise<void> {
  await db.query(
    `INSERT INTO receipts (delivery_id, kind, external_id, data, raw) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (delivery_id, kind, external_id) DO NOTHING`,
    [deliveryId, r.kind, r.externalId ?? null, JSON.stringify(r.data ?? {}), r.raw ?? null]);
}

export async function listReceipts(db: Queryable, deliveryId: string): Promise<ReceiptRow[]> {
  const { rows } = await db.query<{ kind: string; external_id: string | null; data: Record<string, unknown>; received_at: Date }>(
    'SELECT kind, external_id, data, received_at FROM receipts WHERE delivery_id = $1 ORDER BY id', [deliveryId]);
  return rows.map((r) => ({ kind: r.kind, externalId: r.external_id, data: r.data, receivedAt: r.received_at }));
}

/** The PostgreSQL DeliveryStore (src/ports/delivery-store.port.ts). */
export function createDeliveryStore(pool: pg.Pool): DeliveryStore {
  return {
    transaction: (fn) => withTransaction(pool, (tx) => fn({
      insertDelivery: (d) => insertDelivery(tx, d),
      getDelivery: (id, o) => getDelivery(tx, id, o),
      transition: (id, to, o) => transition(tx, id, to, o),
      addReceipt: (id, r) => addReceipt(tx, id, r),
      insertOutbox: (kind, refId, corr) => insertOutbox(tx, kind, refId, corr),
      completeOutbox: (id) => markOutboxDone(tx, id),
      audit: (e) => recordAudit(tx, e),
      letters: letterTx(tx),
    })),
    getDelivery: (id) => getDelivery(pool, id),
    listEvents: (id) => listEvents(pool, id),
    listReceipts: (id) => listReceipts(pool, id),
  };
}
