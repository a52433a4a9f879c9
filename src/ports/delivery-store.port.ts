// Persistence the use cases need (style.md: ports are owned by the core; src/store implements them on PostgreSQL).
import type { DeliveryStatus } from '../domain/delivery-status.js';
import type { AuditEvent } from './audit.port.js';
import type { LetterTx } from './letter-store.port.js';

export interface DeliveryRow {
  id: string;
  kind: string;
  status: DeliveryStatus;
  channel: string | null;
  reason: string | null;
  owner: string;
  idempotencyKey: string | null;
  correlationId: string | null;
  data: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

export interface DeliveryEvent { status: DeliveryStatus; reason: string | null; details: Record<string, unknown>; at: Date }
export interface ReceiptRow { kind: string; externalId: string | null; data: Record<string, unknown>; receivedAt: Date }

export interface NewDelivery {
  kind: string;
  owner: string;
  idempotencyKey?: string;
  requestHash?: string;
  correlationId?: string;
  channel?: string;
  data?: Record<string, unknown>;
}

export interface TransitionOptions { reason?: string; channel?: string; details?: Record<string, unknown>; data?: Record<string, unknown> }

/** Everything inside one database transaction. Use only this object inside `transaction()`. */
export interface UnitOfWork {
  /** RECEIVED delivery, or the existing one for the same owner + Idempotency-Key (409 on a different body). */
  insertDelivery(d: NewDelivery): Promise<{ delivery: DeliveryRow; created: boolean }>;
  getDelivery(id: string, opts?: { forUpdate?: boolean }): Promise<DeliveryRow | undefined>;
  /** Several deliveries in one statement (a batch routed at once), by id; unknown ids are absent. */
  getDeliveries(ids: readonly string[], opts?: { forUpdate?: boolean }): Promise<Map<string, DeliveryRow>>;
  /** Change status along the documented transition table, recording the event. */
  transition(id: string, to: DeliveryStatus, opts?: TransitionOptions): Promise<DeliveryRow>;
  /**
   * Change status only when the delivery is in one of `from` (and the table allows it), recording the event;
   * undefined when it is not (e.g. an earlier attempt already finished it). One statement.
   */
  transitionIf(id: string, from: readonly DeliveryStatus[], to: DeliveryStatus, opts?: TransitionOptions): Promise<DeliveryRow | undefined>;
  /** transitionIf for many deliveries at once, each with its own reason and details; returns the ids that moved. */
  transitionMany(items: readonly ({ id: string } & TransitionOptions)[], from: readonly DeliveryStatus[], to: DeliveryStatus): Promise<string[]>;
  addReceipt(deliveryId: string, r: { kind: string; externalId?: string; data?: Record<string, unknown>; raw?: Buffer }): Promise<void>;
  /** Outbox row for a job kind acting on `refId`; returns the outbox id to enqueue after commit. */
  insertOutbox(kind: string, refId: string, correlationId?: string): Promise<string>;
  /** One outbox row per refId, in one statement; ids in the order of `refIds`. */
  insertOutboxMany(kind: string, refIds: readonly string[], correlationId?: string): Promise<string[]>;
  /** Mark an outbox row done together with this transaction's other changes. */
  completeOutbox(outboxId: string): Promise<void>;
  audit(event: AuditEvent): Promise<void>;
  /** Letters (digital post) in this transaction. */
  letters: LetterTx;
}

export interface DeliveryStore {
  transaction<T>(fn: (uow: UnitOfWork) => Promise<T>): Promise<T>;
  getDelivery(id: string): Promise<DeliveryRow | undefined>;
  listEvents(id: string): Promise<DeliveryEvent[]>;
  listReceipts(id: string): Promise<ReceiptRow[]>;
}
