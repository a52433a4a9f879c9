// Building per-signature reports the same way for every format: ../shared/specs/signing.md §9.3.
import type { Coverage, RevocationInfo, SignatureFormat, SignatureReport, SignedAtInfo, ValidationReason } from '../../../src/domain/signing.js';
import { verdictFor } from '../../../src/domain/signing.js';

/** Everything of a signature report except the verdict, which buildReport derives from the reason. */
export type ReportParts = Omit<SignatureReport, 'status' | 'reason' | 'reasonText' | 'detail' | 'etsi'>;

export const NO_TIME: SignedAtInfo = { claimed: null, proven: null, source: null, timestamped: false };
export const UNKNOWN_REVOCATION: RevocationInfo = { status: 'unknown', source: null };
export const NOTHING_COVERED: Coverage = { wholeDocument: false, parts: [] };

export function buildReport(parts: ReportParts, reason: ValidationReason, detail?: string): SignatureReport {
  return {
    id: parts.id,
    ...verdictFor(reason),
    ...(detail ? { detail } : {}),
    format: parts.format,
    level: parts.level,
    signer: parts.signer,
    ...(parts.authContext ? { authContext: parts.authContext } : {}),
    signedAt: parts.signedAt,
    chain: parts.chain,
    revocation: parts.revocation,
    algorithms: parts.algorithms,
    covers: parts.covers,
  };
}

/** A report for a signature (or document) that could not even be read. */
export function formatFailure(id: string, format: SignatureFormat, detail: string): SignatureReport {
  return buildReport(
    { id, format, level: 'none', signer: null, signedAt: NO_TIME, chain: [], revocation: UNKNOWN_REVOCATION, algorithms: {}, covers: NOTHING_COVERED },
    'FORMAT_FAILURE',
    detail,
  );
}
