// The transactional outbox (issue 3 §4; style.md convention 7): written in the same transaction as the request
// row, claimed with a lease by exactly one worker at a time, finished in the same transaction as the handler's
// own state change, so a crash anywhere neither loses a row nor runs its effect twice.
import type { Queryable } from '../ports/queryable.port.js';

export interface OutboxRow {
  id: string;
  kind: string;
  refId: string;
  status: 'pending' | 'running' | 'done' | 'dead';
  attempts: number;
  correlationId: string | null;
}

interface RawRow { id: string; kind: string; ref_id: string; status: OutboxRow['status']; attempts: number; correlation_id: string | null }
const toRow = (r: RawRow): OutboxRow => ({ id: String(r.id), kind: r.kind, refId: r.ref_id, status: r.status, attempts: r.attempts, correlationId: r.correlation_id });

/** Insert an outbox row inside the caller's transaction. */
export async function insertOutbox(db: Queryable, kind: string, refId: string, correlationId?: string): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    'INSERT INTO outbox (kind, ref_id, correlation_id) VALUES ($1, $2, $3) RETURNING id', [kind, refId, correlationId ?? null]);
  const row = rows[0];
  if (!row) throw new Error('outbox insert returned no row');
  return String(row.id);
}

/** One outbox row per refId in one statement (WITH ORDINALITY keeps the returned ids in input order). */
export async function insertOutboxMany(db: Queryable, kind: string, refIds: readonly string[], correlationId?: string): Promise<string[]> {
  if (refIds.length === 0) return [];
  if (new Set(refIds).size !== refIds.length) throw new Error('insertOutboxMany: refIds must be distinct');
  const { rows } = await db.query<{ id: string; n: string }>(
    `WITH input AS (SELECT ref_id, n FROM unnest($2::uuid[]) WITH ORDINALITY AS t(ref_id, n)),
          ins AS (INSERT INTO outbox (kind, ref_id, correlation_id) SELECT $1, ref_id, $3 FROM input ORDER BY n RETURNING id, ref_id)
     SELECT ins.id, input.n FROM ins JOIN input ON input.ref_id = ins.ref_id ORDER BY input.n`,
    [kind, refIds, correlationId ?? null]);
  if (rows.length !== refIds.length) throw new Error('outbox insert returned a different number of rows');
  return rows.map((r) => String(r.id));
}

/**
 * Claim a row for one attempt: pending rows, or running rows whose lease expired (their worker died).
 * Returns undefined when the row is done, dead, or leased by a live worker.
 */
export async function claimOutbox(db: Queryable, id: string, leaseMs: number): Promise<OutboxRow | undefined> {
  const { rows } = await db.query<RawRow>(
    `UPDATE outbox SET status = 'running', attempts = attempts + 1, locked_until = now() + ($2::int * interval '1 millisecond'), updated_at = now()
      WHERE id = $1 AND (status = 'pending' OR (status = 'running' AND locked_until < now()))
      RETURNING id, kind, ref_id, status, attempts, correlation_id`, [id, leaseMs]);
  return rows[0] ? toRow(rows[0]) : undefined;
}

export async function getOutbox(db: Queryable, id: string): Promise<OutboxRow | undefined> {
  const { rows } = await db.query<RawRow>('SELECT id, kind, ref_id, status, attempts, correlation_id FROM outbox WHERE id = $1', [id]);
  return rows[0] ? toRow(rows[0]) : undefined;
}

/** Mark done; call inside the handler's transaction so the effect and the completion commit together. */
export async function markOutboxDone(db: Queryable, id: string): Promise<void> {
  await db.query("UPDATE outbox SET status = 'done', locked_until = NULL, last_error = NULL, done_at = now(), updated_at = now() WHERE id = $1", [id]);
}

/** Release a claimed row for a later attempt (the queue schedules it). `error` is a code, never upstream text. */
export async function releaseOutbox(db: Queryable, id: string, error: string): Promise<void> {
  await db.query("UPDATE outbox SET status = 'pending', locked_until = NULL, last_error = $2, updated_at = now() WHERE id = $1 AND status = 'running'", [id, error]);
}

export async function markOutboxDead(db: Queryable, id: string, error: string): Promise<void> {
  await db.query("UPDATE outbox SET status = 'dead', locked_until = NULL, last_error = $2, updated_at = now() WHERE id = $1 AND status <> 'done'", [id, error]);
}

/** Open rows untouched for `staleMs` (pending ones, and running ones whose lease has expired). */
export async function findStaleOutbox(db: Queryable, staleMs: number, limit: number): Promise<OutboxRow[]> {
  const { rows } = await db.query<RawRow>(
    `SELECT id, kind, ref_id, status, attempts, correlation_id FROM outbox
      WHERE (status = 'pending' AND updated_at < now() - ($1::int * interval '1 millisecond'))
         OR (status = 'running' AND locked_until < now())
      ORDER BY id LIMIT $2`, [staleMs, limit]);
  return rows.map(toRow);
}

export async function outboxCounts(db: Queryable): Promise<Record<string, number>> {
  const { rows } = await db.query<{ status: string; n: string }>('SELECT status, count(*)::text AS n FROM outbox GROUP BY status');
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}
