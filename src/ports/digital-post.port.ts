// Ports of the digital-post channel (../shared/specs/digital-post.md §5 FaR, §6 deliverSecure, §8 paper).
// The core owns these interfaces; adapters/digital-post and adapters/print implement them, and
// src/main.ts picks real adapters or the simulators' URLs.
import type {
  MailboxOperator,
  OrganisationNumber,
  ReachabilityOutcome,
  RecipientId,
} from '../domain/digital-post.js';

// ---------------------------------------------------------------------------------------------------
// FaR: who can receive digital post
// ---------------------------------------------------------------------------------------------------

export interface ReachabilityOptions {
  /** Skip the short-lived cache (e.g. the one fresh lookup after operator fault 5003, §6.7). */
  bypassCache?: boolean;
  signal?: AbortSignal;
}

/**
 * FaR (Förmedlingsadressregistret) lookup: can these recipients get digital post from this sender,
 * and at which mailbox operator?
 *
 * - Accepts any number of ids; the adapter de-duplicates and batches them into `isReachable` calls of at
 *   most 1,000 ids each (§5.2), so N distinct ids cost `ceil(N/1000)` upstream calls.
 * - Every requested id gets exactly one outcome from the closed set (§5.4); an id FaR did not answer
 *   for is `NOT_REGISTERED`. Answers are matched by `RecipientId`, never by position.
 * - A lookup that fails is not an outcome: it throws a `DigitalPostError` (`FAR_UNAVAILABLE`,
 *   `FAR_SENDER_REJECTED`, `FAR_REQUEST_REJECTED`); decide with `classifyLookupFailure`. When one batch
 *   fails the whole call throws: no partial map.
 * - Answers may be served from a per-sender cache (TTL ≤ 3,600 s, default 300 s).
 */
export interface RecipientRegistry {
  isReachable(
    ids: readonly RecipientId[],
    sender: OrganisationNumber,
    opts?: ReachabilityOptions,
  ): Promise<Map<RecipientId, ReachabilityOutcome>>;
  /** Forget a cached answer: call it after `Delivered=false` or operator fault 5003 (§5.6). */
  invalidate(sender: OrganisationNumber, id: RecipientId): void;
}

// ---------------------------------------------------------------------------------------------------
// Mailbox operators: deliverSecure
// ---------------------------------------------------------------------------------------------------

/** One attachment; only `application/pdf` is accepted by the API today. Bytes are sent unchanged. */
export interface DeliveryAttachment {
  contentType: string;
  filename: string;
  content: Buffer;
}

/** Everything needed to build, sign and seal one delivery to one recipient (§6.3). */
export interface LetterForDelivery {
  /**
   * `Message/Header/Id`: unique per letter and identical on every retry (§11 #27). Operators and
   * our adapter de-duplicate on it.
   */
  deliveryId: string;
  /** The sender (avsändare) in whose name the letter goes; its number comes from configuration. */
  sender: { organisationNumber: OrganisationNumber; name: string; attention?: string };
  recipient: RecipientId;
  /** ≤ 255 characters. */
  subject: string;
  supportInfo: { text: string; url?: string; phoneNumber?: string; emailAddress?: string };
  /** The message text: `text/plain` or `text/html`, as bytes (UTF-8). */
  body: { contentType: 'text/plain' | 'text/html'; content: Buffer };
  attachments: readonly DeliveryAttachment[];
  /**
   * When we (as förmedlare) received the letter: becomes `Seal/ReceivedTime` as a Europe/Stockholm
   * date. Pass the stored value, not "now", so re-signing after a crash gives the same bytes.
   */
  receivedAt: Date;
  /** `Header/Reference`: may be shown to the recipient; never a personnummer or case detail. */
  reference?: string;
  /** `Header/CorrelationId`. */
  correlationId?: string;
  /** `xs:language`; default `svSE` as all public implementations send (§10 #8). */
  language?: string;
}

/** Where FaR says the recipient's mailbox is (from a `REACHABLE` outcome). */
export interface DeliveryTarget {
  serviceAddress: string;
  operator: Pick<MailboxOperator, 'id' | 'name'>;
}

/**
 * A signed and sealed delivery, ready to send. Store `soapRequest` and resend exactly these bytes on
 * every retry (§6.6 rule 7): never re-sign a retry.
 */
export interface PreparedDelivery {
  deliveryId: string;
  recipient: RecipientId;
  /** The complete SOAP 1.1 `deliverSecure` request (UTF-8). */
  soapRequest: Buffer;
  /** Hex SHA-256 of `soapRequest`, kept with the receipt for auditors. */
  requestSha256: string;
  /** `Seal/ReceivedTime` that was sealed (YYYY-MM-DD). */
  receivedDate: string;
}

/** The operator's answer for our recipient (§6.5). `delivered=false` is an answer, not an error. */
export interface DeliveryReceipt {
  deliveryId: string;
  delivered: boolean;
  /** The operator's `TransId`: store it as the receipt id. */
  transId: string;
  operatorId: string;
  requestSha256: string;
  /** The raw SOAP response (no personal data beyond the recipient id the operator echoes). */
  rawResponse: string;
  answeredAt: Date;
}

/**
 * Delivery to the recipient's mailbox operator with `deliverSecure` (§6) over mutual TLS.
 *
 * - `prepare` builds the v3 SignedDelivery, signs it as the sender, verifies that signature, and
 *   seals the standalone SealedDelivery as förmedlare (two RSA signatures). Deterministic: the same
 *   letter and keys give the same bytes.
 * - `send` posts prepared bytes unchanged to `target.serviceAddress`.
 * - `deliverSecure` = prepare (memoised per `deliveryId`) + send; calling it again for the same
 *   `deliveryId` resends identical bytes and returns the stored receipt once one exists. The memo is
 *   in-process and bounded: persist `PreparedDelivery.soapRequest` to resend the same bytes after a
 *   restart (signing is deterministic, so re-preparing the same letter gives the same bytes anyway).
 * - Failures throw `DigitalPostError` (`OPERATOR_FAULT` with `faultCode`, `OPERATOR_CLIENT_FAULT`,
 *   `OPERATOR_UNAVAILABLE`, `OUTCOME_UNKNOWN`, `OPERATOR_PROTOCOL_ERROR`); decide with
 *   `classifyDeliveryFailure`, and a receipt with `classifyDeliveryResult(receipt.delivered)`.
 */
export interface DigitalMailbox {
  prepare(letter: LetterForDelivery): Promise<PreparedDelivery>;
  send(prepared: PreparedDelivery, target: DeliveryTarget): Promise<DeliveryReceipt>;
  deliverSecure(letter: LetterForDelivery, target: DeliveryTarget): Promise<DeliveryReceipt>;
}

// ---------------------------------------------------------------------------------------------------
// Paper fallback: the print-and-post provider
// ---------------------------------------------------------------------------------------------------

/** A Swedish (or foreign) postal address. Never logged. */
export interface PostalAddress {
  name: string;
  careOf?: string;
  /** Street and number. */
  street: string;
  /** e.g. "Lgh 1101". */
  apartment?: string;
  /** `NNN NN` (a space is optional on input). */
  postalCode: string;
  town: string;
  /** Only for addresses abroad; omitted for Sweden. */
  country?: string;
}

export interface LetterForPrint {
  /** Our letter id: the provider de-duplicates on it, so resubmitting is safe. */
  letterId: string;
  /** The PDF exactly as it will be printed (A4, fonts embedded). */
  pdf: Buffer;
  /** Billing unit at the provider (e.g. the department). */
  billingUnit?: string;
  /** WINDOWED: the address is printed in the PDF's window area; PLAIN: the provider prints it. */
  envelope?: 'WINDOWED' | 'PLAIN';
  color?: boolean;
  duplex?: boolean;
}

export interface PrintConfirmation {
  letterId: string;
  /** The provider's job id: store it as the paper receipt. */
  jobId: string;
  status: 'ACCEPTED';
  /** True when the provider had already accepted this letter id (a resubmission). */
  duplicate: boolean;
}

export interface PrintJobStatus {
  jobId: string;
  status: 'ACCEPTED' | 'PRINTED' | 'POSTED';
  printedAt?: Date;
  postedAt?: Date;
}

/**
 * The print-and-post provider (utskickstjänst, §8.2). `submit` is idempotent by `letterId`. A refusal
 * throws `DigitalPostError('PRINT_REJECTED')` with the provider's `reason`; an unreachable provider
 * throws `PRINT_UNAVAILABLE` (retry).
 */
export interface PrintProvider {
  submit(letter: LetterForPrint, address: PostalAddress): Promise<PrintConfirmation>;
  status(jobId: string): Promise<PrintJobStatus>;
}
