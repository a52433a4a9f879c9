// sdk.md §10 (MT–MK statuses and events), §13 and §16.22: persistence the SDK use cases need. Implemented on
// PostgreSQL by src/store/sdk-message.repository.ts (migration 0004). One SdkUnitOfWork is one database
// transaction and also carries the foundation's delivery, receipt, outbox and audit operations, so an SDK
// status change and its outbox row / audit row commit together.
import type { DeliveryStatus } from '../domain/delivery-status.js';
import type { SdkMessage } from '../domain/sdk/message.js';
import type { MessageStatus } from '../domain/sdk/status.js';
import type { AuditEvent } from './audit.port.js';
import type { DeliveryRow, NewDelivery, TransitionOptions } from './delivery-store.port.js';
import type { AccessPointRouting } from './sdk.port.js';

export type SdkDirection = 'out' | 'in';

/** One SDK message as stored, without its content. */
export interface SdkMessageRecord {
  /** The MT–MK resource id (`data.id`); equals messageId unless that id was taken (see migration 0004). */
  id: string;
  direction: SdkDirection;
  deliveryId: string | null;
  messageId: string;
  conversationId: string;
  refToMessageId: string | null;
  sender: string;
  recipient: string;
  senderAddress: string | null;
  recipientAddress: string;
  /** Our side: sender address (out) or recipient address (in). Grants on it decide visibility. */
  ownAddress: string;
  confidentiality: boolean;
  creationDateTime: string;
  status: MessageStatus;
  transportMessageId: string | null;
  storedAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

/** The record plus the message header data needed by listings (everything but the documents). */
export interface SdkMessageSummary extends SdkMessageRecord {
  /** The stored message with `documents` removed. */
  header: Omit<SdkMessage, 'documents'>;
}

export interface SdkMessageEvent {
  statusChange: boolean;
  typeCode: string;
  title: string;
  detail: string | null;
  location: string | null;
  at: Date;
}

/** A detail line recorded with a status change (receipt LineResponse, transport error). */
export interface NewSdkEventLine {
  typeCode: string;
  title: string;
  detail?: string;
  location?: string;
}

export interface NewSdkMessage {
  direction: SdkDirection;
  /** Preferred resource id (the messageId); another id is chosen when it is taken. */
  preferredId: string;
  message: SdkMessage;
  payload: Buffer;
  status: MessageStatus;
  /** Title of the first status event. */
  title: string;
  deliveryId?: string;
  inboundEnvelopeId?: string;
  envelope?: Buffer;
}

export type InboundEnvelopeState =
  | 'received' | 'judged' | 'receipt-submitted' | 'receipt-acknowledged' | 'receipt-failed' | 'no-receipt'
  | 'receipt-applied' | 'receipt-ignored' | 'receipt-refused';

/** An inbound envelope's row without its bytes: what every step after judging needs (issue 7 memory). */
export interface InboundEnvelopeHead {
  id: string;
  transportMessageId: string;
  routing: AccessPointRouting;
  receivedAt: Date;
  state: InboundEnvelopeState;
  kind: 'message' | 'receipt' | null;
  xheId: string | null;
  sender: string | null;
  verdict: Record<string, unknown> | null;
  receiptEnvelope: Buffer | null;
  receiptXheId: string | null;
  receiptRouting: AccessPointRouting | null;
}

export interface InboundEnvelopeRecord extends InboundEnvelopeHead {
  /** The envelope exactly as received. */
  envelope: Buffer;
}

export interface InboundEnvelopeUpdate {
  state?: InboundEnvelopeState;
  kind?: 'message' | 'receipt';
  xheId?: string;
  sender?: string;
  verdict?: Record<string, unknown>;
  noReceiptReason?: string;
  receipt?: { envelope: Buffer; xheId: string; routing: AccessPointRouting };
  receiptTransportMessageId?: string;
  processed?: boolean;
}

export interface SdkListQuery {
  /** Only messages whose own address is one of these are returned (the caller's read grants). */
  visibleAddresses: readonly string[];
  status?: MessageStatus;
  recipientAddress?: string;
  senderAddress?: string;
  createdFrom?: Date;
  createdTo?: Date;
  /** Inbound messages in these statuses are in flight (not yet receipted) and never listed. */
  hiddenInboundStatuses: readonly MessageStatus[];
  offset: number;
  limit: number;
}

export interface SdkUnitOfWork {
  // --- the foundation, in this transaction
  insertDelivery(d: NewDelivery): Promise<{ delivery: DeliveryRow; created: boolean }>;
  getDelivery(id: string, opts?: { forUpdate?: boolean }): Promise<DeliveryRow | undefined>;
  transitionDelivery(id: string, to: DeliveryStatus, opts?: TransitionOptions): Promise<DeliveryRow>;
  addReceipt(deliveryId: string, r: { kind: string; externalId?: string; data?: Record<string, unknown>; raw?: Buffer }): Promise<void>;
  insertOutbox(kind: string, refId: string, correlationId?: string): Promise<string>;
  completeOutbox(outboxId: string): Promise<void>;
  audit(event: AuditEvent): Promise<void>;

  // --- SDK messages
  /** Insert; for inbound, `created: false` (and the existing row) when the same sender's messageId exists. */
  insertMessage(m: NewSdkMessage): Promise<{ record: SdkMessageRecord; created: boolean }>;
  getMessage(id: string, opts?: { forUpdate?: boolean }): Promise<SdkMessageRecord | undefined>;
  getMessageByDelivery(deliveryId: string): Promise<SdkMessageRecord | undefined>;
  /** The outbound message with this messageId (receipt correlation, AP events), locked. */
  findOutboundForUpdate(messageId: string): Promise<SdkMessageRecord | undefined>;
  /** The stored message and the envelope we sent (undefined once deleted). The payload is stored, not read back. */
  getContent(id: string): Promise<{ message: SdkMessage; envelope: Buffer | null; routing: AccessPointRouting | null } | undefined>;
  /**
   * What the send job needs (undefined once deleted): the envelope and routing once sealed; before that the
   * stored payload and the message as a header — attachments kept in the payload are not read back into it
   * (content ""), since the payload itself is sealed (issue 7 memory).
   */
  getSendContent(id: string): Promise<{ header: SdkMessage; payload: Buffer | null; envelope: Buffer | null; routing: AccessPointRouting | null } | undefined>;
  /** Change the MT–MK status, recording the event and its detail lines; refuses transitions the table forbids. */
  setStatus(id: string, to: MessageStatus, title: string, lines?: NewSdkEventLine[], detail?: string): Promise<SdkMessageRecord>;
  /** Keep the exact signed envelope and its routing (resent unchanged on every retry). */
  setEnvelope(id: string, envelope: Buffer, routing: AccessPointRouting): Promise<void>;
  setTransportMessageId(id: string, transportMessageId: string): Promise<void>;
  /** DELETE by a client: hide the message and clear its content; the row stays for duplicate detection. */
  markDeleted(id: string): Promise<void>;

  // --- inbound envelopes
  /** Store an envelope the AP delivered; `created: false` when that transport id was stored before. */
  insertInboundEnvelope(e: { id: string; transportMessageId: string; envelope: Buffer; routing: AccessPointRouting; receivedAt: Date }): Promise<{ id: string; created: boolean }>;
  getInboundEnvelope(id: string, opts?: { forUpdate?: boolean }): Promise<InboundEnvelopeRecord | undefined>;
  /** The row without the envelope's bytes (a large envelope is not read again just to check its state). */
  getInboundEnvelopeHead(id: string, opts?: { forUpdate?: boolean }): Promise<InboundEnvelopeHead | undefined>;
  updateInboundEnvelope(id: string, u: InboundEnvelopeUpdate): Promise<void>;
  /** The inbound envelope whose receipt (our answer) has this XHE id, locked. */
  findByReceiptXheIdForUpdate(receiptXheId: string): Promise<InboundEnvelopeHead | undefined>;
  /** The inbox message created from an inbound envelope. */
  getMessageByInboundEnvelope(inboundEnvelopeId: string): Promise<SdkMessageRecord | undefined>;
}

export interface SdkStore {
  transaction<T>(fn: (tx: SdkUnitOfWork) => Promise<T>): Promise<T>;
  getMessage(id: string): Promise<SdkMessageRecord | undefined>;
  /** The stored message (undefined once deleted). */
  getContent(id: string): Promise<{ message: SdkMessage } | undefined>;
  listMessages(q: SdkListQuery): Promise<{ items: SdkMessageSummary[]; total: number }>;
  /** Newest first (sdk.md §16.26). */
  listEvents(id: string): Promise<SdkMessageEvent[]>;
  getInboundEnvelope(id: string): Promise<InboundEnvelopeRecord | undefined>;
  /** The row without the envelope's bytes. */
  getInboundEnvelopeHead(id: string): Promise<InboundEnvelopeHead | undefined>;

  // --- look-ups of the inbound checks (sdk.md §5 rows 6, 9, 11)
  /** Is the function address one of our organisation's (admin API, table function_addresses)? */
  isOwnFunctionAddress(address: string): Promise<boolean>;
  inboundExists(sender: string, messageId: string): Promise<boolean>;
  /** 'rejected' when we answered that messageId with a REJECTED receipt; 'known' when we hold it; else 'unknown'. */
  referencedState(messageId: string): Promise<'rejected' | 'known' | 'unknown'>;
  /** Outbound messages still waiting for a receipt that entered SUBMITTED before `before`. */
  overdueOutbound(before: Date, limit: number): Promise<string[]>;
}
