// Ports of the signing channel: ../shared/specs/signing.md §2 (central signing flow), §6.4 (organisation
// seal), §9 (validation). The core owns these interfaces; adapters/signing implements them.
import type { DocumentValidationReport, PersonalIdentityNumber } from '../domain/signing.js';

// ---------------------------------------------------------------------------------------------------------
// Validation (§9)

export interface ValidateSignaturesInput {
  /** The signed file exactly as received: XML, PDF or CMS (DER or PEM). */
  document: Uint8Array;
  /** Content of a detached signature (CMS .p7s, detached XMLDSig/XAdES). Never fetched from a URL. */
  detachedContent?: Uint8Array;
  /** Validation time; defaults to now. */
  at?: Date;
}

/** Validates every signature in a document into a report (§9.3). Never throws for a bad signature. */
export interface SignatureValidator {
  validate(input: ValidateSignaturesInput): Promise<DocumentValidationReport>;
}

/** Fetches a CRL by URL. The implementation decides which URLs are allowed (§13 item 45); null = unavailable. */
export type CrlFetcher = (url: string) => Promise<Uint8Array | null>;

// ---------------------------------------------------------------------------------------------------------
// Organisation seal (§6.4)

/** A local signing key: the organisation seal from config today, an HSM later. */
export interface SealKey {
  /** DER certificates: the seal certificate first, then its intermediates (never the root). */
  certificates: Uint8Array[];
  keyType: 'RSA' | 'EC';
  /** Sign `data` with SHA-256 (RSA PKCS#1 v1.5, or ECDSA with a DER-encoded signature). */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

export type SignableFormat = 'xml' | 'pdf' | 'cms';

export interface SealInput {
  document: Uint8Array;
  /** xml → XAdES-B-B enveloped; pdf → PAdES-B-B; cms → CAdES-B-B detached (.p7s). */
  format: SignableFormat;
  /** Claimed signing time; defaults to now. */
  signingTime?: Date;
  /** PDF only: /Reason text. */
  reason?: string;
}

export interface SealedDocument {
  format: SignableFormat;
  /** The sealed document (xml, pdf) or the detached CAdES signature (cms, DER .p7s). */
  bytes: Uint8Array;
  detached: boolean;
}

/** Seals documents Sändebud issues itself (receipts, evidence exports) with the organisation's key. */
export interface DocumentSealer {
  seal(input: SealInput): Promise<SealedDocument>;
}

// ---------------------------------------------------------------------------------------------------------
// Central signing service, DSS extension (§2–§6)

export interface DocumentToSign {
  /** Unique within the request; defaults to doc-1, doc-2, … */
  taskId?: string;
  /** Shown to the signer in the sign message. */
  title: string;
  format: SignableFormat;
  bytes: Uint8Array;
}

export interface StartSigningInput {
  /** The logged-in person (LoA3) who is to sign; becomes csig:Signer. */
  personalIdentityNumber: PersonalIdentityNumber;
  documents: DocumentToSign[];
  /** Case reference shown in the sign message (never a personnummer). */
  caseReference?: string;
  /** Tenant override of the SAML IdP that must authenticate the signer. */
  identityProvider?: string;
  certType?: 'PKC' | 'QC' | 'QC/SSCD';
  now?: Date;
}

/** The auto-submitting POST to the signing service (§4). */
export interface SignServiceForm {
  action: string;
  fields: { Binding: string; RelayState: string; EidSignRequest: string };
}

/** What Sändebud must keep server-side between start and complete, keyed by requestId (§6). JSON-safe. */
export interface PendingSignRequest {
  requestId: string;
  requestTime: string;
  version: string;
  personalIdentityNumber: string;
  identityProvider: string;
  signService: string;
  audience: string;
  acceptedLoa: string[];
  certType: 'PKC' | 'QC' | 'QC/SSCD';
  /** UTF-8 sign message text, kept to check signMessageDigest (§5.3 step 9). */
  signMessage: string;
  tasks: PendingSignTask[];
}

export type PendingSignTask =
  | {
      taskId: string;
      title: string;
      format: 'xml';
      /** Base64 of the original XML document. */
      document: string;
      signatureId: string;
      /** Base64 of the exc-c14n SignedInfo we sent. */
      toBeSignedBytes: string;
    }
  | {
      taskId: string;
      title: string;
      format: 'pdf';
      /** Base64 of the prepared PDF (placeholder + ByteRange written): embedding happens into these bytes. */
      preparedPdf: string;
      byteRange: [number, number, number, number];
      /** Base64 DER SignedAttrs (SET OF) we sent. */
      toBeSignedBytes: string;
    }
  | {
      taskId: string;
      title: string;
      format: 'cms';
      /** SHA-256 (base64) of the content; the content itself is not needed to build a detached .p7s. */
      contentSha256: string;
      toBeSignedBytes: string;
    };

export interface StartedSigning {
  requestId: string;
  form: SignServiceForm;
  pending: PendingSignRequest;
}

export interface CompleteSigningInput {
  /** The fields the browser posted to our response URL (Binding, RelayState, EidSignResponse). */
  form: Record<string, string | undefined>;
  pending: PendingSignRequest;
  /** The logged-in user at the time of the response (§4: re-check the user). */
  personalIdentityNumber: PersonalIdentityNumber;
  /** Original content of every cms task, by taskId: needed to validate the detached .p7s (§5.3 step 13). */
  contents?: Record<string, Uint8Array>;
  now?: Date;
}

export interface SignedDocumentResult {
  taskId: string;
  title: string;
  format: SignableFormat;
  /** Signed document (xml, pdf) or detached CAdES .p7s (cms). */
  bytes: Uint8Array;
  detached: boolean;
  /** Our own validation of the assembled result (§5.3 step 13). */
  report: DocumentValidationReport;
}

export interface CompletedSigning {
  requestId: string;
  signer: { personalIdentityNumber: PersonalIdentityNumber; givenName?: string; surname?: string; displayName?: string };
  identityProvider: string;
  loa: string;
  authnInstant: string;
  documents: SignedDocumentResult[];
}

/**
 * The central signing service (Sweden Connect DSS extension). `start` builds the signed SignRequest;
 * `complete` verifies the SignResponse (§5.3) and assembles the signed documents (§6). Failures throw
 * AppError with a code from SIGNING_ERROR_CODES.
 */
export interface CentralSigningService {
  start(input: StartSigningInput): Promise<StartedSigning>;
  complete(input: CompleteSigningInput): Promise<CompletedSigning>;
}
