// Response shapes of the signing API (contracts/api/parts/signing.yaml). Fields are allow-listed
// (style.md: a new stored field is never exposed by default); the personnummer of a named signer is shown
// masked, as the caller already knows it.
import type { DocumentValidationReport } from '../../domain/signing.js';
import type { SigningRequestRecord, ValidationRecord } from '../../ports/signing-store.port.js';
import { SIGNATURE_FORMAT } from '../../use-cases/signing/signing-input.js';

const maskPnr = (pnr: string): string => `${pnr.slice(0, 8)}****`;

const SIGNED_CONTENT_TYPE = { pdf: 'application/pdf', cms: 'application/pkcs7-signature' } as const;

/** The short form of a report (the full one is the validation evidence at validationUrl). */
export function reportSummary(r: DocumentValidationReport): Record<string, unknown> {
  return {
    verdict: r.verdict, reason: r.reason, reasonText: r.reasonText, validatedAt: r.validatedAt, validatorVersion: r.validatorVersion,
    signatures: r.signatures.map((s) => ({
      id: s.id, status: s.status, reason: s.reason, format: s.format, level: s.level,
      signer: s.signer ? { commonName: s.signer.commonName ?? null, givenName: s.signer.givenName ?? null, surname: s.signer.surname ?? null } : null,
      signedAt: s.signedAt,
    })),
  };
}

export function signingRequestView(r: SigningRequestRecord, signUrl: string): Record<string, unknown> {
  return {
    id: r.id,
    status: r.status,
    statusUrl: `/v1/signing/requests/${r.id}`,
    signUrl: r.status === 'PENDING' ? signUrl : null,
    signer: { personalIdentityNumber: maskPnr(r.signerPnr) },
    signMessage: r.signMessage,
    caseReference: r.caseReference,
    document: { contentType: r.contentType, format: r.format, signatureFormat: SIGNATURE_FORMAT[r.format], sha256: r.documentSha256 },
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    expiresAt: r.expiresAt.toISOString(),
    error: r.errorCode ? { code: r.errorCode, message: r.errorMessage ?? null } : null,
    result: r.status === 'SIGNED' && r.signedDocument && r.report
      ? {
          signedAt: r.signedAt?.toISOString() ?? null,
          signer: r.signerInfo ? { givenName: r.signerInfo.givenName ?? null, surname: r.signerInfo.surname ?? null, displayName: r.signerInfo.displayName ?? null, loa: r.signerInfo.loa, identityProvider: r.signerInfo.identityProvider, authnInstant: r.signerInfo.authnInstant } : null,
          document: {
            content: r.signedDocument.toString('base64'),
            contentType: r.format === 'xml' ? r.contentType : SIGNED_CONTENT_TYPE[r.format],
            detached: r.signedDetached ?? false,
            sha256: r.report.documentSha256,
          },
          report: reportSummary(r.report),
          validationId: r.validationId,
          validationUrl: r.validationId ? `/v1/signing/validations/${r.validationId}` : null,
        }
      : null,
  };
}

export function validationView(v: ValidationRecord): Record<string, unknown> {
  return {
    id: v.id,
    source: v.source,
    signingRequestId: v.signingRequestId,
    documentSha256: v.documentSha256,
    detachedContentSha256: v.detachedContentSha256,
    documentFormat: v.documentFormat,
    verdict: v.verdict,
    reason: v.reason,
    validatorVersion: v.validatorVersion,
    policy: v.policy,
    validatedAt: v.validatedAt.toISOString(),
    keptAt: v.createdAt.toISOString(),
    evidenceUrl: `/v1/signing/validations/${v.id}/evidence`,
    report: v.report,
  };
}
