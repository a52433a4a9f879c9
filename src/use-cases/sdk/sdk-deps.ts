// sdk.md §5, §7, §9, §10: what the SDK use cases need from the message-service core and from their callers.
// The core (adapters/sdk, createSdkMessageService) satisfies SdkMessageServicePort structurally; the composition
// root hands it in, so this layer never imports an adapter (style.md layout).
import { AppError, type FieldError } from '../../domain/errors.js';
import type { SdkMessage } from '../../domain/sdk/message.js';
import type { MessageReceipt, ReceiptReason, ReceiptVerdict, ReceivedReceipt } from '../../domain/sdk/receipt.js';
import type { Logger } from '../../lib/logger.js';
import type { QueuePort } from '../../ports/queue.port.js';
import type { SdkStore } from '../../ports/sdk-store.port.js';
import type { AccessPoint, AccessPointRouting, AddressBookLookup } from '../../ports/sdk.port.js';
import type { ParticipantId } from '../../domain/sdk/identifiers.js';

/** Routing data of a judged envelope (adapters/sdk EnvelopeInfo). */
export interface JudgedEnvelope {
  id: string;
  from: string;
  to: string;
  handlingServiceId?: string;
}

/** The verdict on one inbound message envelope (adapters/sdk InboundMessageResult). */
export interface ReceivedMessage {
  kind: 'message';
  verdict: ReceiptVerdict;
  sendReceipt: boolean;
  noReceiptReason?: string;
  envelope?: JudgedEnvelope;
  /** The decrypted payload exactly as decrypted. */
  payloadBytes?: Buffer;
  /** Present only when ACCEPTED. */
  message?: SdkMessage;
}

/** A verified (ok) or refused inbound receipt (adapters/sdk InboundReceiptResult). */
export type ReceivedReceiptResult =
  | { kind: 'receipt'; ok: true; receipt: ReceivedReceipt; envelope: JudgedEnvelope }
  | { kind: 'receipt'; ok: false; problems: ReceiptReason[]; envelope?: JudgedEnvelope };

export interface SealedEnvelope {
  /** The signed, encrypted XHE exactly as signed. */
  envelope: Uint8Array;
  xheId: string;
  routing: AccessPointRouting;
}

export interface ReceiptEnvelope {
  envelope: Uint8Array;
  xheId: string;
  routing: AccessPointRouting;
  receipt: MessageReceipt;
}

/** The message-service core (adapters/sdk/index.ts createSdkMessageService). */
export interface SdkMessageServicePort {
  /** With `payload` (as stored at submission): seal that payload; `message` then only gives the header. */
  seal(message: SdkMessage, payload?: Buffer): Promise<SealedEnvelope>;
  receive(envelope: Uint8Array, transport?: { originalSender?: string; finalRecipient?: string }): Promise<ReceivedMessage | ReceivedReceiptResult>;
  receiptFor(result: ReceivedMessage): ReceiptEnvelope | null;
}

/**
 * Serialize an outbound message and validate it as it will be sent (our XSD, the schematron port, the
 * 30 000 000-byte limit). Problems use the receipt vocabulary (SV/BV, structure/invariant/too-long, XPath).
 */
export type PayloadPreparer = (message: SdkMessage) => { payload: Buffer; problems: ReceiptReason[] };

export interface SdkDeps {
  store: SdkStore;
  queue: QueuePort;
  accessPoint: AccessPoint;
  service: SdkMessageServicePort;
  preparePayload: PayloadPreparer;
  /** The participant id of our organisation (sender of every message we send). */
  ownParticipant: ParticipantId;
  /**
   * The local read copy of the national address book (sdk.md §3, §10 SCHEDULED, §16.5): every recipient function
   * address is checked against it before a message is accepted. Absent only in set-ups without an address book.
   */
  addressBook?: AddressBookLookup;
  /** No receipt within this time after SUBMITTED ends in MESSAGE_EXCHANGE_ERROR (sdk.md §10, §16.25). */
  receiptTimeoutMs: number;
  logger: Logger;
  clock?: () => Date;
}

/** One `eventIssues` entry of a 400 problem (sdk.md §10: typeCode, title, detail, in). */
export interface SdkIssue {
  /** JSON Pointer into the request (or an XPath into the payload built from it). */
  in: string;
  /** The SDK detail code when one applies (structure, invariant, too-long, not-found, …). */
  title: string;
  detail: string;
}

/**
 * A refused request in the MT–MK API's terms: a 400 answered as `urn:problem-type:sdk:badRequest` with one
 * eventIssue per problem (src/api/sdk/sdk.problem.ts), and the house `errors[]` naming the same fields.
 */
export class SdkRequestError extends AppError {
  readonly issues: SdkIssue[];
  constructor(code: string, message: string, issues: SdkIssue[]) {
    const errors: FieldError[] = issues.map((i) => ({ field: i.in, message: i.detail }));
    super(code, message, { status: 400, errors });
    this.name = 'SdkRequestError';
    this.issues = issues;
  }
}

export const TOO_LONG_CODE = 'SDK_TOO_LONG';

/** The too-long refusal of the API (sdk.md §11: "must not be larger than 30 MB"; receipt detail code too-long). */
export function tooLongRequest(where: string): SdkRequestError {
  return new SdkRequestError(TOO_LONG_CODE, 'Request message must not be larger than 30 MB.', [
    { in: where, title: 'too-long', detail: 'The message is larger than the federation limit of 30 MB.' },
  ]);
}
