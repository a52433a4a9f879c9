// sdk.md §8 (AS4 transport essentials): namespaces, algorithm URIs and ebMS error codes of the built-in AS4
// access point, in one place so that the builder, the verifier and the tests agree on every URI.

export const AS4_NS = {
  soap12: 'http://www.w3.org/2003/05/soap-envelope',
  eb: 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsse11: 'http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  ec: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  ebbp: 'http://docs.oasis-open.org/ebxml-bp/ebbp-signals-2.0',
  xml: 'http://www.w3.org/XML/1998/namespace',
} as const;

export const WSS = {
  x509v3: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3',
  base64Binary: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary',
  /** SwA profile 1.1: digest of the attachment content (MIME headers excluded). */
  attachmentContentTransform: 'http://docs.oasis-open.org/wss/oasis-wss-SwAProfile-1.1#Attachment-Content-Signature-Transform',
} as const;

export const DSIG = {
  excC14n: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  rsaSha512: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  ecdsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
  ecdsaSha512: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  sha512: 'http://www.w3.org/2001/04/xmlenc#sha512',
} as const;

/** Signature algorithms accepted inbound (dependencies.md XML rule 8): RSA or ECDSA with SHA-256/512. */
export const SIGNATURE_METHODS: Readonly<Record<string, { hash: 'sha256' | 'sha512'; ecdsa: boolean }>> = {
  [DSIG.rsaSha256]: { hash: 'sha256', ecdsa: false },
  [DSIG.rsaSha512]: { hash: 'sha512', ecdsa: false },
  [DSIG.ecdsaSha256]: { hash: 'sha256', ecdsa: true },
  [DSIG.ecdsaSha512]: { hash: 'sha512', ecdsa: true },
};

/** Digest algorithms accepted inbound: SHA-256 and SHA-512 only (no SHA-1). */
export const DIGEST_METHODS: Readonly<Record<string, 'sha256' | 'sha512'>> = {
  [DSIG.sha256]: 'sha256',
  [DSIG.sha512]: 'sha512',
};

export const SOAP12_CONTENT_TYPE = 'application/soap+xml';
export const GZIP_MIME = 'application/gzip';

/**
 * ebMS 3.0 error codes we raise (Core §6.7) and the AS4 ones (AS4 profile §5.2). `EBMS:0004` with detail
 * NOT_SERVICED is the eDelivery way to refuse a participant the AP does not serve (sdk.md §8).
 */
export const EBMS_ERRORS = {
  valueNotRecognized: { code: 'EBMS:0001', short: 'ValueNotRecognized', category: 'Content' },
  featureNotSupported: { code: 'EBMS:0002', short: 'FeatureNotSupported', category: 'Content' },
  valueInconsistent: { code: 'EBMS:0003', short: 'ValueInconsistent', category: 'Content' },
  other: { code: 'EBMS:0004', short: 'Other', category: 'Content' },
  connectionFailure: { code: 'EBMS:0005', short: 'ConnectionFailure', category: 'Communication' },
  invalidHeader: { code: 'EBMS:0009', short: 'InvalidHeader', category: 'Unpackaging' },
  processingModeMismatch: { code: 'EBMS:0010', short: 'ProcessingModeMismatch', category: 'Processing' },
  externalPayloadError: { code: 'EBMS:0011', short: 'ExternalPayloadError', category: 'Content' },
  failedAuthentication: { code: 'EBMS:0101', short: 'FailedAuthentication', category: 'Processing' },
  policyNoncompliance: { code: 'EBMS:0103', short: 'PolicyNoncompliance', category: 'Processing' },
  missingReceipt: { code: 'EBMS:0301', short: 'MissingReceipt', category: 'Communication' },
  invalidReceipt: { code: 'EBMS:0302', short: 'InvalidReceipt', category: 'Communication' },
  decompressionFailure: { code: 'EBMS:0303', short: 'DecompressionFailure', category: 'Communication' },
} as const;

export type EbmsErrorKind = keyof typeof EBMS_ERRORS;

/**
 * The errorCode of the status event raised when the recipient's SDK message receipt (meddelandekvittens)
 * does not arrive within the configured time after the AS4 receipt (sdk.md §10/§16.25).
 */
export const MESSAGE_EXCHANGE_ERROR = 'MESSAGE_EXCHANGE_ERROR';
