// Deliveries (one row per letter / SDK message / signing request) with their status history and receipts
// (issue 3 §3). Status changes go through transition(), which enforces the documented transition table.
import { randomUUID } from 'node:crypto';
import { AppError, conflict } from '../domain/errors.js';
import { canTransition, isDeliveryStatus, TRANSITIONS, type DeliveryStatus } from '../domain/delivery-status.js';
import type { Queryable } from '../ports/queryable.port.js';
import type { DeliveryEvent, DeliveryRow, DeliveryStore, NewDelivery, ReceiptRow, TransitionOptions } from '../ports/delivery-store.port.js';
import type pg from 'pg';
import { withTransaction } from './database.js';
import { insertOutbox, insertOutboxMany, markOutboxDone } from './outbox.repository.js';
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

const UUID = /^[0-9a-f-]{36}$/i;

export async function getDelivery(db: Queryable, id: string, opts: { forUpdate?: boolean } = {}): Promise<DeliveryRow | undefined> {
  if (!UUID.test(id)) return undefined;
  const { rows } = await db.query<Raw>(`SELECT ${COLS} FROM deliveries WHERE id = $1${opts.forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0] ? toDelivery(rows[0]) : undefined;
}

export async function getDeliveries(db: Queryable, ids: readonly string[], opts: { forUpdate?: boolean } = {}): Promise<Map<string, DeliveryRow>> {
  const valid = ids.filter((id) => UUID.test(id));
  const out = new Map<string, DeliveryRow>();
  if (valid.length === 0) return out;
  // ORDER BY id: concurrent batch transactions lock rows in the same order, so they cannot deadlock each other.
  const { rows } = await db.query<Raw>(`SELECT ${COLS} FROM deliveries WHERE id = ANY($1::uuid[]) ORDER BY id${opts.forUpdate ? ' FOR UPDATE' : ''}`, [valid]);
  for (const r of rows) out.set(r.id, toDelivery(r));
  return out;
}

/** The statuses from which the transition table allows `to`, narrowed to `from` when given. */
function allowedFrom(to: DeliveryStatus, from?: readonly DeliveryStatus[]): DeliveryStatus[] {
  return (from ?? (Object.keys(TRANSITIONS) as DeliveryStatus[])).filter((s) => canTransition(s, to));
}

/**
 * Move a delivery to `to` when it is in one of `from` (and the transition table allows it), recording the
 * event — one statement: the UPDATE takes the row lock and re-checks the status under it (READ COMMITTED
 * re-evaluates the WHERE on the newest row version), and the event is inserted from the updated row.
 */
export async function transitionIf(db: Queryable, id: string, from: readonly DeliveryStatus[] | undefined, to: DeliveryStatus, opts: TransitionOptions = {}): Promise<DeliveryRow | undefined> {
  if (!UUID.test(id)) return undefined;
  const allowed = allowedFrom(to, from);
  if (allowed.length === 0) return undefined;
  const { rows } = await db.query<Raw>(
    `WITH upd AS (
       UPDATE deliveries SET status = $2, reason = COALESCE($3, reason), channel = COALESCE($4, channel), data = data || $5::jsonb, updated_at = now()
        WHERE id = $1 AND status = ANY($6::text[]) RETURNING ${COLS}),
     ev AS (INSERT INTO delivery_events (delivery_id, status, reason, details) SELECT id, $2, $3, $7::jsonb FROM upd)
     SELECT ${COLS} FROM upd`,
    [id, to, opts.reason ?? null, opts.channel ?? null, JSON.stringify(opts.data ?? {}), allowed, JSON.stringify(opts.details ?? {})]);
  return rows[0] ? toDelivery(rows[0]) : undefined;
}

/** Move a delivery to `to`, recording the event. Refuses transitions the table does not allow. */
export async function transition(db: Queryable, id: string, to: DeliveryStatus, opts: TransitionOptions = {}): Promise<DeliveryRow> {
  const moved = await transitionIf(db, id, undefined, to, opts);
  if (moved) return moved;
  // Only the refusal reads the row again, to say why.
  const current = await getDelivery(db, id);
  if (!current) throw new AppError('NOT_FOUND', `delivery ${id} not found`, { status: 404 });
  throw new AppError('ILLEGAL_TRANSITION', `delivery cannot go from ${current.status} to ${to}`);
}

/** transitionIf for many deliveries in one statement (a routed batch); returns the ids that moved. */
export async function transitionMany(db: Queryable, items: readonly ({ id: string } & TransitionOptions)[], from: readonly DeliveryStatus[], to: DeliveryStatus): Promise<string[]> {
  const allowed = allowedFrom(to, from);
  const valid = items.filter((i) => UUID.test(i.id));
  if (allowed.length === 0 || valid.length === 0) return [];
  const input = JSON.stringify(valid.map((i) => ({ id: i.id, reason: i.reason ?? null, channel: i.channel ?? null, details: i.details ?? {}, data: i.data ?? {} })));
  const { rows } = await db.query<{ id: string }>(
    `WITH input AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, reason text, channel text, details jsonb, data jsonb)),
     upd AS (
       UPDATE deliveries d SET status = $2, reason = COALESCE(i.reason, d.reason), channel = COALESCE(i.channel, d.channel), data = d.data || i.data, updated_at = now()
         FROM input i WHERE d.id = i.id AND d.status = ANY($3::text[]) RETURNING d.id),
     ev AS (INSERT INTO delivery_events (delivery_id, status, reason, details) SELECT i.id, $2, i.reason, i.details FROM input i JOIN upd u ON u.id = i.id)
     SELECT id FROM upd`,
    [input, to, allowed]);
  return rows.map((r) => r.id);
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
      getDeliveries: (ids, o) => getDeliveries(tx, ids, o),
      transition: (id, to, o) => transition(tx, id, to, o),
      transitionIf: (id, from, to, o) => transitionIf(tx, id, from, to, o),
      transitionMany: (items, from, to) => transitionMany(tx, items, from, to),
      addReceipt: (id, r) => addReceipt(tx, id, r),
      insertOutbox: (kind, refId, corr) => insertOutbox(tx, kind, refId, corr),
      insertOutboxMany: (kind, refIds, corr) => insertOutboxMany(tx, kind, refIds, corr),
      completeOutbox: (id) => markOutboxDone(tx, id),
      audit: (e) => recordAudit(tx, e),
      letters: letterTx(tx),
    })),
    getDelivery: (id) => getDelivery(pool, id),
    listEvents: (id) => listEvents(pool, id),
    listReceipts: (id) => listReceipts(pool, id),
  };
}
