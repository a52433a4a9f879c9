// The PostgreSQL audit trail (style.md convention 8; table audit_events of migration 0001): every login,
// refusal, grant change and role change of issue 4 lands here, written in the caller's transaction when given one.
import type pg from 'pg';
import { z } from 'zod';
import type { AuditEvent, AuditTrail } from '../ports/audit.port.js';
import type { Queryable } from '../ports/queryable.port.js';
import { recordAudit } from './audit-sql.js';

export interface StoredAuditEvent extends AuditEvent {
  id: string;
  at: Date;
}

const Row = z.object({
  id: z.union([z.string(), z.number()]).transform(String),
  at: z.date(),
  type: z.string(),
  actor: z.string(),
  subject: z.string().nullable(),
  outcome: z.enum(['success', 'failure']),
  details: z.record(z.string(), z.unknown()),
  correlation_id: z.string().nullable(),
});

export interface AuditQuery {
  type?: string;
  actor?: string;
  subject?: string;
  /** Only events with an id below this one (paging backwards). */
  beforeId?: string;
  limit?: number;
}

export class PgAuditTrail implements AuditTrail {
  constructor(private readonly pool: pg.Pool) {}

  async record(event: AuditEvent, db?: Queryable): Promise<void> {
    await recordAudit(db ?? this.pool, event);
  }

  /** Newest first. For the auditor's view and for tests. */
  async list(q: AuditQuery = {}, db: Queryable = this.pool): Promise<StoredAuditEvent[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (sql: string, v: unknown): void => { values.push(v); where.push(sql.replace('?', `$${values.length}`)); };
    if (q.type !== undefined) add('type = ?', q.type);
    if (q.actor !== undefined) add('actor = ?', q.actor);
    if (q.subject !== undefined) add('subject = ?', q.subject);
    if (q.beforeId !== undefined) add('id < ?', q.beforeId);
    values.push(Math.min(Math.max(q.limit ?? 100, 1), 1000));
    const { rows } = await db.query(
      `SELECT id, at, type, actor, subject, outcome, details, correlation_id FROM audit_events
        ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${values.length}`, values);
    return rows.map((r) => {
      const p = Row.parse(r);
      const e: StoredAuditEvent = { id: p.id, at: p.at, type: p.type, actor: p.actor, outcome: p.outcome, details: p.details };
      if (p.subject !== null) e.subject = p.subject;
      if (p.correlation_id !== null) e.correlationId = p.correlation_id;
      return e;
    });
  }
}

export function createAuditTrail(pool: pg.Pool): PgAuditTrail {
  return new PgAuditTrail(pool);
}
