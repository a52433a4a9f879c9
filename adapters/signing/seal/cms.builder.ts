// CMS / CAdES building blocks shared by the organisation seal and the DSS assembly: ../shared/specs/signing.md
// §6.2 steps 2–4 (PDF SignedAttrs, detached SignedData) and §6.3 (CAdES B-B attributes). One assembly path
// for both keeps the output identical to what the validator checks (§6.4).
import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import { explicit0, integer, nullValue, octetString, oid, rawChildren, seq, setOf, tlv } from './der.js';

export const CMS_OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  ecdsaSha256: '1.2.840.10045.4.3.2',
} as const;

const attribute = (type: string, ...values: Uint8Array[]): Buffer => seq(oid(type), setOf(values));

/** Issuer Name and serialNumber of a certificate, as their original encodings. */
export function issuerAndSerial(certDer: Uint8Array): { issuer: Buffer; serial: Buffer } {
  const tbs = rawChildren(certDer)[0]!;
  const fields = rawChildren(tbs);
  const offset = fields[0]![0] === 0xa0 ? 1 : 0; // explicit [0] version present
  return { serial: fields[offset]!, issuer: fields[offset + 2]! };
}

/** ESS signing-certificate-v2 (RFC 5035) over the signer certificate, SHA-256 (the default, so no AlgorithmIdentifier). */
export function essSigningCertificateV2(certDer: Uint8Array): Buffer {
  const { issuer, serial } = issuerAndSerial(certDer);
  const issuerSerial = seq(seq(tlv(0xa4, issuer)), serial);
  const certId = seq(octetString(createHash('sha256').update(certDer).digest()), issuerSerial);
  return attribute(CMS_OID.signingCertificateV2, seq(seq(certId)));
}

export interface SignedAttributesInput {
  /** SHA-256 of the content (or of the PDF byte ranges). */
  contentDigest: Uint8Array;
  /** CAdES B-B requires it; PAdES B-B forbids it (the time is /M) — §9.1. */
  signingTime?: Date;
  /** Signer certificate for ESS signing-certificate-v2; the central service adds it instead for AdESType BES. */
  signingCertificate?: Uint8Array;
}

/** DER `SET OF Attribute` (tag 0x31): the ToBeSignedBytes of a PDF/CMS sign task (§3.2). */
export function buildSignedAttributes(input: SignedAttributesInput): Buffer {
  const attrs = [attribute(CMS_OID.contentType, oid(CMS_OID.data)), attribute(CMS_OID.messageDigest, octetString(input.contentDigest))];
  if (input.signingTime) attrs.push(attribute(CMS_OID.signingTime, Buffer.from(new asn1js.UTCTime({ valueDate: input.signingTime }).toBER(false))));
  if (input.signingCertificate) attrs.push(essSigningCertificateV2(input.signingCertificate));
  return setOf(attrs);
}

/** The attributes of a DER SignedAttrs SET, as `{ type, values (raw encodings) }`. */
export function readSignedAttributes(signedAttrs: Uint8Array): Array<{ type: string; values: Buffer[]; raw: Buffer }> {
  if (signedAttrs[0] !== 0x31) throw new Error('SignedAttrs must be a DER SET (0x31)');
  return rawChildren(signedAttrs).map((raw) => {
    const [typeDer, valuesDer] = rawChildren(raw);
    const parsed = asn1js.fromBER(new Uint8Array(typeDer!));
    const type = parsed.result instanceof asn1js.ObjectIdentifier ? parsed.result.valueBlock.toString() : '';
    return { type, values: rawChildren(valuesDer!), raw };
  });
}

/** messageDigest value of DER SignedAttrs, or null. */
export function messageDigestOf(signedAttrs: Uint8Array): Buffer | null {
  const md = readSignedAttributes(signedAttrs).filter((a) => a.type === CMS_OID.messageDigest);
  if (md.length !== 1 || md[0]!.values.length !== 1) return null;
  const parsed = asn1js.fromBER(new Uint8Array(md[0]!.values[0]!));
  return parsed.result instanceof asn1js.OctetString ? Buffer.from(parsed.result.valueBlock.valueHexView) : null;
}

/** Add (or replace) ESS signing-certificate-v2 in DER SignedAttrs; the seal does locally what the service does for BES. */
export function withEssSigningCertificateV2(signedAttrs: Uint8Array, certDer: Uint8Array): Buffer {
  const kept = readSignedAttributes(signedAttrs)
    .filter((a) => a.type !== CMS_OID.signingCertificateV2)
    .map((a) => a.raw);
  return setOf([...kept, essSigningCertificateV2(certDer)]);
}

export interface AssembleCmsInput {
  /** DER SET OF Attribute exactly as signed (0x31). */
  signedAttributes: Uint8Array;
  signature: Uint8Array;
  /** Signer certificate first, then intermediates (DER); roots are better left out. */
  certificates: Uint8Array[];
  keyType: 'RSA' | 'EC';
  /** Attached content; omit for a detached signature (PAdES, .p7s). */
  content?: Uint8Array;
}

/** CMS SignedData v1 in a ContentInfo (RFC 5652 §5.1), with the signed attributes re-tagged [0] IMPLICIT. */
export function assembleCms(input: AssembleCmsInput): Buffer {
  const signer = input.certificates[0];
  if (!signer) throw new Error('no signer certificate');
  if (input.signedAttributes[0] !== 0x31) throw new Error('SignedAttrs must be a DER SET (0x31)');
  const { issuer, serial } = issuerAndSerial(signer);
  const digestAlg = seq(oid(CMS_OID.sha256));
  const sigAlg = input.keyType === 'EC' ? seq(oid(CMS_OID.ecdsaSha256)) : seq(oid(CMS_OID.sha256WithRsa), nullValue());
  const signedAttrsImplicit = Buffer.from(input.signedAttributes);
  signedAttrsImplicit[0] = 0xa0;
  const signerInfo = seq(integer(1), seq(issuer, serial), digestAlg, signedAttrsImplicit, sigAlg, octetString(input.signature));
  const encap = input.content ? seq(oid(CMS_OID.data), explicit0(octetString(input.content))) : seq(oid(CMS_OID.data));
  const signedData = seq(integer(1), setOf([digestAlg]), encap, setOf(input.certificates, 0xa0), setOf([signerInfo]));
  return seq(oid(CMS_OID.signedData), explicit0(signedData));
}

/** Certificate hashes named by ESS signing-certificate-v2 in DER SignedAttrs (default hash SHA-256, RFC 5035). */
export function essCertHashesOf(signedAttrs: Uint8Array): Array<{ hash: string; value: Buffer }> {
  const out: Array<{ hash: string; value: Buffer }> = [];
  const HASHES: Record<string, string> = { [CMS_OID.sha256]: 'sha256', '2.16.840.1.101.3.4.2.2': 'sha384', '2.16.840.1.101.3.4.2.3': 'sha512' };
  for (const a of readSignedAttributes(signedAttrs).filter((x) => x.type === CMS_OID.signingCertificateV2)) {
    for (const value of a.values) {
      const certs = rawChildren(value)[0];
      if (!certs) continue;
      for (const certId of rawChildren(certs)) {
        const items = rawChildren(certId);
        let hash = 'sha256';
        let i = 0;
        if (items[0]?.[0] === 0x30) {
          const algOid = asn1js.fromBER(new Uint8Array(rawChildren(items[0])[0]!)).result;
          hash = algOid instanceof asn1js.ObjectIdentifier ? (HASHES[algOid.valueBlock.toString()] ?? 'unknown') : 'unknown';
          i = 1;
        }
        const h = items[i] ? asn1js.fromBER(new Uint8Array(items[i]!)).result : null;
        if (h instanceof asn1js.OctetString) out.push({ hash, value: Buffer.from(h.valueBlock.valueHexView) });
      }
    }
  }
  return out;
}
