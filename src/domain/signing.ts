// Signing and validation domain: ../shared/specs/signing.md §9.3 (report), §5.2 (result codes), §7 (LoA), §8 (serialNumber).
// Pure types and rules; no I/O. Adapters fill these shapes, the API and CLI print them.

/** Verdict per signature and per document (§9.3). `indeterminate` is never shown as valid. */
export type SignatureStatus = 'valid' | 'invalid' | 'indeterminate';

/** Container format of one signature (§9.3 `format`). XMLDSig/PDF/CMS = no AdES properties found. */
export type SignatureFormat = 'XAdES' | 'XMLDSig' | 'PAdES' | 'PDF' | 'CAdES' | 'CMS';

/** AdES baseline level (§9.1). Central signing services produce B-B; plain XMLDSig/adbe PDF is `none`. */
export type SignatureLevel = 'B-B' | 'B-T' | 'B-LT' | 'B-LTA' | 'none';

/**
 * Reason codes: the ETSI EN 319 102-1 sub-indication names we use, plus Sweden Connect's PARTIALLY_SIGNED
 * and TOTAL_PASSED for a valid signature. `reason` in a report is one of these (§9.3 table).
 */
export const VALIDATION_REASONS = [
  'TOTAL_PASSED',
  'FORMAT_FAILURE',
  'HASH_FAILURE',
  'SIG_CRYPTO_FAILURE',
  'NO_SIGNING_CERTIFICATE_FOUND',
  'NO_CERTIFICATE_CHAIN_FOUND',
  'CERTIFICATE_CHAIN_GENERAL_FAILURE',
  'CHAIN_CONSTRAINTS_FAILURE',
  'OUT_OF_BOUNDS_NO_POE',
  'NOT_YET_VALID',
  'REVOKED_NO_POE',
  'REVOKED_CA_NO_POE',
  'TRY_LATER',
  'CRYPTO_CONSTRAINTS_FAILURE_NO_POE',
  'SIGNED_DATA_NOT_FOUND',
  'PARTIALLY_SIGNED',
  'NO_SIGNATURE_FOUND',
] as const;
export type ValidationReason = (typeof VALIDATION_REASONS)[number];

/** Which verdict each reason leads to (§9.2 grouping, §9.3 table). */
export const REASON_STATUS: Readonly<Record<ValidationReason, SignatureStatus>> = {
  TOTAL_PASSED: 'valid',
  FORMAT_FAILURE: 'invalid',
  HASH_FAILURE: 'invalid',
  SIG_CRYPTO_FAILURE: 'invalid',
  NO_SIGNING_CERTIFICATE_FOUND: 'indeterminate',
  NO_CERTIFICATE_CHAIN_FOUND: 'indeterminate',
  CERTIFICATE_CHAIN_GENERAL_FAILURE: 'indeterminate',
  CHAIN_CONSTRAINTS_FAILURE: 'indeterminate',
  OUT_OF_BOUNDS_NO_POE: 'indeterminate',
  NOT_YET_VALID: 'indeterminate',
  REVOKED_NO_POE: 'indeterminate',
  REVOKED_CA_NO_POE: 'indeterminate',
  TRY_LATER: 'indeterminate',
  CRYPTO_CONSTRAINTS_FAILURE_NO_POE: 'indeterminate',
  SIGNED_DATA_NOT_FOUND: 'indeterminate',
  PARTIALLY_SIGNED: 'indeterminate',
  NO_SIGNATURE_FOUND: 'indeterminate',
};

/** Plain-language sentences per reason (§9.3: every verdict carries a Swedish and an English sentence). */
export const REASON_TEXT: Readonly<Record<ValidationReason, { sv: string; en: string }>> = {
  TOTAL_PASSED: { sv: 'Signaturen är giltig.', en: 'The signature is valid.' },
  FORMAT_FAILURE: { sv: 'Signaturen eller dokumentet har ett otillåtet format.', en: 'The signature or document is malformed or uses a forbidden construct.' },
  HASH_FAILURE: { sv: 'Dokumentet har ändrats efter underskrift.', en: 'The document was changed after it was signed.' },
  SIG_CRYPTO_FAILURE: { sv: 'Signaturvärdet stämmer inte med certifikatet.', en: 'The signature value does not verify with the certificate.' },
  NO_SIGNING_CERTIFICATE_FOUND: { sv: 'Det går inte att avgöra vilket certifikat som skrev under.', en: 'The signing certificate could not be identified.' },
  NO_CERTIFICATE_CHAIN_FOUND: { sv: 'Certifikatet kan inte knytas till en betrodd utfärdare.', en: 'The certificate does not chain to a trusted issuer.' },
  CERTIFICATE_CHAIN_GENERAL_FAILURE: { sv: 'Certifikatkedjan kunde inte kontrolleras.', en: 'The certificate chain could not be checked.' },
  CHAIN_CONSTRAINTS_FAILURE: { sv: 'Ett certifikat i kedjan får inte användas så här.', en: 'A certificate in the chain is not allowed to be used this way.' },
  OUT_OF_BOUNDS_NO_POE: {
    sv: 'Certifikatet hade gått ut och det finns inget bevis på att underskriften gjordes innan dess.',
    en: 'The certificate has expired and there is no proof that the signature was made before that.',
  },
  NOT_YET_VALID: { sv: 'Certifikatet är ännu inte giltigt.', en: 'The certificate is not yet valid.' },
  REVOKED_NO_POE: { sv: 'Certifikatet är spärrat.', en: 'The certificate has been revoked.' },
  REVOKED_CA_NO_POE: { sv: 'En utfärdare i certifikatkedjan är spärrad.', en: 'An issuing CA in the chain has been revoked.' },
  TRY_LATER: { sv: 'Spärrstatus kunde inte hämtas; försök igen senare.', en: 'Revocation status is not available; try again later.' },
  CRYPTO_CONSTRAINTS_FAILURE_NO_POE: { sv: 'Signaturen använder en för svag algoritm eller nyckel.', en: 'The signature uses an algorithm or key that is too weak.' },
  SIGNED_DATA_NOT_FOUND: { sv: 'Det underskrivna innehållet saknas.', en: 'The signed content is missing.' },
  PARTIALLY_SIGNED: { sv: 'Underskriften täcker bara en del av dokumentet.', en: 'The signature covers only part of the document.' },
  NO_SIGNATURE_FOUND: { sv: 'Dokumentet innehåller ingen underskrift.', en: 'The document contains no signature.' },
};

export interface SignerInfo {
  commonName?: string;
  givenName?: string;
  surname?: string;
  /** Subject serialNumber (2.5.4.5) as written in the certificate; masked in logs by the redactor. */
  serialNumber?: string;
  /** Normalised personnummer/samordningsnummer when serialNumber is one (verbatim or PNOSE-, §8). */
  personnummer?: string;
  /** Subject O. */
  organisation?: string;
  /** Subject organizationIdentifier (2.5.4.97), e.g. NTRSE-2120000000. */
  organisationIdentifier?: string;
  /** Swedish organisation number from organizationIdentifier (NTRSE-…). */
  orgNumber?: string;
  /** Issuer DN of the signing certificate. */
  issuer?: string;
  certSerial?: string;
  certSha256?: string;
  keyUsage?: string[];
  /** Carries QC statements (qualified certificate). */
  qualified?: boolean;
}

/** RFC 7773 Authentication Context extension of a central-signing certificate (§8). */
export interface AuthContextInfo {
  idp?: string;
  loa?: string;
  authnInstant?: string;
  assertionRef?: string;
  serviceId?: string;
}

export interface SignedAtInfo {
  /** Time the signature claims (XAdES SigningTime, CMS signing-time, PDF /M): a claim, not evidence. */
  claimed: string | null;
  /** Best signature time proven by a verified POE (time-stamp, SVT, receipt); null when there is none. */
  proven: string | null;
  source: 'timestamp' | 'svt' | 'receipt' | null;
  /** A signature time-stamp is present (whether or not it could be verified). */
  timestamped: boolean;
}

export interface ChainEntry {
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  sha256: string;
  /** This certificate is one of the configured trust anchors. */
  trustAnchor: boolean;
}

export interface RevocationInfo {
  status: 'good' | 'revoked' | 'unknown';
  source: 'CRL' | 'OCSP' | null;
  thisUpdate?: string;
  nextUpdate?: string;
  revocationTime?: string;
  reason?: string;
  /** Which certificate was revoked or could not be checked, when it was not the signer's. */
  detail?: string;
}

export type CoveredPart =
  | { type: 'xml-reference'; uri: string; element?: string; whole: boolean; signedProperties?: boolean }
  | { type: 'byte-range'; ranges: Array<[number, number]>; revisionEnd: number }
  | { type: 'content'; attached: boolean; length: number };

export interface Coverage {
  /** The signature covers the whole document (XML: URI="" or the root element; PDF: up to EOF; CMS: the content). */
  wholeDocument: boolean;
  parts: CoveredPart[];
  /** SHA-256 (hex) of the signed content where it is a single byte string (CMS content, PDF ranges). */
  signedContentSha256?: string;
}

export interface SignatureReport {
  /** Position-based id: `sig-1`, `sig-2`… or the signature's own Id attribute. */
  id: string;
  status: SignatureStatus;
  /** Sub-indication name (§9.3), e.g. HASH_FAILURE; TOTAL_PASSED when valid. */
  reason: ValidationReason;
  reasonText: { sv: string; en: string };
  /** Technical detail in English for operators (never a personnummer or key material). */
  detail?: string;
  etsi: { main: 'TOTAL_PASSED' | 'TOTAL_FAILED' | 'INDETERMINATE'; sub: string[] };
  format: SignatureFormat;
  level: SignatureLevel;
  signer: SignerInfo | null;
  authContext?: AuthContextInfo;
  signedAt: SignedAtInfo;
  chain: ChainEntry[];
  revocation: RevocationInfo;
  algorithms: { signature?: string; digest?: string };
  covers: Coverage;
}

export interface DocumentValidationReport {
  verdict: SignatureStatus;
  reason: ValidationReason;
  reasonText: { sv: string; en: string };
  /** Detected container: xml, pdf or cms (CMS/PKCS#7 DER or PEM). */
  documentFormat: 'xml' | 'pdf' | 'cms' | 'unknown';
  validatedAt: string;
  policy: string;
  validatorVersion: string;
  documentSha256: string;
  signatures: SignatureReport[];
}

export const VALIDATION_POLICY_ID = 'urn:sandebud:sigval-policy:pkix:1';
export const VALIDATOR_VERSION = 'sandebud-sigval/1';

const ETSI_MAIN: Record<SignatureStatus, SignatureReport['etsi']['main']> = {
  valid: 'TOTAL_PASSED',
  invalid: 'TOTAL_FAILED',
  indeterminate: 'INDETERMINATE',
};

/** Status, texts and ETSI indication for a reason, so every report is filled the same way. */
export function verdictFor(reason: ValidationReason): Pick<SignatureReport, 'status' | 'reason' | 'reasonText' | 'etsi'> {
  const status = REASON_STATUS[reason];
  // PARTIALLY_SIGNED is Sweden Connect's sub-indication, attached to crypto/PKIX success (§9.2).
  const sub = reason === 'TOTAL_PASSED' ? [] : reason === 'PARTIALLY_SIGNED' ? ['http://id.swedenconnect.se/sigval-report/subindication/partially-signed'] : [`urn:etsi:019102:subindication:${reason}`];
  return { status, reason, reasonText: REASON_TEXT[reason], etsi: { main: ETSI_MAIN[status], sub } };
}

/**
 * Document verdict (§9.3): valid if there is at least one signature and all are valid; invalid if any is
 * invalid; otherwise indeterminate. The reason is the first non-passing signature's.
 */
export function documentVerdict(signatures: readonly SignatureReport[]): { verdict: SignatureStatus; reason: ValidationReason } {
  if (signatures.length === 0) return { verdict: 'indeterminate', reason: 'NO_SIGNATURE_FOUND' };
  const invalid = signatures.find((s) => s.status === 'invalid');
  if (invalid) return { verdict: 'invalid', reason: invalid.reason };
  const indeterminate = signatures.find((s) => s.status === 'indeterminate');
  if (indeterminate) return { verdict: 'indeterminate', reason: indeterminate.reason };
  return { verdict: 'valid', reason: 'TOTAL_PASSED' };
}

// ---------------------------------------------------------------------------------------------------------
// Identity rules (§8, §12 item 9)

/** Branded personnummer/samordningsnummer: 12 digits YYYYMMDDNNNC. Never log it. */
export type PersonalIdentityNumber = string & { readonly __brand: 'PersonalIdentityNumber' };

/** Luhn check over the last 10 digits, as Skatteverket defines it. */
function luhnOk(ten: string): boolean {
  let sum = 0;
  for (let i = 0; i < 10; i++) {
    let d = ten.charCodeAt(i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * Parse a 12-digit personnummer or samordningsnummer (day + 60). Returns null for anything else; the check
 * digit is verified so a typo never matches another person.
 */
export function parsePersonalIdentityNumber(value: string): PersonalIdentityNumber | null {
  if (!/^(19|20)\d{10}$/.test(value)) return null;
  const month = Number(value.slice(4, 6));
  const day = Number(value.slice(6, 8));
  if (month < 1 || month > 12) return null;
  if (!((day >= 1 && day <= 31) || (day >= 61 && day <= 91))) return null;
  if (!luhnOk(value.slice(2))) return null;
  return value as PersonalIdentityNumber;
}

/**
 * The personnummer held in a certificate's subject serialNumber: verbatim (`197802031877`) or with the
 * EN 319 412-1 semantics identifier (`PNOSE-197802031877`) (§8, §12 item 9). Null when it is not one.
 */
export function personalIdentityNumberFromSerialNumber(serialNumber: string | undefined): PersonalIdentityNumber | null {
  if (serialNumber === undefined) return null;
  const bare = serialNumber.startsWith('PNOSE-') ? serialNumber.slice('PNOSE-'.length) : serialNumber;
  return parsePersonalIdentityNumber(bare);
}

/** Organisation number from organizationIdentifier `NTRSE-<orgnr>` (EN 319 412-1). */
export function orgNumberFromOrganisationIdentifier(value: string | undefined): string | null {
  const m = value === undefined ? null : /^NTRSE-(\d{10})$/.exec(value);
  return m ? m[1]! : null;
}

// ---------------------------------------------------------------------------------------------------------
// Central signing (DSS extension) — level of assurance and result codes (§5.2, §7)

export const LOA = {
  loa2: 'http://id.elegnamnden.se/loa/1.0/loa2',
  loa3: 'http://id.elegnamnden.se/loa/1.0/loa3',
  loa4: 'http://id.elegnamnden.se/loa/1.0/loa4',
  loa3Sigmessage: 'http://id.elegnamnden.se/loa/1.0/loa3-sigmessage',
  loa4Sigmessage: 'http://id.elegnamnden.se/loa/1.0/loa4-sigmessage',
} as const;

/** What we request by default and accept (exact match, §7; never lower). */
export const DEFAULT_ACCEPTED_LOA: readonly string[] = [LOA.loa3, LOA.loa4];

/**
 * Stable error codes for a failed central-signing round trip (§5.3 "one stable error code each", §13 item 22).
 * The first group maps the service's ResultMinor; the second our own checks of the response.
 */
export const SIGNING_ERROR_CODES = {
  userCancel: 'SIGNING_USER_CANCELLED',
  requestExpired: 'SIGNING_REQUEST_EXPIRED',
  userMismatch: 'SIGNING_USER_MISMATCH',
  unsupportedLoa: 'SIGNING_UNSUPPORTED_LOA',
  sigmessageError: 'SIGNING_SIGN_MESSAGE_ERROR',
  authnFailed: 'SIGNING_AUTHN_FAILED',
  securityViolation: 'SIGNING_SECURITY_VIOLATION',
  notSupported: 'SIGNING_NOT_SUPPORTED',
  keyLookupFailed: 'SIGNING_KEY_GENERATION_FAILED',
  generalError: 'SIGNING_SERVICE_ERROR',
  // Our checks of the response (§5.3 steps 1–12).
  badForm: 'SIGNING_RESPONSE_MALFORMED',
  badSignature: 'SIGNING_RESPONSE_SIGNATURE_INVALID',
  requestIdMismatch: 'SIGNING_RESPONSE_REQUEST_MISMATCH',
  versionMismatch: 'SIGNING_RESPONSE_VERSION_MISMATCH',
  stale: 'SIGNING_RESPONSE_STALE',
  idpMismatch: 'SIGNING_RESPONSE_IDP_MISMATCH',
  loaMismatch: 'SIGNING_RESPONSE_LOA_TOO_LOW',
  signerMismatch: 'SIGNING_RESPONSE_SIGNER_MISMATCH',
  signMessageDigest: 'SIGNING_RESPONSE_SIGN_MESSAGE_MISMATCH',
  certificate: 'SIGNING_RESPONSE_CERTIFICATE_REJECTED',
  tasks: 'SIGNING_RESPONSE_TASKS_MISMATCH',
  tbsChanged: 'SIGNING_RESPONSE_DATA_CHANGED',
  assembly: 'SIGNING_ASSEMBLY_FAILED',
} as const;
export type SigningErrorCode = (typeof SIGNING_ERROR_CODES)[keyof typeof SIGNING_ERROR_CODES];
