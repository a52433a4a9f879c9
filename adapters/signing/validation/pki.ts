// X.509 path building and validation for signature validation: ../shared/specs/signing.md §9.2 steps 3–4
// and dependencies.md XML rule 4 (trust is configuration; a certificate from the document is used only
// after its chain to a configured anchor has been built and checked: validity, key usage, revocation).
// @peculiar/x509 2.x loads tsyringe, which needs the Reflect metadata polyfill before it is evaluated.
import 'reflect-metadata';
import { X509Certificate as NodeX509, createHash, webcrypto, type KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import type { ChainEntry, RevocationInfo, SignerInfo, AuthContextInfo, ValidationReason } from '../../../src/domain/signing.js';
import { orgNumberFromOrganisationIdentifier, personalIdentityNumberFromSerialNumber } from '../../../src/domain/signing.js';
import type { CrlFetcher } from '../../../src/ports/signing.port.js';
import { parseXmlSafely } from './xml-safety.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

/** One parsed certificate, kept in both libraries' forms (Node for signatures, @peculiar/x509 for fields). */
export interface Cert {
  der: Buffer;
  node: NodeX509;
  px: x509.X509Certificate;
  sha256: string;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** DER blocks of the given PEM types in `text`. */
export function pemBlocks(text: string, types: readonly string[]): Buffer[] {
  const out: Buffer[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    if (types.includes(m[1]!)) out.push(Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64'));
  }
  return out;
}

export function certFromDer(der: Uint8Array): Cert {
  const buf = Buffer.from(der);
  return { der: buf, node: new NodeX509(buf), px: new x509.X509Certificate(buf), sha256: createHash('sha256').update(buf).digest('hex') };
}

/** Certificates from a PEM bundle (any number of CERTIFICATE blocks) or a single DER certificate. */
export function parseCertificates(input: string | Uint8Array): Cert[] {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
  if (text.includes('-----BEGIN')) return pemBlocks(text, ['CERTIFICATE', 'TRUSTED CERTIFICATE']).map(certFromDer);
  return [certFromDer(typeof input === 'string' ? Buffer.from(input, 'latin1') : input)];
}

/** CRLs from PEM (any number of X509 CRL blocks) or a single DER CRL. */
export function parseCrls(input: string | Uint8Array): x509.X509Crl[] {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
  if (text.includes('-----BEGIN')) return pemBlocks(text, ['X509 CRL']).map((d) => new x509.X509Crl(new Uint8Array(d)));
  return [new x509.X509Crl(new Uint8Array(typeof input === 'string' ? Buffer.from(input, 'latin1') : input))];
}

export const certToPem = (c: Cert): string => `-----BEGIN CERTIFICATE-----\n${c.der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;

const issuedBy = (child: Cert, parent: Cert): boolean => {
  try {
    return child.node.checkIssued(parent.node) && child.node.verify(parent.node.publicKey);
  } catch {
    return false;
  }
};

export interface TrustContext {
  anchors: Cert[];
  crls: x509.X509Crl[];
  crlFetcher?: CrlFetcher;
  /**
   * `require`: a signer certificate whose revocation status cannot be established is TRY_LATER (§13 item 44).
   * `if-available`: check when a CRL is at hand, otherwise report `unknown` (a just-issued central-signing
   * certificate, §5.3 step 10).
   */
  revocation: 'require' | 'if-available';
}

export interface PathResult {
  /** First failed check, or null when the path is good. */
  failure: ValidationReason | null;
  detail?: string;
  chain: ChainEntry[];
  revocation: RevocationInfo;
}

// Extensions we understand well enough to accept when marked critical (RFC 5280 §4.2).
const KNOWN_CRITICAL = new Set([
  '2.5.29.15', // keyUsage
  '2.5.29.19', // basicConstraints
  '2.5.29.37', // extKeyUsage
  '2.5.29.17', // subjectAltName
  '2.5.29.32', // certificatePolicies (content not enforced: no policy constraints in our policy)
  '1.3.6.1.5.5.7.1.3', // QC statements
  '1.2.752.201.5.1', // RFC 7773 authentication context
]);

const MAX_DEPTH = 8;

/** Build the path from `leaf` to a configured anchor, using `pool` (certificates from the document) as intermediates. */
export function buildPath(leaf: Cert, pool: readonly Cert[], anchors: readonly Cert[]): { path: Cert[]; anchored: boolean } {
  const path: Cert[] = [leaf];
  const isAnchor = (c: Cert): boolean => anchors.some((a) => a.der.equals(c.der));
  let cur = leaf;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    if (isAnchor(cur)) return { path, anchored: true };
    // Anchors first, so a trusted CA wins over a look-alike copy in the document. Matching is by name AND
    // signature: a rogue root with the trusted root's DN fails here (§10 "Certificate only in KeyInfo").
    const next = [...anchors, ...pool].find((c) => !path.some((p) => p.der.equals(c.der)) && issuedBy(cur, c));
    if (!next) return { path, anchored: false };
    path.push(next);
    cur = next;
  }
  return { path, anchored: false };
}

function chainEntries(path: readonly Cert[], anchors: readonly Cert[]): ChainEntry[] {
  return path.map((c) => ({
    subject: c.px.subject,
    issuer: c.px.issuer,
    notBefore: c.px.notBefore.toISOString(),
    notAfter: c.px.notAfter.toISOString(),
    sha256: c.sha256,
    trustAnchor: anchors.some((a) => a.der.equals(c.der)),
  }));
}

export function keyUsageNames(c: Cert): string[] | undefined {
  const ku = c.px.getExtension(x509.KeyUsagesExtension);
  if (!ku) return undefined;
  const names: string[] = [];
  for (const [name, flag] of Object.entries(x509.KeyUsageFlags)) {
    if (typeof flag === 'number' && (ku.usages & flag) !== 0) names.push(name);
  }
  return names;
}

/** Key size rule of §9.2 step 6: RSA ≥ 2048 bits, EC ≥ 256 bits. */
export function keyTooWeak(key: KeyObject): string | null {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') {
    return (d?.modulusLength ?? 0) < 2048 ? `RSA key of ${d?.modulusLength ?? 0} bits` : null;
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = d?.namedCurve ?? '';
    return ['prime256v1', 'secp384r1', 'secp521r1', 'P-256', 'P-384', 'P-521'].includes(curve) ? null : `EC curve ${curve || 'unknown'}`;
  }
  if (key.asymmetricKeyType === 'ed25519' || key.asymmetricKeyType === 'ed448') return null;
  return `unsupported key type ${key.asymmetricKeyType ?? 'unknown'}`;
}

function crlDistributionUrls(c: Cert): string[] {
  const ext = c.px.getExtension(x509.CRLDistributionPointsExtension);
  if (!ext) return [];
  const urls: string[] = [];
  for (const dp of ext.distributionPoints) {
    for (const gn of dp.distributionPoint?.fullName ?? []) {
      if (gn.uniformResourceIdentifier) urls.push(gn.uniformResourceIdentifier);
    }
  }
  return urls;
}

interface CertRevocation {
  status: 'good' | 'revoked' | 'unknown';
  crl?: x509.X509Crl;
  entry?: x509.X509CrlEntry;
}

async function crlUsable(crl: x509.X509Crl, issuer: Cert, at: Date): Promise<boolean> {
  if (crl.issuer !== issuer.px.subject) return false;
  if (crl.thisUpdate.getTime() > at.getTime() + 5 * 60_000) return false;
  // A CRL past its nextUpdate says nothing about now (§9.2 step 4: revocation sources must be fresh).
  if (crl.nextUpdate && crl.nextUpdate.getTime() < at.getTime()) return false;
  try {
    return await crl.verify({ publicKey: issuer.px.publicKey });
  } catch {
    return false;
  }
}

async function revocationOf(c: Cert, issuer: Cert, ctx: TrustContext, at: Date): Promise<CertRevocation> {
  const candidates = [...ctx.crls];
  let crl: x509.X509Crl | undefined;
  for (const cand of candidates) {
    if (await crlUsable(cand, issuer, at)) {
      crl = cand;
      break;
    }
  }
  if (!crl && ctx.crlFetcher) {
    for (const url of crlDistributionUrls(c)) {
      try {
        const bytes = await ctx.crlFetcher(url);
        if (!bytes) continue;
        for (const cand of parseCrls(bytes)) {
          if (await crlUsable(cand, issuer, at)) {
            crl = cand;
            break;
          }
        }
      } catch {
        // A fetch or parse failure is "no answer", which is TRY_LATER, never "good" (§9.2).
      }
      if (crl) break;
    }
  }
  if (!crl) return { status: 'unknown' };
  const entry = crl.findRevoked(c.px) ?? undefined;
  if (entry && entry.revocationDate.getTime() <= at.getTime()) return { status: 'revoked', crl, entry };
  return { status: 'good', crl };
}

const REASON_NAMES: Record<number, string> = {
  0: 'unspecified',
  1: 'keyCompromise',
  2: 'cACompromise',
  3: 'affiliationChanged',
  4: 'superseded',
  5: 'cessationOfOperation',
  6: 'certificateHold',
  8: 'removeFromCRL',
  9: 'privilegeWithdrawn',
  10: 'aACompromise',
};

/**
 * Build and check the path of `signer` at time `at` (§9.2 step 4). Without a proof of existence the
 * validation time is now, so an expired certificate is OUT_OF_BOUNDS_NO_POE and a revoked one
 * REVOKED_NO_POE (§10 "PKI and time").
 */
export async function validatePath(signer: Cert, pool: readonly Cert[], ctx: TrustContext, at: Date): Promise<PathResult> {
  const { path, anchored } = buildPath(signer, pool, ctx.anchors);
  const chain = chainEntries(path, ctx.anchors);
  const unknownRevocation: RevocationInfo = { status: 'unknown', source: null };
  if (!anchored) {
    return { failure: 'NO_CERTIFICATE_CHAIN_FOUND', detail: 'no path from the signing certificate to a configured trust anchor', chain, revocation: unknownRevocation };
  }
  for (const [i, c] of path.entries()) {
    const who = i === 0 ? 'signing certificate' : `CA certificate ${c.px.subject}`;
    if (c.px.notAfter.getTime() < at.getTime()) return { failure: 'OUT_OF_BOUNDS_NO_POE', detail: `${who} expired ${c.px.notAfter.toISOString()}`, chain, revocation: unknownRevocation };
    if (c.px.notBefore.getTime() > at.getTime()) return { failure: 'NOT_YET_VALID', detail: `${who} is valid from ${c.px.notBefore.toISOString()}`, chain, revocation: unknownRevocation };
    for (const e of c.px.extensions) {
      if (e.critical && !KNOWN_CRITICAL.has(e.type)) return { failure: 'CHAIN_CONSTRAINTS_FAILURE', detail: `${who} has unknown critical extension ${e.type}`, chain, revocation: unknownRevocation };
    }
    if (i > 0) {
      const bc = c.px.getExtension(x509.BasicConstraintsExtension);
      if (!bc?.ca) return { failure: 'CHAIN_CONSTRAINTS_FAILURE', detail: `${who} is not a CA`, chain, revocation: unknownRevocation };
      // pathLenConstraint counts the non-self-issued CA certificates below this one (RFC 5280 §4.2.1.9).
      if (bc.pathLength !== undefined && i - 1 > bc.pathLength) return { failure: 'CHAIN_CONSTRAINTS_FAILURE', detail: `${who} path length exceeded`, chain, revocation: unknownRevocation };
      const ku = keyUsageNames(c);
      if (ku && !ku.includes('keyCertSign')) return { failure: 'CHAIN_CONSTRAINTS_FAILURE', detail: `${who} may not sign certificates`, chain, revocation: unknownRevocation };
    }
  }
  const leafKu = keyUsageNames(signer);
  if (leafKu && !leafKu.includes('digitalSignature') && !leafKu.includes('nonRepudiation')) {
    return { failure: 'CHAIN_CONSTRAINTS_FAILURE', detail: 'signing certificate key usage allows neither digitalSignature nor nonRepudiation', chain, revocation: unknownRevocation };
  }

  // Revocation of every certificate below the anchor; the signer's status is the one reported.
  let revocation: RevocationInfo = unknownRevocation;
  const anchorIndex = path.findIndex((c) => ctx.anchors.some((a) => a.der.equals(c.der)));
  for (let i = 0; i < anchorIndex; i++) {
    const r = await revocationOf(path[i]!, path[i + 1]!, ctx, at);
    const info: RevocationInfo = {
      status: r.status,
      source: r.crl ? 'CRL' : null,
      ...(r.crl ? { thisUpdate: r.crl.thisUpdate.toISOString(), ...(r.crl.nextUpdate ? { nextUpdate: r.crl.nextUpdate.toISOString() } : {}) } : {}),
      ...(r.entry ? { revocationTime: r.entry.revocationDate.toISOString(), reason: REASON_NAMES[r.entry.reason ?? 0] ?? 'unspecified' } : {}),
    };
    if (i === 0) revocation = info;
    if (r.status === 'revoked') {
      if (i === 0) return { failure: 'REVOKED_NO_POE', detail: 'signing certificate is revoked', chain, revocation };
      return { failure: 'REVOKED_CA_NO_POE', detail: `CA certificate ${path[i]!.px.subject} is revoked`, chain, revocation: { ...revocation, detail: `revoked: ${path[i]!.px.subject}` } };
    }
    // An intermediate without reachable CRL is tolerated (no root CRLs in most deployments); the signer's is not.
    if (i === 0 && r.status === 'unknown' && ctx.revocation === 'require') {
      return { failure: 'TRY_LATER', detail: 'no fresh CRL for the signing certificate', chain, revocation };
    }
  }
  return { failure: null, chain, revocation };
}

// ---------------------------------------------------------------------------------------------------------
// Signer identity (§8, §9.3 signer)

const field = (c: Cert, oid: string): string | undefined => c.px.subjectName.getField(oid)[0];

export function signerInfo(c: Cert): SignerInfo {
  const serialNumber = field(c, '2.5.4.5');
  const orgId = field(c, '2.5.4.97');
  const pnr = personalIdentityNumberFromSerialNumber(serialNumber);
  const orgnr = orgNumberFromOrganisationIdentifier(orgId);
  const ku = keyUsageNames(c);
  const info: SignerInfo = {
    commonName: field(c, '2.5.4.3'),
    givenName: field(c, '2.5.4.42'),
    surname: field(c, '2.5.4.4'),
    serialNumber,
    organisation: field(c, '2.5.4.10'),
    organisationIdentifier: orgId,
    issuer: c.px.issuer,
    certSerial: c.px.serialNumber,
    certSha256: c.sha256,
    qualified: c.px.extensions.some((e) => e.type === '1.3.6.1.5.5.7.1.3'),
    ...(pnr ? { personnummer: pnr } : {}),
    ...(orgnr ? { orgNumber: orgnr } : {}),
    ...(ku ? { keyUsage: ku } : {}),
  };
  for (const k of Object.keys(info) as Array<keyof SignerInfo>) if (info[k] === undefined) delete info[k];
  return info;
}

/** RFC 7773 Authentication Context extension (OID 1.2.752.201.5.1) of a central-signing certificate (§8). */
export function authContextOf(c: Cert): AuthContextInfo | undefined {
  const ext = c.px.extensions.find((e) => e.type === '1.2.752.201.5.1');
  if (!ext) return undefined;
  try {
    const parsed = asn1js.fromBER(new Uint8Array(ext.value));
    if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Sequence)) return undefined;
    for (const ac of parsed.result.valueBlock.value) {
      if (!(ac instanceof asn1js.Sequence)) continue;
      const info = ac.valueBlock.value[1];
      if (!(info instanceof asn1js.Utf8String)) continue;
      const doc = parseXmlSafely(info.valueBlock.value, { maxBytes: 64 * 1024 });
      const el = doc.getElementsByTagNameNS('http://id.elegnamnden.se/auth-cont/1.0/saci', 'AuthContextInfo')[0];
      if (!el) continue;
      const attr = (n: string): string | undefined => el.getAttribute(n) ?? undefined;
      const out: AuthContextInfo = {
        idp: attr('IdentityProvider'),
        loa: attr('AuthnContextClassRef'),
        authnInstant: attr('AuthenticationInstant'),
        assertionRef: attr('AssertionRef'),
        serviceId: attr('ServiceID'),
      };
      for (const k of Object.keys(out) as Array<keyof AuthContextInfo>) if (out[k] === undefined) delete out[k];
      return out;
    }
  } catch {
    return undefined;
  }
  return undefined;
}
