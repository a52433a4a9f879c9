// sdk.md §3 (CertPub: O2O certificates, revocation MUST be checked), §7 "Verification" and dependencies.md
// XML rule 4 (trust is configuration, a KeyInfo certificate only after its chain is checked): evaluation of an
// organisation certificate with Node crypto (signatures, validity) and pkijs (names, key usage, CRLs);
// never node-forge.
import { X509Certificate as NodeX509 } from 'node:crypto';
import * as asn1js from 'asn1js';
import { Certificate, CertificateRevocationList } from 'pkijs';

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const PEM_CRL = /-----BEGIN X509 CRL-----[\s\S]*?-----END X509 CRL-----/g;

/** Split a PEM bundle (or several) into individual certificate PEMs. */
export function splitCertificates(...pems: string[]): string[] {
  return pems.flatMap((p) => p.match(PEM_CERT) ?? []);
}

/** The first certificate of a PEM (a party's .crt file is leaf followed by its intermediate). */
export function leafPem(pem: string): string {
  const first = splitCertificates(pem)[0];
  if (first === undefined) throw new TypeError('no certificate in PEM');
  return first;
}

/** DER bytes of a PEM certificate or of a bare base64 body (as in ds:X509Certificate). */
export function certificateDer(pemOrBase64: string): Buffer {
  const body = pemOrBase64.includes('-----BEGIN') ? leafPem(pemOrBase64).replace(/-----[^-]+-----/g, '') : pemOrBase64;
  return Buffer.from(body.replace(/\s+/g, ''), 'base64');
}

export function derToPem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${(b64.match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** Byte equality of two certificates (CertPub "equal" rule, sdk.md §7). */
export function sameCertificate(a: string, b: string): boolean {
  return certificateDer(a).equals(certificateDer(b));
}

export type CertificateUsage = 'signing' | 'encryption';

export interface CertificateTrustOptions {
  /** Validation time (pin it for expired reference vectors). */
  now: Date;
  usage: CertificateUsage;
  /**
   * Trust anchors (PEM; bundles allowed). When given, a chain from the certificate to one of them must be
   * built and every link checked. When absent, trust comes from where the certificate was obtained (the
   * signed CertPub metadata, sdk.md §3) and only the certificate itself is checked.
   */
  anchors?: string[];
  /** When true, a chain to `anchors` is mandatory: no anchors configured means no trust (CLI, KeyInfo signers). */
  requireChain?: boolean;
  /** Intermediate CA certificates that may be used to build the chain (PEM; bundles allowed). */
  intermediates?: string[];
  /** CRLs (PEM). When given, every non-anchor certificate in the chain must be covered by one and not listed. */
  crls?: string[];
  /** When given, the certificate's organizationIdentifier (2.5.4.97) must be `NTRSE-<number>`. */
  expectedOrganizationNumber?: string;
}

export type TrustResult = { ok: true; chain: string[] } | { ok: false; problem: string };

const OID_ORGANIZATION_IDENTIFIER = '2.5.4.97';

function validAt(c: NodeX509, now: Date): boolean {
  return new Date(c.validFrom).getTime() <= now.getTime() && now.getTime() <= new Date(c.validTo).getTime();
}

function pkijsCert(c: NodeX509): Certificate {
  return Certificate.fromBER(new Uint8Array(c.raw));
}

// keyUsage bits (RFC 5280 §4.2.1.3), first octet of the BIT STRING.
const KU_DIGITAL_SIGNATURE = 0x80;
const KU_NON_REPUDIATION = 0x40;
const KU_KEY_ENCIPHERMENT = 0x20;
const KU_KEY_AGREEMENT = 0x08;

function hasUsage(c: NodeX509, usage: CertificateUsage): boolean {
  const ku = pkijsCert(c).extensions?.find((e) => e.extnID === '2.5.29.15');
  // No keyUsage extension means no restriction.
  if (ku === undefined) return true;
  const bits = (ku.parsedValue as asn1js.BitString | undefined)?.valueBlock.valueHexView;
  const first = bits?.[0] ?? 0;
  return usage === 'signing' ? (first & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)) !== 0 : (first & (KU_KEY_ENCIPHERMENT | KU_KEY_AGREEMENT)) !== 0;
}

/** organizationIdentifier values of the subject (e.g. `NTRSE-2120000000`). */
export function organizationIdentifiers(pem: string): string[] {
  return pkijsCert(new NodeX509(leafPem(pem)))
    .subject.typesAndValues.filter((tv) => tv.type === OID_ORGANIZATION_IDENTIFIER)
    .map((tv) => String((tv.value.valueBlock as { value?: unknown }).value ?? ''));
}

function crlFromPem(pem: string): CertificateRevocationList {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return CertificateRevocationList.fromBER(new Uint8Array(der));
}

/**
 * Evaluate a leaf certificate: validity at `now`, key usage for `usage`, expected organisation, and — when
 * anchors are configured — a verified chain to an anchor with CA constraints, plus revocation when CRLs are
 * configured. Problems are short English phrases without certificate content.
 */
export async function evaluateCertificate(leaf: string, opts: CertificateTrustOptions): Promise<TrustResult> {
  let cert: NodeX509;
  let pem: string;
  try {
    pem = leafPem(leaf.includes('-----BEGIN') ? leaf : derToPem(certificateDer(leaf)));
    cert = new NodeX509(pem);
  } catch {
    return { ok: false, problem: 'the certificate cannot be parsed' };
  }
  if (!validAt(cert, opts.now)) return { ok: false, problem: 'the certificate is not valid at the validation time' };
  const anchors = splitCertificates(...(opts.anchors ?? [])).map((p) => new NodeX509(p));
  if (opts.requireChain === true && anchors.length === 0) return { ok: false, problem: 'no trust anchors are configured' };
  const intermediates = splitCertificates(...(opts.intermediates ?? [])).map((p) => new NodeX509(p));
  const isAnchor = (c: NodeX509): boolean => anchors.some((a) => a.raw.equals(c.raw));
  // A CA certificate may sign only when it is itself explicitly pinned as an anchor (self-signed test vectors).
  if (cert.ca && !isAnchor(cert)) return { ok: false, problem: 'a CA certificate cannot sign or decrypt messages' };
  if (!hasUsage(cert, opts.usage)) return { ok: false, problem: `the certificate is not allowed for ${opts.usage}` };
  if (opts.expectedOrganizationNumber !== undefined && !organizationIdentifiers(pem).includes(`NTRSE-${opts.expectedOrganizationNumber}`)) {
    return { ok: false, problem: 'the certificate does not belong to the expected organisation' };
  }
  const chain: NodeX509[] = [cert];
  const pool = [...anchors, ...intermediates];
  const issuerOf = (c: NodeX509): NodeX509 | undefined => pool.find((i) => !i.raw.equals(c.raw) && c.checkIssued(i) && c.verify(i.publicKey));
  if (anchors.length > 0) {
    let current = cert;
    for (let depth = 0; !isAnchor(current); depth++) {
      if (depth > 8) return { ok: false, problem: 'the certificate chain is too long' };
      const issuer = issuerOf(current);
      if (issuer === undefined) {
        return { ok: false, problem: 'the certificate does not chain to a trusted CA' };
      }
      if (!issuer.ca) return { ok: false, problem: 'an issuer in the chain is not a CA' };
      if (!validAt(issuer, opts.now)) return { ok: false, problem: 'an issuer in the chain is not valid at the validation time' };
      chain.push(issuer);
      current = issuer;
    }
  }
  if (opts.crls !== undefined && opts.crls.length > 0) {
    // Without anchors the chain is the leaf alone; its issuer (needed to check the CRL) comes from the intermediates.
    if (chain.length === 1 && !isAnchor(cert)) {
      const issuer = issuerOf(cert);
      if (issuer === undefined) return { ok: false, problem: 'the issuer needed for the revocation check is unknown' };
      chain.push(issuer);
    }
    const crls = opts.crls.flatMap((p) => p.match(PEM_CRL) ?? []).map(crlFromPem);
    for (let i = 0; i + 1 < chain.length; i++) {
      const subject = pkijsCert(chain[i] as NodeX509);
      const issuer = pkijsCert(chain[i + 1] as NodeX509);
      const crl = crls.find((c) => c.issuer.isEqual(issuer.subject));
      if (crl === undefined) return { ok: false, problem: 'no revocation list covers a certificate in the chain' };
      let crlValid = false;
      try {
        crlValid = await crl.verify({ issuerCertificate: issuer });
      } catch {
        crlValid = false;
      }
      if (!crlValid) return { ok: false, problem: 'a revocation list signature does not verify' };
      const next = crl.nextUpdate?.value;
      if (next !== undefined && next.getTime() < opts.now.getTime()) return { ok: false, problem: 'a revocation list is out of date' };
      if ((crl.revokedCertificates ?? []).some((rc) => rc.userCertificate.isEqual(subject.serialNumber))) return { ok: false, problem: 'the certificate has been revoked' };
    }
  }
  return { ok: true, chain: chain.map((c) => c.toString()) };
}
