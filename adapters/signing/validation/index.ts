// Signature validation adapter: ../shared/specs/signing.md §9 (validation of received signatures).
// Detects the container, validates every signature and returns the §9.3 report. Offline by default:
// CRLs are inputs; a CrlFetcher is used only if the composition root supplies one (§13 item 45).
import { createHash } from 'node:crypto';
import type { DocumentValidationReport, SignatureReport } from '../../../src/domain/signing.js';
import { documentVerdict, REASON_TEXT, VALIDATION_POLICY_ID, VALIDATOR_VERSION } from '../../../src/domain/signing.js';
import type { CrlFetcher, SignatureValidator, ValidateSignaturesInput } from '../../../src/ports/signing.port.js';
import { validateCmsSignatures } from './cms.validator.js';
import { isPdf, validatePdfSignatures } from './pdf.validator.js';
import { parseCertificates, parseCrls, type TrustContext } from './pki.js';
import { formatFailure } from './report.js';
import { validateXmlSignatures } from './xml.validator.js';

export interface SignatureValidatorOptions {
  /** Trusted CA certificates: PEM bundles or DER. Never taken from the document (§9.2 step 3). */
  trustAnchors: ReadonlyArray<string | Uint8Array>;
  /** CRLs (PEM or DER) to use for revocation checks. */
  crls?: ReadonlyArray<string | Uint8Array>;
  /** Optional CRL download by distribution-point URL; the function enforces its own allowlist. */
  crlFetcher?: CrlFetcher;
  /** Default `require`: a signer certificate without revocation information is TRY_LATER. */
  revocation?: 'require' | 'if-available';
  /** Largest accepted document in bytes (default 20 MiB). */
  maxBytes?: number;
}

export type DocumentFormat = DocumentValidationReport['documentFormat'];

/** Sniff the container: PDF header, XML markup, or CMS (DER SEQUENCE / PEM). */
export function detectFormat(bytes: Uint8Array): DocumentFormat {
  if (isPdf(bytes)) return 'pdf';
  const head = Buffer.from(bytes.subarray(0, 512)).toString('latin1').replace(/^\uFEFF|^\xEF\xBB\xBF/, '').trimStart();
  if (head.startsWith('-----BEGIN PKCS7') || head.startsWith('-----BEGIN CMS')) return 'cms';
  if (head.startsWith('<')) return 'xml';
  if (bytes[0] === 0x30) return 'cms';
  return 'unknown';
}

export function buildTrustContext(opts: SignatureValidatorOptions): TrustContext {
  return {
    anchors: opts.trustAnchors.flatMap((a) => parseCertificates(a)),
    crls: (opts.crls ?? []).flatMap((c) => parseCrls(c)),
    ...(opts.crlFetcher ? { crlFetcher: opts.crlFetcher } : {}),
    revocation: opts.revocation ?? 'require',
  };
}

/** Validate all signatures in one document. Never throws for bad input: the report says what is wrong. */
export async function validateSignatures(input: ValidateSignaturesInput, opts: SignatureValidatorOptions, trust: TrustContext = buildTrustContext(opts)): Promise<DocumentValidationReport> {
  const at = input.at ?? new Date();
  const documentFormat = detectFormat(input.document);
  const maxBytes = opts.maxBytes ?? 20 * 1024 * 1024;
  let signatures: SignatureReport[];
  if (input.document.length > maxBytes) {
    signatures = [formatFailure('document', 'CMS', `document larger than ${maxBytes} bytes`)];
  } else if (documentFormat === 'xml') {
    signatures = await validateXmlSignatures(input.document, { trust, at, limits: { maxBytes }, ...(input.detachedContent ? { detachedContent: input.detachedContent } : {}) });
  } else if (documentFormat === 'pdf') {
    signatures = await validatePdfSignatures(input.document, { trust, at });
  } else if (documentFormat === 'cms') {
    signatures = await validateCmsSignatures(input.document, { trust, at, ...(input.detachedContent ? { detachedContent: input.detachedContent } : {}) });
  } else {
    signatures = [];
  }
  const { verdict, reason } = documentVerdict(signatures);
  return {
    verdict,
    reason,
    reasonText: REASON_TEXT[reason],
    documentFormat,
    validatedAt: at.toISOString(),
    policy: VALIDATION_POLICY_ID,
    validatorVersion: VALIDATOR_VERSION,
    documentSha256: createHash('sha256').update(input.document).digest('hex'),
    signatures,
  };
}

/** Factory for the SignatureValidator port; the trust anchors and CRLs are parsed once. */
export function createSignatureValidator(opts: SignatureValidatorOptions): SignatureValidator {
  const trust = buildTrustContext(opts);
  return { validate: (input) => validateSignatures(input, opts, trust) };
}
