// Persistence of the signing channel (../shared/specs/signing.md §2 flow, §5.3 "consume once", §13 item 43
// evidence). Implemented on PostgreSQL by src/store/signing.repository.ts (migration 0005). Each method that
// changes state is one transaction together with the foundation's delivery, receipt and audit rows.
import type { DocumentValidationReport } from '../domain/signing.js';
import type { SignableFormat } from './signing.port.js';

/**
 * Lifecycle of a signing request. PENDING: waiting for the signer (the sign URL works). SIGNED: final, the
 * signed document and our validation of it are stored. FAILED: final, `errorCode` names why (a SIGNING_* code).
 * EXPIRED: final, nobody signed before `expiresAt`.
 */
export type SigningRequestStatus = 'PENDING' | 'SIGNED' | 'FAILED' | 'EXPIRED';

export interface SignerDetails {
  givenName?: string;
  surname?: string;
  displayName?: string;
  loa: string;
  identityProvider: string;
  authnInstant: string;
}

export interface SigningRequestRecord {
  id: string;
  owner: string;
  status: SigningRequestStatus;
  signerPnr: string;
  signMessage: string;
  caseReference: string | null;
  contentType: string;
  format: SignableFormat;
  document: Buffer;
  documentSha256: string;
  signToken: string;
  expiresAt: Date;
  errorCode: string | null;
  errorMessage: string | null;
  signedDocument: Buffer | null;
  signedDetached: boolean | null;
  signerInfo: SignerDetails | null;
  report: DocumentValidationReport | null;
  validationId: string | null;
  signedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewSigningRequest {
  owner: string;
  idempotencyKey: string;
  requestHash: string;
  correlationId?: string;
  signerPnr: string;
  signMessage: string;
  caseReference?: string;
  contentType: string;
  format: SignableFormat;
  document: Buffer;
  documentSha256: string;
  signToken: string;
  expiresAt: Date;
}

export interface NewValidation {
  owner: string;
  source: 'api' | 'signing';
  signingRequestId?: string;
  detachedContentSha256?: string;
  report: DocumentValidationReport;
}

export interface ValidationRecord {
  id: string;
  owner: string;
  source: 'api' | 'signing';
  signingRequestId: string | null;
  documentSha256: string;
  detachedContentSha256: string | null;
  documentFormat: string;
  verdict: DocumentValidationReport['verdict'];
  reason: string;
  validatorVersion: string;
  policy: string;
  validatedAt: Date;
  report: DocumentValidationReport;
  hasSealedEvidence: boolean;
  createdAt: Date;
}

/** What consuming the attempt named by a RelayState found. */
export type ConsumeResult =
  | { kind: 'consumed'; requestId: string; pending: unknown }
  | { kind: 'already-consumed'; requestId: string }
  | { kind: 'unknown' };

export interface SignedOutcome {
  signedDocument: Buffer;
  detached: boolean;
  signerInfo: SignerDetails;
  report: DocumentValidationReport;
  /** The SignResponse exactly as received (kept as a receipt). */
  rawResponse: Buffer;
  dssRequestId: string;
  actor: string;
}

export interface FailedOutcome {
  errorCode: string;
  errorMessage: string;
  /** The SignResponse bytes when it was authentic (signed by the service), for the receipt. */
  rawResponse?: Buffer;
  dssRequestId?: string;
  actor: string;
}

export interface SigningStore {
  /** Store a PENDING request with its delivery row; the existing one for the same owner + key (409 on another body). */
  createRequest(r: NewSigningRequest): Promise<{ request: SigningRequestRecord; created: boolean }>;
  getRequest(id: string): Promise<SigningRequestRecord | undefined>;
  /** Record a SignRequest sent for a PENDING request; false when the request is no longer PENDING or has `maxAttempts` already. */
  addAttempt(requestId: string, dssRequestId: string, pending: unknown, maxAttempts: number, actor: string): Promise<'added' | 'not-pending' | 'too-many'>;
  /** Atomically mark the attempt consumed: a second call for the same RelayState never gets `consumed`. */
  consumeAttempt(dssRequestId: string): Promise<ConsumeResult>;
  /** Note the outcome of an attempt that did not change the request (unauthenticated or mismatched response). */
  noteAttemptOutcome(dssRequestId: string, outcome: string, actor: string): Promise<void>;
  /** PENDING → SIGNED with the result and its evidence row; undefined when the request was not PENDING any more. */
  markSigned(requestId: string, outcome: SignedOutcome): Promise<SigningRequestRecord | undefined>;
  /** PENDING → FAILED; undefined when the request was not PENDING any more. */
  markFailed(requestId: string, outcome: FailedOutcome): Promise<SigningRequestRecord | undefined>;
  /** PENDING → EXPIRED; undefined when it was not PENDING any more. */
  markExpired(requestId: string): Promise<SigningRequestRecord | undefined>;
  insertValidation(v: NewValidation): Promise<ValidationRecord>;
  getValidation(id: string): Promise<ValidationRecord | undefined>;
  getSealedEvidence(id: string): Promise<Buffer | undefined>;
  /** Keep the sealed export; returns the stored bytes (the first writer wins, so every caller gets the same file). */
  storeSealedEvidence(id: string, sealed: Buffer, actor: string): Promise<Buffer>;
}
