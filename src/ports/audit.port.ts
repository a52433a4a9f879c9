// The audit trail auditors read (style.md convention 8: a table, not a log stream).
import type { Queryable } from './queryable.port.js';

export interface AuditEvent {
  /** Stable event code, e.g. LOGIN_SUCCEEDED, LOGIN_REFUSED, GRANT_ADDED, ROLE_CHANGED, DELIVERY_ACCEPTED. */
  type: string;
  /** principalId() of who did it, or "system" for the gateway itself. */
  actor: string;
  /** What it was done to (a function address, a delivery id, a user id). Never a personnummer. */
  subject?: string;
  outcome: 'success' | 'failure';
  /** Extra, non-sensitive facts (reason codes, acr values, scopes). */
  details?: Record<string, unknown>;
  correlationId?: string;
}

export interface AuditTrail {
  /** Append one event; pass `db` to write inside the caller's transaction. */
  record(event: AuditEvent, db?: Queryable): Promise<void>;
}
