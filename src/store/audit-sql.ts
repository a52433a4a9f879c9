// Appending to the audit trail (table audit_events, migration 0001). Details must never hold personnummer.
import type { AuditEvent } from '../ports/audit.port.js';
import type { Queryable } from '../ports/queryable.port.js';
import { currentCorrelationId } from '../lib/correlation.js';

export async function recordAudit(db: Queryable, e: AuditEvent): Promise<void> {
  await db.query('INSERT INTO audit_events (type, actor, subject, outcome, details, correlation_id) VALUES ($1, $2, $3, $4, $5, $6)',
    [e.type, e.actor, e.subject ?? null, e.outcome, JSON.stringify(e.details ?? {}), e.correlationId ?? currentCorrelationId() ?? null]);
}
