// sdk.md §2 (identifiers), §4 (message namespace), §6 (XHE), §7 (crypto URIs), §9 (receipt), §11 (size limits).
// Protocol constants in one place so that builders, validators and tests agree on every URI.

export const NS = {
  /** SDK message `urn:riv:infrastructure:messaging:MessageWithAttachments:3`. */
  message: 'urn:riv:infrastructure:messaging:MessageWithAttachments:3',
  xhe: 'http://docs.oasis-open.org/bdxr/ns/XHE/1/ExchangeHeaderEnvelope',
  xha: 'http://docs.oasis-open.org/bdxr/ns/XHE/1/AggregateComponents',
  xhb: 'http://docs.oasis-open.org/bdxr/ns/XHE/1/BasicComponents',
  xhext: 'http://docs.oasis-open.org/bdxr/ns/XHE/1/ExtensionComponents',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  xenc: 'http://www.w3.org/2001/04/xmlenc#',
  app: 'urn:oasis:names:specification:ubl:schema:xsd:ApplicationResponse-2',
  cac: 'urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2',
  cbc: 'urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2',
  ublext: 'urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2',
} as const;

/** Root `subOrganization/organizationId/root` of a function address. */
export const FUNCTION_ADDRESS_ROOT = 'urn:riv:infrastructure:messaging:functionalAddress';

export const XHE_VERSION = '1.0';
export const XHE_CUSTOMIZATION_ID = 'urn:fdc:digg.se:edelivery:xhe:1';

/** Transport model suffixes (sdk.md §1): only Utökad Bas (signed + encrypted) is used in the SDK federation. */
export const TRANSPORT_MODEL = { base: 'tm-base', extSigEnc: 'tm-base-ext-sigenc' } as const;

export const DOCUMENT_ID_SCHEME = 'busdox-docid-qns';
export const MESSAGE_DOCUMENT_ID_BASE = 'urn:riv:infrastructure:messaging:MessageWithAttachments:3::messagePayload##3.0';
export const MESSAGE_DOCUMENT_ID = `${MESSAGE_DOCUMENT_ID_BASE}::${TRANSPORT_MODEL.extSigEnc}`;
export const RECEIPT_DOCUMENT_ID_BASE =
  'urn:oasis:names:specification:ubl:schema:xsd:ApplicationResponse-2::ApplicationResponse##fdc:digg.se:edelivery:messagetype:response:1::2.1';
export const RECEIPT_DOCUMENT_ID = `${RECEIPT_DOCUMENT_ID_BASE}::${TRANSPORT_MODEL.extSigEnc}`;

export const PROCESS_ID = 'bdx:noprocess';
export const PROCESS_ID_SCHEME = 'urn:fdc:digg.se:edelivery:process';

export const FEDERATION_ID = {
  sdk: 'urn:fdc:digg.se:edelivery:federation:sdk',
  test: 'urn:fdc:digg.se:edelivery:federation:test',
} as const;

/** XHE payload DocumentTypeCode = EQName of the payload root. */
export const MESSAGE_DOCUMENT_TYPE_CODE = `Q{${NS.message}}messagePayload`;
export const RECEIPT_DOCUMENT_TYPE_CODE = `Q{${NS.app}}ApplicationResponse`;

export const RECEIPT_CUSTOMIZATION_ID = 'urn:fdc:digg.se:edelivery:messagetype:response:1';
export const RECEIPT_PROFILE_ID = 'bdx:noprocess';

/** XML Encryption / Signature algorithm URIs (sdk.md §7). */
export const ALG = {
  aes256cbc: 'http://www.w3.org/2001/04/xmlenc#aes256-cbc',
  rsaOaepMgf1p: 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
  sha1: 'http://www.w3.org/2000/09/xmldsig#sha1',
  encTypeElement: 'http://www.w3.org/2001/04/xmlenc#Element',
  encTypeContent: 'http://www.w3.org/2001/04/xmlenc#Content',
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  rsaSha512: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  sha512: 'http://www.w3.org/2001/04/xmlenc#sha512',
  envelopedSignature: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
  c14n: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
  excC14n: 'http://www.w3.org/2001/10/xml-exc-c14n#',
} as const;

/**
 * Size limits (sdk.md §11). "MB" is undefined in the sources, so we are strict on send
 * (30 000 000 bytes of serialized payload XML) and lenient on receive (30 MiB).
 */
export const SDK_LIMITS = {
  maxOutboundPayloadBytes: 30_000_000,
  maxInboundPayloadBytes: 31_457_280,
  /**
   * An encrypted XHE carries the payload as base64 (×4/3) plus the envelope; twice the payload limit
   * leaves room for line-wrapped base64 and headers while still refusing absurd bodies early.
   */
  maxInboundEnvelopeBytes: 2 * 31_457_280,
  maxLabelLength: 256,
} as const;
