// Organisation seal of documents Sändebud issues itself (issue 8 "Organisation seal"; ../shared/specs/signing.md
// §6.4): the kept evidence of a validation, exported as our own XML and sealed XAdES-B-B (enveloped) with the
// organisation's seal key. Sealed once, on first request, and kept: every later export returns the same bytes.
import type { DocumentValidationReport } from '../../domain/signing.js';
import type { DocumentSealer } from '../../ports/signing.port.js';
import type { SigningStore, ValidationRecord } from '../../ports/signing-store.port.js';

export const EVIDENCE_NS = 'urn:sandebud:signing:evidence:1';

export interface SealEvidenceDeps {
  store: SigningStore;
  sealer: DocumentSealer;
  organisation: { name: string; organisationNumber: string };
  clock?: () => Date;
}

// XML 1.0 cannot carry most control characters even escaped; certificate names are not trusted to be clean.
// eslint-disable-next-line no-control-regex
const INVALID_XML_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;
const esc = (v: unknown): string =>
  String(v).replace(INVALID_XML_CHARS, '\ufffd').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const el = (name: string, value: unknown, attrs = ''): string => (value === undefined || value === null ? '' : `<ev:${name}${attrs}>${esc(value)}</ev:${name}>`);

function signaturesXml(report: DocumentValidationReport): string {
  return report.signatures
    .map((s) => {
      const signer = s.signer
        ? `<ev:Signer>${el('CommonName', s.signer.commonName)}${el('GivenName', s.signer.givenName)}${el('Surname', s.signer.surname)}` +
          `${el('PersonalIdentityNumber', s.signer.personnummer)}${el('Organisation', s.signer.organisation)}${el('OrganisationNumber', s.signer.orgNumber)}` +
          `${el('Issuer', s.signer.issuer)}${el('CertificateSha256', s.signer.certSha256)}</ev:Signer>`
        : '';
      const chain = s.chain.map((c) => `<ev:Certificate trustAnchor="${c.trustAnchor}">${el('Subject', c.subject)}${el('Sha256', c.sha256)}</ev:Certificate>`).join('');
      return (
        `<ev:Signature ref="${esc(s.id)}">${el('Status', s.status)}${el('Reason', s.reason)}${el('Format', s.format)}${el('Level', s.level)}${signer}` +
        `${el('ClaimedSigningTime', s.signedAt.claimed)}${el('ProvenSigningTime', s.signedAt.proven)}` +
        `<ev:Chain>${chain}</ev:Chain><ev:Revocation status="${esc(s.revocation.status)}"${s.revocation.source ? ` source="${esc(s.revocation.source)}"` : ''}/>` +
        `${el('WholeDocument', s.covers.wholeDocument)}</ev:Signature>`
      );
    })
    .join('');
}

/** The evidence document (unsealed). The full JSON report is embedded so nothing is lost in the summary. */
export function evidenceXml(v: ValidationRecord, issuer: SealEvidenceDeps['organisation'], issuedAt: Date): string {
  const r = v.report;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<ev:ValidationEvidence xmlns:ev="${EVIDENCE_NS}" version="1">` +
    el('ValidationId', v.id) +
    `<ev:Issuer>${el('Name', issuer.name)}${el('OrganisationNumber', issuer.organisationNumber)}</ev:Issuer>` +
    el('IssuedAt', issuedAt.toISOString()) +
    `<ev:Document>${el('Format', v.documentFormat)}${el('Sha256', v.documentSha256)}${el('DetachedContentSha256', v.detachedContentSha256)}</ev:Document>` +
    `<ev:Validation>${el('ValidatedAt', v.validatedAt.toISOString())}${el('ValidatorVersion', v.validatorVersion)}${el('Policy', v.policy)}` +
    `${el('Verdict', v.verdict)}${el('Reason', v.reason)}${el('ReasonText', r.reasonText.sv, ' xml:lang="sv"')}${el('ReasonText', r.reasonText.en, ' xml:lang="en"')}</ev:Validation>` +
    `<ev:Signatures>${signaturesXml(r)}</ev:Signatures>` +
    el('Report', JSON.stringify(r), ' mediaType="application/json"') +
    `</ev:ValidationEvidence>\n`
  );
}

/** GET /v1/signing/validations/{id}/evidence: the sealed export (made and kept on first request). */
export async function sealedEvidence(deps: SealEvidenceDeps, v: ValidationRecord, actor: string): Promise<Buffer> {
  const kept = await deps.store.getSealedEvidence(v.id);
  if (kept) return kept;
  const issuedAt = (deps.clock ?? (() => new Date()))();
  const sealed = await deps.sealer.seal({ document: Buffer.from(evidenceXml(v, deps.organisation, issuedAt), 'utf8'), format: 'xml', signingTime: issuedAt });
  return deps.store.storeSealedEvidence(v.id, Buffer.from(sealed.bytes), actor);
}
