// CMS / CAdES validation with pkijs: ../shared/specs/signing.md §9.1 (CAdES B-B attributes), §9.2 (procedure)
// and RFC 5652 §5.4/§11 (signed attributes, content-type, message-digest). PAdES reuses checkSignerInfos.
import { createHash, verify as cryptoVerify } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { CoveredPart, SignatureReport, ValidationReason } from '../../../src/domain/signing.js';
import { authContextOf, certFromDer, keyTooWeak, pemBlocks, signerInfo, validatePath, type Cert, type TrustContext } from './pki.js';
import { buildReport, formatFailure, NO_TIME, NOTHING_COVERED, UNKNOWN_REVOCATION, type ReportParts } from './report.js';

export const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  signatureTimeStamp: '1.2.840.113549.1.9.16.2.14',
  cmsAlgorithmProtection: '1.2.840.113549.1.9.52',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  sha384WithRsa: '1.2.840.113549.1.1.12',
  sha512WithRsa: '1.2.840.113549.1.1.13',
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  ecdsaSha512: '1.2.840.10045.4.3.4',
} as const;

const DIGESTS: Record<string, 'sha256' | 'sha384' | 'sha512'> = { [OID.sha256]: 'sha256', [OID.sha384]: 'sha384', [OID.sha512]: 'sha512' };
const CERT_HASHES: Record<string, 'sha1' | 'sha256' | 'sha384' | 'sha512'> = { [OID.sha1]: 'sha1', ...DIGESTS };
const SIG_ALGS: Record<string, { hash: 'sha256' | 'sha384' | 'sha512' | null; name: string }> = {
  [OID.rsaEncryption]: { hash: null, name: 'RSA' },
  [OID.sha256WithRsa]: { hash: 'sha256', name: 'RSA-SHA256' },
  [OID.sha384WithRsa]: { hash: 'sha384', name: 'RSA-SHA384' },
  [OID.sha512WithRsa]: { hash: 'sha512', name: 'RSA-SHA512' },
  [OID.ecdsaSha256]: { hash: 'sha256', name: 'ECDSA-SHA256' },
  [OID.ecdsaSha384]: { hash: 'sha384', name: 'ECDSA-SHA384' },
  [OID.ecdsaSha512]: { hash: 'sha512', name: 'ECDSA-SHA512' },
};

export class CmsFormatError extends Error {}

const toAB = (u: Uint8Array): ArrayBuffer => u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength) as ArrayBuffer;

/** Parse DER or PEM (PKCS7 / CMS) into SignedData. Trailing zero padding (PDF /Contents) is cut off by length. */
export function parseSignedData(input: Uint8Array): pkijs.SignedData {
  let der: Uint8Array = input;
  const head = Buffer.from(input.subarray(0, 64)).toString('latin1');
  if (head.includes('-----BEGIN')) {
    const blocks = pemBlocks(Buffer.from(input).toString('latin1'), ['PKCS7', 'CMS', 'PKCS #7 SIGNED DATA']);
    if (blocks.length !== 1) throw new CmsFormatError('expected exactly one PEM CMS block');
    der = blocks[0]!;
  }
  const parsed = asn1js.fromBER(toAB(der));
  if (parsed.offset === -1) throw new CmsFormatError('not a BER/DER structure');
  let ci: pkijs.ContentInfo;
  try {
    ci = new pkijs.ContentInfo({ schema: parsed.result });
  } catch {
    throw new CmsFormatError('not a CMS ContentInfo');
  }
  if (ci.contentType !== OID.signedData) throw new CmsFormatError(`ContentInfo is ${ci.contentType}, not SignedData`);
  try {
    return new pkijs.SignedData({ schema: ci.content });
  } catch {
    throw new CmsFormatError('SignedData could not be parsed');
  }
}

export function octets(os: asn1js.OctetString): Buffer {
  if (os.valueBlock.isConstructed) {
    return Buffer.concat(os.valueBlock.value.map((c) => octets(c as asn1js.OctetString)));
  }
  return Buffer.from(os.valueBlock.valueHexView);
}

interface CertPair {
  pk: pkijs.Certificate;
  cert: Cert;
}

function certificatesOf(sd: pkijs.SignedData): CertPair[] {
  const out: CertPair[] = [];
  for (const item of sd.certificates ?? []) {
    if (!(item instanceof pkijs.Certificate)) continue;
    out.push({ pk: item, cert: certFromDer(new Uint8Array(item.toSchema(false).toBER(false))) });
  }
  return out;
}

function findSigner(si: pkijs.SignerInfo, certs: readonly CertPair[]): CertPair | undefined {
  if (si.sid instanceof pkijs.IssuerAndSerialNumber) {
    const sid = si.sid;
    return certs.find((c) => c.pk.issuer.isEqual(sid.issuer) && c.pk.serialNumber.isEqual(sid.serialNumber));
  }
  // subjectKeyIdentifier [0]
  const sid = si.sid as asn1js.Constructed | asn1js.Primitive;
  const ski = Buffer.from(sid instanceof asn1js.Constructed ? (sid.valueBlock.value[0] as asn1js.OctetString).valueBlock.valueHexView : sid.valueBlock.valueHexView);
  return certs.find((c) => {
    const ext = c.pk.extensions?.find((e) => e.extnID === '2.5.29.14');
    return ext ? Buffer.from(ext.extnValue.valueBlock.valueHexView).subarray(2).equals(ski) : false;
  });
}

const attrOf = (si: pkijs.SignerInfo, oid: string): pkijs.Attribute[] => si.signedAttrs?.attributes.filter((a) => a.type === oid) ?? [];

/** ESS signing-certificate(-v2) hashes (RFC 2634 / RFC 5035) of one signer. */
function essCertHashes(si: pkijs.SignerInfo): Array<{ hash: string; value: Buffer }> {
  const out: Array<{ hash: string; value: Buffer }> = [];
  for (const [oid, v2] of [
    [OID.signingCertificateV2, true],
    [OID.signingCertificate, false],
  ] as const) {
    for (const a of attrOf(si, oid)) {
      const sc = a.values[0];
      if (!(sc instanceof asn1js.Sequence)) continue;
      const certs = sc.valueBlock.value[0];
      if (!(certs instanceof asn1js.Sequence)) continue;
      for (const id of certs.valueBlock.value) {
        if (!(id instanceof asn1js.Sequence)) continue;
        const items = id.valueBlock.value;
        let hash = v2 ? 'sha256' : 'sha1';
        let idx = 0;
        if (v2 && items[0] instanceof asn1js.Sequence) {
          const algOid = (items[0].valueBlock.value[0] as asn1js.ObjectIdentifier | undefined)?.valueBlock.toString() ?? '';
          hash = CERT_HASHES[algOid] ?? `unknown:${algOid}`;
          idx = 1;
        }
        const h = items[idx];
        if (h instanceof asn1js.OctetString) out.push({ hash, value: Buffer.from(h.valueBlock.valueHexView) });
      }
    }
  }
  return out;
}

export interface CmsSignerCheck {
  parts: Omit<ReportParts, 'format' | 'level' | 'covers'>;
  /** null = cryptographically sound and the path is good. */
  failure: ValidationReason | null;
  detail?: string;
  attrs: { signed: boolean; contentType: boolean; messageDigest: boolean; signingTime: string | null; essSigningCertificate: boolean; essV2: boolean; timestamped: boolean };
}

export interface CmsCheckOptions {
  trust: TrustContext;
  at: Date;
}

/** Check every SignerInfo of `sd` against `content` (§9.2 steps 2–6). */
export async function checkSignerInfos(sd: pkijs.SignedData, content: Uint8Array, opts: CmsCheckOptions): Promise<CmsSignerCheck[]> {
  const certs = certificatesOf(sd);
  const results: CmsSignerCheck[] = [];
  for (const [i, si] of sd.signerInfos.entries()) {
    const parts: CmsSignerCheck['parts'] = { id: `sig-${i + 1}`, signer: null, signedAt: NO_TIME, chain: [], revocation: UNKNOWN_REVOCATION, algorithms: {} };
    const signingTimeAttr = attrOf(si, OID.signingTime)[0]?.values[0];
    const signingTime = signingTimeAttr instanceof asn1js.UTCTime || signingTimeAttr instanceof asn1js.GeneralizedTime ? signingTimeAttr.toDate().toISOString() : null;
    const ess = essCertHashes(si);
    const attrs: CmsSignerCheck['attrs'] = {
      signed: !!si.signedAttrs,
      contentType: attrOf(si, OID.contentType).length === 1,
      messageDigest: attrOf(si, OID.messageDigest).length === 1,
      signingTime,
      essSigningCertificate: ess.length > 0,
      essV2: attrOf(si, OID.signingCertificateV2).length > 0,
      timestamped: (si.unsignedAttrs?.attributes ?? []).some((a) => a.type === OID.signatureTimeStamp),
    };
    parts.signedAt = { claimed: signingTime, proven: null, source: null, timestamped: attrs.timestamped };
    const done = (failure: ValidationReason | null, detail?: string): void => void results.push({ parts, failure, attrs, ...(detail ? { detail } : {}) });

    const digestOid = si.digestAlgorithm.algorithmId;
    const sigOid = si.signatureAlgorithm.algorithmId;
    const hash = DIGESTS[digestOid];
    const sigAlg = SIG_ALGS[sigOid];
    parts.algorithms = { signature: sigAlg?.name ?? sigOid, digest: hash ?? digestOid };
    if (!hash) {
      done('CRYPTO_CONSTRAINTS_FAILURE_NO_POE', `digest algorithm ${digestOid} is not accepted`);
      continue;
    }
    if (!sigAlg || (sigAlg.hash !== null && sigAlg.hash !== hash)) {
      done('CRYPTO_CONSTRAINTS_FAILURE_NO_POE', `signature algorithm ${sigOid} is not accepted with ${hash}`);
      continue;
    }
    // Content binding first: a changed byte is HASH_FAILURE whatever else is wrong (§13 item 30).
    const contentDigest = createHash(hash).update(content).digest();
    let signedBytes: Buffer;
    if (si.signedAttrs) {
      const ct = attrOf(si, OID.contentType);
      const md = attrOf(si, OID.messageDigest);
      if (ct.length !== 1 || md.length !== 1) {
        done('FORMAT_FAILURE', 'signed attributes must hold exactly one content-type and one message-digest');
        continue;
      }
      const ctValue = ct[0]!.values[0];
      if (!(ctValue instanceof asn1js.ObjectIdentifier) || ctValue.valueBlock.toString() !== sd.encapContentInfo.eContentType) {
        done('FORMAT_FAILURE', 'content-type attribute does not match the encapsulated content type');
        continue;
      }
      const mdValue = md[0]!.values[0];
      if (!(mdValue instanceof asn1js.OctetString) || !Buffer.from(mdValue.valueBlock.valueHexView).equals(contentDigest)) {
        done('HASH_FAILURE', 'message-digest does not match the signed content');
        continue;
      }
      signedBytes = Buffer.from(si.signedAttrs.encodedValue); // pkijs has re-tagged it as SET (0x31) for us
    } else {
      if (sd.encapContentInfo.eContentType !== OID.data) {
        done('FORMAT_FAILURE', 'signed attributes are required for non-data content');
        continue;
      }
      signedBytes = Buffer.from(content);
    }
    const pair = findSigner(si, certs);
    if (!pair) {
      done('NO_SIGNING_CERTIFICATE_FOUND', 'the signer certificate is not in the SignedData');
      continue;
    }
    const key = pair.cert.node.publicKey;
    let ok = false;
    try {
      ok = cryptoVerify(hash, signedBytes, { key, dsaEncoding: 'der' }, Buffer.from(si.signature.valueBlock.valueHexView));
    } catch {
      ok = false;
    }
    if (!ok) {
      done('SIG_CRYPTO_FAILURE', 'the signature value does not verify with the signer certificate');
      continue;
    }
    parts.signer = signerInfo(pair.cert);
    const ac = authContextOf(pair.cert);
    if (ac) parts.authContext = ac;
    if (ess.length > 0 && !ess.some((e) => /^sha/.test(e.hash) && createHash(e.hash).update(pair.cert.der).digest().equals(e.value))) {
      done('NO_SIGNING_CERTIFICATE_FOUND', 'ESS signing-certificate does not match the signer certificate');
      continue;
    }
    const weak = keyTooWeak(key);
    if (weak) {
      done('CRYPTO_CONSTRAINTS_FAILURE_NO_POE', weak);
      continue;
    }
    const path = await validatePath(
      pair.cert,
      certs.filter((c) => c !== pair).map((c) => c.cert),
      opts.trust,
      opts.at,
    );
    parts.chain = path.chain;
    parts.revocation = path.revocation;
    done(path.failure, path.detail);
  }
  return results;
}

export interface CmsValidationOptions extends CmsCheckOptions {
  detachedContent?: Uint8Array;
}

/** Validate a CMS/CAdES signature file (.p7s/.p7m), attached or with the detached content supplied. */
export async function validateCmsSignatures(bytes: Uint8Array, opts: CmsValidationOptions): Promise<SignatureReport[]> {
  let sd: pkijs.SignedData;
  try {
    sd = parseSignedData(bytes);
  } catch (e) {
    return [formatFailure('document', 'CMS', e instanceof CmsFormatError ? e.message : 'CMS could not be parsed')];
  }
  const attached = sd.encapContentInfo.eContent ? octets(sd.encapContentInfo.eContent) : null;
  const content = attached ?? opts.detachedContent ?? null;
  if (sd.signerInfos.length === 0) return [];
  if (!content) {
    return sd.signerInfos.map((_, i) =>
      buildReport(
        { id: `sig-${i + 1}`, format: 'CMS', level: 'none', signer: null, signedAt: NO_TIME, chain: [], revocation: UNKNOWN_REVOCATION, algorithms: {}, covers: NOTHING_COVERED },
        'SIGNED_DATA_NOT_FOUND',
        'detached signature: the signed content was not supplied',
      ),
    );
  }
  const checks = await checkSignerInfos(sd, content, opts);
  const part: CoveredPart = { type: 'content', attached: attached !== null, length: content.length };
  const covers = { wholeDocument: true, parts: [part], signedContentSha256: createHash('sha256').update(content).digest('hex') };
  return checks.map((c) => {
    // CAdES B-B: content-type, message-digest, signing-time and signing-certificate(-v2) signed (§9.1).
    const cades = c.attrs.signed && c.attrs.contentType && c.attrs.messageDigest && c.attrs.signingTime !== null && c.attrs.essSigningCertificate;
    const parts: ReportParts = { ...c.parts, format: cades ? 'CAdES' : 'CMS', level: cades ? 'B-B' : 'none', covers };
    return buildReport(parts, c.failure ?? 'TOTAL_PASSED', c.detail);
  });
}
