// XAdES-B-B enveloped building blocks shared by the seal and the DSS assembly: ../shared/specs/signing.md §6.1
// (document Reference URI="" + enveloped + exc-c14n, SignedInfo as ToBeSignedBytes, SignedProperties with
// SigningTime and SigningCertificateV2, assembly into <ds:Signature Id=SignatureId>) and §6.4.
import { createHash } from 'node:crypto';
import type { Element } from '@xmldom/xmldom';
import { ExclusiveCanonicalization } from 'xml-crypto';
import { decodeXml, findInSubtree, parseXmlSafely, PROCESSING_INSTRUCTION_NODE } from '../validation/xml-safety.js';
import { XMLDSIG } from '../validation/xmldsig-algorithms.js';

export const XADES_NS = 'http://uri.etsi.org/01903/v1.3.2#';
export const SIGNED_PROPERTIES_TYPE = 'http://uri.etsi.org/01903#SignedProperties';
const DS = XMLDSIG.ds;

/** Exclusive C14N (no comments) of one element: independent of where the element is later inserted. */
export function excC14n(el: Element): string {
  return new ExclusiveCanonicalization().process(el as unknown as Parameters<ExclusiveCanonicalization['process']>[0], {});
}

/** Parse an XML fragment/document string and return its exc-c14n form (drops an XML declaration). */
export function canonicalizeXml(xml: string): string {
  return excC14n(parseXmlSafely(xml).documentElement!);
}

export class XmlInputError extends Error {}

/** Decode and check a document we are about to sign: UTF-8, no DTD, no processing instructions (they would not verify). */
export function readSignableXml(document: Uint8Array): string {
  let text: string;
  let pi: unknown;
  try {
    text = decodeXml(document);
    pi = findInSubtree(parseXmlSafely(text), PROCESSING_INSTRUCTION_NODE);
  } catch (e) {
    throw new XmlInputError(e instanceof Error ? e.message : 'XML cannot be parsed');
  }
  if (pi) throw new XmlInputError('XML with processing instructions cannot be signed');
  return text;
}

/** SHA-256 (base64) of exc-c14n of the document element: the digest of Reference URI="" before the signature exists. */
export function documentDigest(text: string): string {
  return createHash('sha256').update(excC14n(parseXmlSafely(text).documentElement!), 'utf8').digest('base64');
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

/** Canonical SignedInfo with the one document Reference (§6.1 step 1): the ToBeSignedBytes of an XML sign task. */
export function buildDocumentSignedInfo(opts: { documentDigest: string; signatureMethod: string }): string {
  const xml =
    `<ds:SignedInfo xmlns:ds="${DS}">` +
    `<ds:CanonicalizationMethod Algorithm="${XMLDSIG.excC14n}"/>` +
    `<ds:SignatureMethod Algorithm="${esc(opts.signatureMethod)}"/>` +
    `<ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="${XMLDSIG.enveloped}"/><ds:Transform Algorithm="${XMLDSIG.excC14n}"/></ds:Transforms>` +
    `<ds:DigestMethod Algorithm="${XMLDSIG.sha256}"/><ds:DigestValue>${opts.documentDigest}</ds:DigestValue></ds:Reference>` +
    `</ds:SignedInfo>`;
  return canonicalizeXml(xml);
}

const isoSeconds = (d: Date): string => `${d.toISOString().slice(0, 19)}Z`;

export interface XadesObject {
  /** `<ds:Object>` holding xades:QualifyingProperties (canonical text). */
  xml: string;
  signedPropertiesId: string;
  /** SHA-256 (base64) of exc-c14n(SignedProperties). */
  signedPropertiesDigest: string;
}

/** ds:Object with QualifyingProperties Target="#signatureId" (§6.1 step 3), SigningCertificateV2 = SHA-256 of the certificate. */
export function buildQualifyingPropertiesObject(opts: { signatureId: string; signingTime: Date; signerCertificate: Uint8Array }): XadesObject {
  const spId = `xades-${opts.signatureId}`;
  const certDigest = createHash('sha256').update(opts.signerCertificate).digest('base64');
  const xml =
    `<ds:Object xmlns:ds="${DS}"><xades:QualifyingProperties xmlns:xades="${XADES_NS}" Target="#${esc(opts.signatureId)}">` +
    `<xades:SignedProperties Id="${esc(spId)}"><xades:SignedSignatureProperties>` +
    `<xades:SigningTime>${isoSeconds(opts.signingTime)}</xades:SigningTime>` +
    `<xades:SigningCertificateV2><xades:Cert><xades:CertDigest><ds:DigestMethod Algorithm="${XMLDSIG.sha256}"/><ds:DigestValue>${certDigest}</ds:DigestValue></xades:CertDigest></xades:Cert></xades:SigningCertificateV2>` +
    `</xades:SignedSignatureProperties></xades:SignedProperties></xades:QualifyingProperties></ds:Object>`;
  const canonical = canonicalizeXml(xml);
  return { xml: canonical, signedPropertiesId: spId, signedPropertiesDigest: signedPropertiesDigestOf(canonical, spId) };
}

/** Digest of the SignedProperties with Id `spId` inside an ds:Object text (throws when absent). */
export function signedPropertiesDigestOf(objectXml: string, spId: string): string {
  const doc = parseXmlSafely(objectXml);
  const sp = doc.getElementsByTagNameNS(XADES_NS, 'SignedProperties');
  const el = Array.from({ length: sp.length }, (_, i) => sp.item(i)!).find((e) => e.getAttribute('Id') === spId);
  if (!el) throw new XmlInputError(`SignedProperties ${spId} not found`);
  return createHash('sha256').update(excC14n(el), 'utf8').digest('base64');
}

/** Append the SignedProperties Reference to a canonical SignedInfo (what the sign service does for AdESType BES). */
export function addSignedPropertiesReference(signedInfo: string, spId: string, digest: string): string {
  const close = '</ds:SignedInfo>';
  if (!signedInfo.endsWith(close)) throw new XmlInputError('SignedInfo is not in the expected canonical form');
  const ref =
    `<ds:Reference Type="${SIGNED_PROPERTIES_TYPE}" URI="#${esc(spId)}"><ds:Transforms><ds:Transform Algorithm="${XMLDSIG.excC14n}"></ds:Transform></ds:Transforms>` +
    `<ds:DigestMethod Algorithm="${XMLDSIG.sha256}"></ds:DigestMethod><ds:DigestValue>${digest}</ds:DigestValue></ds:Reference>`;
  return canonicalizeXml(signedInfo.slice(0, -close.length) + ref + close);
}

export interface AssembleXadesInput {
  /** The original document text (UTF-8) that the SignedInfo's URI="" reference digests. */
  documentText: string;
  signatureId: string;
  /** SignedInfo as signed (re-canonicalized here; §12 item 4). */
  signedInfo: string;
  /** XML-DSig signature value (RSA, or ECDSA as r||s). */
  signatureValue: Uint8Array;
  /** Signer certificate first, then intermediates (DER). */
  certificates: Uint8Array[];
  /** ds:Object with QualifyingProperties, if XAdES. */
  objectXml?: string;
}

/**
 * Build `<ds:Signature Id=…>` and insert it as the last child of the document element by splicing text
 * before the closing tag, so every byte of the original document stays as it was (§6.1 step 5).
 */
export function assembleXades(input: AssembleXadesInput): string {
  const signedInfo = canonicalizeXml(input.signedInfo);
  const object = input.objectXml ? canonicalizeXml(input.objectXml) : '';
  const certs = input.certificates.map((c) => `<ds:X509Certificate>${Buffer.from(c).toString('base64')}</ds:X509Certificate>`).join('');
  const signature =
    `<ds:Signature xmlns:ds="${DS}" Id="${esc(input.signatureId)}">${signedInfo}` +
    `<ds:SignatureValue>${Buffer.from(input.signatureValue).toString('base64')}</ds:SignatureValue>` +
    `<ds:KeyInfo><ds:X509Data>${certs}</ds:X509Data></ds:KeyInfo>${object}</ds:Signature>`;
  const text = input.documentText;
  const root = parseXmlSafely(text).documentElement!;
  const at = text.lastIndexOf(`</${root.tagName}`);
  if (at === -1 || !new RegExp(`^</${root.tagName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*>(\\s|<!--[\\s\\S]*?-->)*$`).test(text.slice(at))) {
    throw new XmlInputError('the document element must have an explicit end tag');
  }
  return text.slice(0, at) + signature + text.slice(at);
}
