// sdk.md §7 "XML Signature", §15 (assertions before trusting an URI="" signature) and dependencies.md XML
// rules 4–8: enveloped RSA-SHA256 signature of the whole XHE, and its strict verification on the exact
// received text with a certificate chosen by configuration (never by KeyInfo alone).
import { SignedXml } from 'xml-crypto';
import type { Document as XDocument, Element as XElement } from '@xmldom/xmldom';
import { ALG, NS } from '../../../src/domain/sdk/constants.js';
import { allChildElements, childElements, commentsAndProcessingInstructions, localOf, stringValue, xpathOf } from '../xml/dom.js';
import type { LargeTexts } from '../xml/large-text.js';
import { parseXmlText, type XmlDocument } from '../xml/safe-xml.js';
import { certificateDer, leafPem } from './trust.js';

export type Canonicalization = 'exclusive' | 'inclusive';

export interface SigningKey {
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  /** The signer certificate (PEM; a bundle's first certificate is used); embedded in KeyInfo. */
  certificatePem: string;
}

export interface SignOptions {
  /**
   * Canonicalization for SignedInfo and the reference. Exclusive by default (dependencies.md rule 8);
   * inclusive c14n 1.0 (the form of the published examples) when a peer needs it.
   */
  canonicalization?: Canonicalization;
}

const C14N_URI: Record<Canonicalization, string> = { exclusive: ALG.excC14n, inclusive: ALG.c14n };

/**
 * Digest algorithms for xml-crypto that hash the canonical form of a SKELETON with each large-text token
 * replaced by its text (../xml/large-text.ts): the digest of the real document, without the big text ever
 * entering xml-crypto. Everything else — SignedInfo, c14n, the enveloped transform, the signature value —
 * stays xml-crypto's own work on the (small) skeleton.
 */
function splicingDigests(large: LargeTexts): SignedXml['HashAlgorithms'] {
  const make = (uri: string, algorithm: 'sha256' | 'sha512'): new () => { getHash(xml: string): string; getAlgorithmName(): string } =>
    class {
      getHash(xml: string): string {
        return large.digest(algorithm, xml);
      }
      getAlgorithmName(): string {
        return uri;
      }
    };
  return { [ALG.sha256]: make(ALG.sha256, 'sha256'), [ALG.sha512]: make(ALG.sha512, 'sha512') } as unknown as SignedXml['HashAlgorithms'];
}

/**
 * Sign a complete XHE: one enveloped signature, `Reference URI=""`, transforms enveloped-signature + c14n,
 * RSA-SHA256 over SHA-256, signer certificate in KeyInfo, appended as the last child of the root.
 * Returns the exact text to hand to the access point; never re-serialise it afterwards (§16.11).
 * With `large`, `xml` is a skeleton whose tokens stand for large texts: the digest covers the texts, and the
 * result is the signed skeleton (write it out with `large.assemble`).
 */
export function signEnvelope(xml: string, key: SigningKey, opts: SignOptions = {}, large?: LargeTexts): string {
  const c14n = C14N_URI[opts.canonicalization ?? 'exclusive'];
  const sig = new SignedXml({
    privateKey: key.privateKeyPem,
    publicCert: leafPem(key.certificatePem),
    signatureAlgorithm: ALG.rsaSha256,
    canonicalizationAlgorithm: c14n,
  });
  if (large !== undefined && large.size > 0) sig.HashAlgorithms = splicingDigests(large);
  sig.addReference({ xpath: '/*', transforms: [ALG.envelopedSignature, c14n], digestAlgorithm: ALG.sha256, isEmptyUri: true });
  sig.computeSignature(xml, { prefix: 'ds', location: { reference: '/*', action: 'append' } });
  return sig.getSignedXml();
}

/** Algorithms we accept on inbound signatures (dependencies.md rule 8 plus inclusive c14n of the SDK examples). */
export const SIGNATURE_ALLOW_LIST = {
  canonicalization: [ALG.c14n, ALG.excC14n] as readonly string[],
  signature: [ALG.rsaSha256, ALG.rsaSha512, 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256', 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384', 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512'] as readonly string[],
  digest: [ALG.sha256, ALG.sha512] as readonly string[],
} as const;

export interface SignatureShape {
  /** The single ds:Signature element (a direct child of the root). */
  signature: XElement;
  /** Base64 DER of the ds:X509Certificate in KeyInfo, when present. */
  keyInfoCertificate?: string;
}

export type SignatureCheck = { ok: true; shape: SignatureShape } | { ok: false; path: string; problem: string };

function algorithm(el: XElement | undefined): string {
  return el?.getAttribute('Algorithm') ?? '';
}

/**
 * Structural assertions that must hold before the signature is even computed (sdk.md §15): exactly one
 * ds:Signature, a direct child of the root; exactly one Reference with URI=""; transforms exactly
 * enveloped-signature (+ an allowed c14n); allowed algorithms; no ds:Object; no comments or processing
 * instructions anywhere in the (entirely signed) document.
 */
export function checkSignatureShape(doc: XDocument): SignatureCheck {
  const root = doc.documentElement;
  if (root === null) return { ok: false, path: 'NA', problem: 'the document has no root element' };
  const sigs = Array.from(doc.getElementsByTagNameNS(NS.ds, 'Signature'));
  if (sigs.length === 0) return { ok: false, path: xpathOf(root), problem: 'the envelope is not signed' };
  if (sigs.length > 1) return { ok: false, path: xpathOf(sigs[1] as XElement), problem: 'the envelope carries more than one signature' };
  const signature = sigs[0] as XElement;
  const at = xpathOf(signature);
  if (signature.parentNode !== root) return { ok: false, path: at, problem: 'the signature is not a direct child of the envelope root' };
  const odd = commentsAndProcessingInstructions(doc);
  if (odd.length > 0) return { ok: false, path: xpathOf(odd[0]?.parentNode ?? root), problem: 'comments and processing instructions are not allowed in signed content' };
  const parts = allChildElements(signature);
  const names = parts.map((p) => (p.namespaceURI === NS.ds ? localOf(p) : '?'));
  if (!(names[0] === 'SignedInfo' && names[1] === 'SignatureValue' && (names.length === 2 || (names.length === 3 && names[2] === 'KeyInfo')))) {
    return { ok: false, path: at, problem: 'the signature must consist of SignedInfo, SignatureValue and an optional KeyInfo' };
  }
  const signedInfo = parts[0] as XElement;
  const c14n = childElements(signedInfo, NS.ds, 'CanonicalizationMethod');
  const method = childElements(signedInfo, NS.ds, 'SignatureMethod');
  const refs = childElements(signedInfo, NS.ds, 'Reference');
  if (c14n.length !== 1 || !SIGNATURE_ALLOW_LIST.canonicalization.includes(algorithm(c14n[0]))) return { ok: false, path: at, problem: 'the canonicalization algorithm is not allowed' };
  if (method.length !== 1 || !SIGNATURE_ALLOW_LIST.signature.includes(algorithm(method[0]))) return { ok: false, path: at, problem: 'the signature algorithm is not allowed' };
  if (refs.length !== 1) return { ok: false, path: at, problem: 'the signature must have exactly one reference' };
  const ref = refs[0] as XElement;
  if (!ref.hasAttribute('URI') || ref.getAttribute('URI') !== '') return { ok: false, path: at, problem: 'the signature reference must cover the whole document (URI="")' };
  const transforms = childElements(ref, NS.ds, 'Transforms').flatMap((t) => childElements(t, NS.ds, 'Transform')).map((t) => algorithm(t));
  const transformsOk =
    transforms[0] === ALG.envelopedSignature && (transforms.length === 1 || (transforms.length === 2 && SIGNATURE_ALLOW_LIST.canonicalization.includes(transforms[1] ?? '')));
  if (!transformsOk) return { ok: false, path: at, problem: 'the reference transforms must be enveloped-signature and an allowed canonicalization' };
  const digest = childElements(ref, NS.ds, 'DigestMethod');
  if (digest.length !== 1 || !SIGNATURE_ALLOW_LIST.digest.includes(algorithm(digest[0]))) return { ok: false, path: at, problem: 'the digest algorithm is not allowed' };
  // KeyInfo may only name the key (X509Data with certificate / issuer-serial / subject name, or KeyName):
  // anything else inside the signature is unsigned content nobody should be tempted to read.
  const keyInfo = childElements(signature, NS.ds, 'KeyInfo');
  const keyInfoParts = keyInfo.flatMap((k) => allChildElements(k));
  const x509Parts = keyInfo.flatMap((k) => childElements(k, NS.ds, 'X509Data')).flatMap((d) => allChildElements(d));
  const allowedKeyInfo = ['X509Data', 'KeyName'];
  const allowedX509 = ['X509Certificate', 'X509IssuerSerial', 'X509SubjectName', 'X509SKI'];
  if (keyInfoParts.some((p) => p.namespaceURI !== NS.ds || !allowedKeyInfo.includes(localOf(p))) || x509Parts.some((p) => p.namespaceURI !== NS.ds || !allowedX509.includes(localOf(p)))) {
    return { ok: false, path: at, problem: 'KeyInfo may only identify the signer certificate' };
  }
  const certs = keyInfo.flatMap((k) => childElements(k, NS.ds, 'X509Data')).flatMap((d) => childElements(d, NS.ds, 'X509Certificate'));
  if (certs.length > 1) return { ok: false, path: at, problem: 'KeyInfo must carry at most one certificate' };
  const keyInfoCertificate = certs[0] === undefined ? undefined : stringValue(certs[0]).replace(/\s+/g, '');
  return { ok: true, shape: keyInfoCertificate === undefined ? { signature } : { signature, keyInfoCertificate } };
}

export type SignatureVerification =
  | { ok: true; signedDocument: XmlDocument; signedXml: string }
  | { ok: false; path: string; problem: string };

/**
 * Verify the signature cryptographically on `text` (the exact received document, decoded from its bytes)
 * with `certificatePem` only. On success the signed content is returned as a separately parsed document:
 * callers read every value from it (dependencies.md rule 6), never from the received DOM.
 * With `large`, `text` and `doc` are the skeleton of the received document: the reference digest is computed
 * over the skeleton's canonical form with the cut-out texts put back (their exact received bytes), and the
 * signed document is the skeleton's signed content, whose tokens `large` resolves.
 */
export function verifyEnvelopeSignature(text: string, doc: XDocument, certificatePem: string, large?: LargeTexts): SignatureVerification {
  const shape = checkSignatureShape(doc);
  if (!shape.ok) return shape;
  const at = xpathOf(shape.shape.signature);
  if (shape.shape.keyInfoCertificate !== undefined && !certificateDer(shape.shape.keyInfoCertificate).equals(certificateDer(certificatePem))) {
    return { ok: false, path: at, problem: "the signer certificate is not the sender's registered signing certificate" };
  }
  const verifier = new SignedXml({ publicCert: leafPem(certificatePem), getCertFromKeyInfo: () => null });
  if (large !== undefined && large.size > 0) verifier.HashAlgorithms = splicingDigests(large);
  let valid = false;
  try {
    verifier.loadSignature(shape.shape.signature as unknown as Parameters<SignedXml["loadSignature"]>[0]);
    valid = verifier.checkSignature(text);
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, path: at, problem: 'the signature does not verify' };
  const refs = verifier.getSignedReferences();
  if (refs.length !== 1 || refs[0] === undefined) return { ok: false, path: at, problem: 'the signature does not verify' };
  let signedDocument: XmlDocument;
  try {
    signedDocument = parseXmlText(refs[0]);
  } catch {
    return { ok: false, path: at, problem: 'the signed content cannot be read' };
  }
  return { ok: true, signedDocument, signedXml: refs[0] };
}
