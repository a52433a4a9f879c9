// Ports of the SDK message service (sdk.md §1 interface C MT↔AP, §3 CertPub, §5 inbound checks, §8 AS4).
// The access-point port follows Domibus' BackendConnector (style.md §5): commands (send) plus status
// events and one inbound handler; the core never knows which access point implementation it talks to.
import type { FunctionAddress, MessageId, ParticipantId } from '../domain/sdk/identifiers.js';

// ---------------------------------------------------------------------------------------------------------
// Access point (interface C)

/** AS4 routing of one XHE (sdk.md §8): what the AP puts into the ebMS UserMessage. */
export interface AccessPointRouting {
  /** AS4 message property originalSender = XHE FromParty. */
  originalSender: ParticipantId;
  /** AS4 message property finalRecipient = XHE ToParty. */
  finalRecipient: ParticipantId;
  /** XHE DOCUMENTID without scheme; the AS4 Action is `busdox-docid-qns::<documentId>`. */
  documentId: string;
  /** AS4 Service, `bdx:noprocess` (type urn:fdc:digg.se:edelivery:process). */
  processId: string;
  /** XHE Header/ID (= SDK messageId for messages). */
  xheId: string;
  /** AS4 ConversationId: we use the SDK conversationId (sdk.md §14.1). */
  conversationId?: string;
}

/** What `send` returns once the AP has taken the envelope (status SUBMITTED). */
export interface AccessPointSubmission {
  /** The AP's transport message id (AS4 MessageId; same on AS4 retransmissions). Log it next to the XHE id. */
  transportMessageId: string;
}

/**
 * Status events of a submitted envelope, after Domibus' messageSendSuccess / messageSendFailed /
 * messageStatusChanged callbacks:
 * - ACKNOWLEDGED: the AS4 transport receipt arrived (message status ACKNOWLEDGE);
 * - RETRY_SCHEDULED: the receiving AP could not be reached, the AP retries (SCHEDULED_FOR_RESEND);
 * - SEND_FAILED: the AP gave up or the receiving AP refused (e.g. EBMS:0004 NOT_SERVICED); final for the transport.
 */
export type AccessPointEvent =
  | { type: 'ACKNOWLEDGED'; transportMessageId: string; xheId: string; at: Date }
  | { type: 'RETRY_SCHEDULED'; transportMessageId: string; xheId: string; at: Date; nextAttemptAt?: Date }
  | { type: 'SEND_FAILED'; transportMessageId: string; xheId: string; at: Date; errorCode: string; detail: string; retryable: boolean };

/** One envelope delivered to us by our AP. */
export interface InboundEnvelope {
  /** The XHE exactly as received (never re-serialised; verify the signature on these bytes). */
  envelope: Uint8Array;
  routing: AccessPointRouting;
  transportMessageId: string;
  receivedAt: Date;
}

/**
 * Called for every inbound envelope. Resolving means "taken over" (stored for processing); rejecting asks
 * the AP to report a failure (Domibus messageReceiveFailed) and keep or retry the message.
 */
export type InboundEnvelopeHandler = (inbound: InboundEnvelope) => Promise<void>;

export interface AccessPoint {
  /**
   * Hand a signed (and, for messages, encrypted) XHE to the access point. Resolves once the AP has accepted
   * it for transport; transport outcomes arrive later as {@link AccessPointEvent}s.
   * Rejects with an AppError (retryable or not) when the AP cannot take it at all.
   */
  send(envelope: Uint8Array, routing: AccessPointRouting): Promise<AccessPointSubmission>;
  /** Register the single handler for inbound envelopes (replaces any earlier one). */
  onInbound(handler: InboundEnvelopeHandler): void;
  /** Subscribe to transport status events; returns an unsubscribe function. */
  onStatus(listener: (event: AccessPointEvent) => void): () => void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------
// CertPub (sdk.md §3)

export interface DirectoryCertificate {
  /** The certificate (PEM). */
  pem: string;
  /** Swedish organisation number of the participant (address book), to match organizationIdentifier NTRSE-<nr>. */
  organizationNumber?: string;
}

/**
 * Organisation-to-organisation certificates published in CertPub. Implementations verify the SMP
 * signature of the metadata before returning anything (sdk.md §3, §16.16).
 */
export interface CertificateDirectory {
  /** The recipient's encryption certificate (from its metadata for the MESSAGE document id); null if not registered. */
  encryptionCertificate(participant: ParticipantId): Promise<DirectoryCertificate | null>;
  /**
   * The participant's signing certificates (from its metadata for the RECEIPT document id, which every sender
   * must register). Empty when the participant is not registered: then no receipt can be delivered either.
   */
  signingCertificates(participant: ParticipantId): Promise<DirectoryCertificate[]>;
}

// ---------------------------------------------------------------------------------------------------------
// Look-ups the inbound checks need (sdk.md §5 rows 3, 6, 8, 9, 11)

/** Status of a message referenced by refToMessageId, as far as this MT knows it. */
export type ReferencedMessageState = 'rejected' | 'known' | 'unknown';

export interface InboundLookups {
  /** Row 9: is the function address one of ours (address book / local copy)? */
  isKnownFunctionAddress(address: FunctionAddress): Promise<boolean>;
  /** Row 6: did we already receive this messageId from this sender? */
  isDuplicateMessage(sender: ParticipantId, messageId: MessageId): Promise<boolean>;
  /** Rows 7 and 11: what do we know about the message a reply refers to? */
  referencedMessageState(messageId: MessageId): Promise<ReferencedMessageState>;
  /** Row 8: our attachment policy (every participant must accept application/pdf). */
  isSupportedContentType(contentType: string): boolean;
  /** Row 3: malware scan of one decoded attachment; absent = no scanner configured. */
  scanAttachment?(file: { fileName: string; contentType: string; content: Uint8Array }): Promise<'clean' | 'infected'>;
}

// ---------------------------------------------------------------------------------------------------------
// SDK Adressbok (sdk.md §3): the local read copy of the national address book (adapters/sdk/address-book)

/** The organisation the national address book lists a function address under. */
export interface AddressBookOrganisation {
  participantId: string;
  organizationNumber: string;
  name: string;
}

/**
 * Look-ups in the local read copy. Function addresses are compared exactly (sdk.md §2, §14.14). Without any
 * copy (never downloaded, none stored) the answer is unknown: the promise rejects with the AppError code
 * `ADDRESS_BOOK_UNAVAILABLE` (503, retryable) rather than answering "not listed".
 */
export interface AddressBookLookup {
  organisationOf(address: string): Promise<AddressBookOrganisation | undefined>;
}

/** The state of the local copy, for the administrator (GET /v1/admin/sdk/address-book). */
export interface AddressBookCopyStatus {
  fetchedAt?: Date;
  lastAttemptAt?: Date;
  /** Error code of the last failed refresh, until a refresh succeeds. */
  lastError?: string;
  addresses: number;
  organisations: number;
  /** No copy, or one older than the stale limit. */
  stale: boolean;
}

/** Which of our own function addresses the national book lacks (issue 7: what an administrator must see). */
export interface OwnAddressReport {
  checkedAt: Date;
  copyFetchedAt: Date;
  missing: string[];
  registeredElsewhere: Array<{ identifier: string; organisation: AddressBookOrganisation }>;
  present: string[];
}

export interface AddressBookAdministration extends AddressBookLookup {
  status(): AddressBookCopyStatus;
  /** Rejects with ADDRESS_BOOK_UNAVAILABLE without any copy. */
  missingOwnAddresses(): Promise<OwnAddressReport>;
  /** Download the national book now (a failure keeps the previous copy and shows in status().lastError). */
  refresh(): Promise<{ ok: boolean; error?: string }>;
  /** Where the copy comes from (ADDRESS_BOOK_URL). */
  readonly source: string;
}
