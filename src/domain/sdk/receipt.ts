// sdk.md §5 (receiving MT: checks and the receipt each failure produces) and §9 (Meddelandekvittens 1.0).
// The vocabulary here is the wire vocabulary: ACCEPTED/REJECTED, SV/BV/SIG and the SDK detail codes.
import type { MessageId, ParticipantId } from './identifiers.js';

export const RECEIPT_STATUSES = ['ACCEPTED', 'REJECTED'] as const;
export type ReceiptStatus = (typeof RECEIPT_STATUSES)[number];

/** LineResponse/Response/ResponseCode. SV = schema, BV = validation rule, SIG = signature (also "not encrypted"). */
export const REASON_CODES = ['SV', 'BV', 'SIG'] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

/** LineResponse/Response/Status/StatusReasonCode values used by SDK (sdk.md §9). */
export const DETAIL_CODES = [
  'structure',
  'invariant',
  'security',
  'not-found',
  'not-supported',
  'too-long',
  'forbidden',
  'duplicate',
  'multiple-matches',
] as const;
export type DetailCode = (typeof DETAIL_CODES)[number];

/** The LineID used when no node can be named (sdk.md §9). */
export const NO_PATH = 'NA';

export interface ReceiptReason {
  code: ReasonCode;
  detail: DetailCode;
  /** XPath of the offending node (canonical prefixes, see adapters/sdk/xml/xml-path.ts), or "NA". */
  path: string;
  /** Human-readable StatusReason. Never message content or personal data (sdk.md §9 "Privacy"). */
  text: string;
}

export type ReceiptVerdict =
  | { status: 'ACCEPTED' }
  | { status: 'REJECTED'; reasons: [ReceiptReason, ...ReceiptReason[]] };

/**
 * The conditions of the §5 table that this MT can detect, each mapped to its (code, reason, detail).
 * `row` is the row number of the table ("–" rows get a descriptive key).
 */
export const RECEIPT_CONDITIONS = {
  /** Row 2: payload or envelope violates the XSD. */
  schema: { row: '2', code: 'SV', detail: 'structure' },
  /** Row 3: malware found. */
  malware: { row: '3', code: 'BV', detail: 'forbidden' },
  /** Row 4: larger than the federation limit. */
  tooLong: { row: '4', code: 'BV', detail: 'too-long' },
  /** Row 5: schematron (message or XHE profile) assertion failed. */
  schematron: { row: '5', code: 'BV', detail: 'invariant' },
  /** Row 6: messageId already received. */
  duplicate: { row: '6', code: 'BV', detail: 'duplicate' },
  /** Row 8: attachment MIME type not supported by the receiver. */
  mimeNotSupported: { row: '8', code: 'BV', detail: 'not-supported' },
  /** Row 9: function address missing or unknown. */
  functionAddressNotFound: { row: '9', code: 'BV', detail: 'not-found' },
  /** Row 11: refToMessageId points at a message this MT rejected. */
  refToRejected: { row: '11', code: 'BV', detail: 'not-supported' },
  /** Row 12: XHE signature invalid or signer is not the sender's CertPub certificate. */
  signature: { row: '12', code: 'SIG', detail: 'security' },
  /** Row 13: sender data wrong or inconsistent (payload vs XHE vs AS4 originalSender). */
  senderInconsistent: { row: '13', code: 'BV', detail: 'security' },
  /** Row 14: payload not encrypted although the transport model requires it. */
  notEncrypted: { row: '14', code: 'SIG', detail: 'security' },
  /** Row –: recipientID differs from XHE ToParty (or AS4 finalRecipient). */
  recipientMismatch: { row: '-recipient', code: 'BV', detail: 'security' },
  /** Row –: recipient subOrganization differs from XHE HandlingServiceID. */
  functionAddressMismatch: { row: '-function-address', code: 'BV', detail: 'security' },
  /** Row –: recipientID/root or senderID/root is not iso6523-actorid-upis. */
  idRoot: { row: '-id-root', code: 'BV', detail: 'invariant' },
  /**
   * Not in the table (our decision): payload messageId differs from XHE Header/ID (CONTENT requires them
   * equal; receipts are correlated by it). Treated like the other envelope/payload inconsistencies.
   */
  messageIdMismatch: { row: '-message-id', code: 'BV', detail: 'security' },
  /** Not in the table (our decision): the XHE announces a document type / document id this MT does not process. */
  documentTypeNotSupported: { row: '-document-type', code: 'BV', detail: 'not-supported' },
} as const satisfies Record<string, { row: string; code: ReasonCode; detail: DetailCode }>;

export type ReceiptCondition = keyof typeof RECEIPT_CONDITIONS;

export function reason(condition: ReceiptCondition, path: string, text: string): ReceiptReason {
  const c = RECEIPT_CONDITIONS[condition];
  return { code: c.code, detail: c.detail, path, text };
}

export function verdictOf(reasons: readonly ReceiptReason[]): ReceiptVerdict {
  const [first, ...rest] = reasons;
  return first === undefined ? { status: 'ACCEPTED' } : { status: 'REJECTED', reasons: [first, ...rest] };
}

/**
 * A meddelandekvittens (UBL ApplicationResponse profile, sdk.md §9) as the domain sees it.
 * `issuer` is the original recipient, `receiver` the original sender.
 */
export interface MessageReceipt {
  /** cbc:ID: we use a UUID. */
  receiptId: string;
  /** cbc:IssueDate + cbc:IssueTime. */
  issuedAt: Date;
  issuer: ParticipantId;
  receiver: ParticipantId;
  /** DocumentReference/ID = XHE Header/ID (= SDK messageId) of the acknowledged message. */
  documentReference: MessageId;
  verdict: ReceiptVerdict;
}

/** One LineResponse of a received receipt: the detail is whatever the issuer wrote (rule ids occur). */
export interface ReceivedReceiptLine {
  code: ReasonCode;
  detail?: string;
  path: string;
  text: string;
}

/** A receipt as parsed from the wire (before it is matched against an outbound message). */
export interface ReceivedReceipt {
  receiptId: string;
  issueDate: string;
  issueTime: string;
  issuer: string;
  receiver: string;
  documentReference: string;
  status: ReceiptStatus;
  lines: ReceivedReceiptLine[];
}

/** Maximum StatusReason length we emit; texts are short, fixed English sentences. */
export const MAX_REASON_TEXT = 512;
