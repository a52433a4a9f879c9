// Organisation seal: ../shared/specs/signing.md §6.4 — documents Sändebud issues itself are sealed with the
// organisation's key through the same builders the DSS assembly uses (XAdES-B-B, PAdES-B-B, CAdES-B-B).
import { createHash, createPrivateKey, randomBytes, sign as cryptoSign, X509Certificate } from 'node:crypto';
import { AppError } from '../../../src/domain/errors.js';
import type { DocumentSealer, SealedDocument, SealInput, SealKey } from '../../../src/ports/signing.port.js';
import { pemBlocks } from '../validation/pki.js';
import { signatureUriFor } from '../validation/xmldsig-algorithms.js';
import { assembleCms, buildSignedAttributes } from './cms.builder.js';
import { ecdsaDerToP1363 } from './der.js';
import { embedCms, preparePdf, PdfInputError } from './pades.builder.js';
import { addSignedPropertiesReference, assembleXades, buildDocumentSignedInfo, buildQualifyingPropertiesObject, documentDigest, readSignableXml, XmlInputError } from './xades.builder.js';

export { assembleCms, buildSignedAttributes, essCertHashesOf, essSigningCertificateV2, messageDigestOf, readSignedAttributes, withEssSigningCertificateV2, CMS_OID } from './cms.builder.js';
export { byteRangeDigest, embedCms, preparePdf, PdfInputError, type PreparedPdf } from './pades.builder.js';
export {
  addSignedPropertiesReference,
  assembleXades,
  buildDocumentSignedInfo,
  buildQualifyingPropertiesObject,
  canonicalizeXml,
  documentDigest,
  readSignableXml,
  signedPropertiesDigestOf,
  XmlInputError,
  XADES_NS,
  SIGNED_PROPERTIES_TYPE,
} from './xades.builder.js';
export { ecdsaDerToP1363 } from './der.js';

/**
 * A SealKey from PEM: `certPem` holds the seal certificate followed by its intermediates (as certs-dev
 * writes them), `keyPem` the PKCS#8 private key. Roots in the bundle are dropped from what we embed.
 */
export function sealKeyFromPem(certPem: string, keyPem: string): SealKey {
  const ders = pemBlocks(certPem, ['CERTIFICATE']);
  if (ders.length === 0) throw new AppError('SEAL_CONFIG_INVALID', 'The seal certificate file holds no certificate.');
  const certificates = ders.filter((d, i) => i === 0 || new X509Certificate(d).issuer !== new X509Certificate(d).subject);
  const key = createPrivateKey(keyPem);
  const leaf = new X509Certificate(certificates[0]!);
  if (!leaf.checkPrivateKey(key)) throw new AppError('SEAL_CONFIG_INVALID', 'The seal key does not belong to the seal certificate.');
  const keyType = key.asymmetricKeyType === 'ec' ? 'EC' : 'RSA';
  return {
    certificates,
    keyType,
    sign: async (data) => cryptoSign('sha256', data, keyType === 'EC' ? { key, dsaEncoding: 'der' } : key),
  };
}

const ecSize = (certDer: Uint8Array): number => {
  const curve = new X509Certificate(certDer).publicKey.asymmetricKeyDetails?.namedCurve;
  return curve === 'secp384r1' ? 48 : curve === 'secp521r1' ? 66 : 32;
};

/** XML-DSig wants r||s for ECDSA; SealKey returns DER. */
async function xmlSignatureValue(key: SealKey, data: Uint8Array): Promise<Buffer> {
  const sig = Buffer.from(await key.sign(data));
  return key.keyType === 'EC' ? ecdsaDerToP1363(sig, ecSize(key.certificates[0]!)) : sig;
}

export async function sealXml(document: Uint8Array, key: SealKey, signingTime: Date): Promise<Buffer> {
  const text = readSignableXml(document);
  const signatureId = `sig-${randomBytes(12).toString('hex')}`;
  const signedInfo = buildDocumentSignedInfo({ documentDigest: documentDigest(text), signatureMethod: signatureUriFor(key.keyType) });
  const obj = buildQualifyingPropertiesObject({ signatureId, signingTime, signerCertificate: key.certificates[0]! });
  const finalSignedInfo = addSignedPropertiesReference(signedInfo, obj.signedPropertiesId, obj.signedPropertiesDigest);
  const signatureValue = await xmlSignatureValue(key, Buffer.from(finalSignedInfo, 'utf8'));
  return Buffer.from(assembleXades({ documentText: text, signatureId, signedInfo: finalSignedInfo, signatureValue, certificates: key.certificates, objectXml: obj.xml }), 'utf8');
}

export async function sealCms(content: Uint8Array, key: SealKey, signingTime: Date): Promise<Buffer> {
  const signedAttributes = buildSignedAttributes({ contentDigest: createHash('sha256').update(content).digest(), signingTime, signingCertificate: key.certificates[0]! });
  const signature = await key.sign(signedAttributes);
  return assembleCms({ signedAttributes, signature, certificates: key.certificates, keyType: key.keyType });
}

export async function sealPdf(pdf: Uint8Array, key: SealKey, signingTime: Date, reason?: string): Promise<Buffer> {
  const prepared = await preparePdf(pdf, { signingTime, ...(reason ? { reason } : {}) });
  // PAdES B-B: no signing-time attribute; the time is /M (§6.2 step 2).
  const signedAttributes = buildSignedAttributes({ contentDigest: prepared.digest, signingCertificate: key.certificates[0]! });
  const signature = await key.sign(signedAttributes);
  const cms = assembleCms({ signedAttributes, signature, certificates: key.certificates, keyType: key.keyType });
  return embedCms(prepared.bytes, prepared.byteRange, cms);
}

/** DocumentSealer over one SealKey. Bad input documents become 422 AppErrors with stable codes. */
export function createOrganisationSealer(opts: { key: SealKey; clock?: () => Date }): DocumentSealer {
  const now = opts.clock ?? (() => new Date());
  return {
    async seal(input: SealInput): Promise<SealedDocument> {
      const signingTime = input.signingTime ?? now();
      try {
        if (input.format === 'xml') return { format: 'xml', bytes: await sealXml(input.document, opts.key, signingTime), detached: false };
        if (input.format === 'pdf') return { format: 'pdf', bytes: await sealPdf(input.document, opts.key, signingTime, input.reason), detached: false };
        return { format: 'cms', bytes: await sealCms(input.document, opts.key, signingTime), detached: true };
      } catch (e) {
        if (e instanceof XmlInputError || e instanceof PdfInputError) throw new AppError('SEAL_INPUT_INVALID', `The document cannot be sealed: ${e.message}`, { status: 422, cause: e });
        throw e;
      }
    },
  };
}
