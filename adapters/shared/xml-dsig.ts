// Enveloped XML-DSig over a whole document (Reference URI=""), signing and verifying, for any adapter
// (../shared/specs/digital-post.md §6.6 recipe and §10 #9/#10; dependencies.md XML security rules 4–8).
// Signing: Transforms = [enveloped-signature] only (the digest input is then inclusive C14N, which equals
// exclusive C14N for the prefix-free documents we sign), SHA-256 digest, exclusive C14N of SignedInfo,
// RSA-SHA256, KeyInfo = X509SubjectName + the signer's certificate (no chain). The private-key operation
// can run on a worker pool. Verifying: exactly one Signature child of the root, algorithm allow-list,
// no comments/PIs, certificate chain to configured CAs, then xml-crypto's check.
import { createHash, createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify, X509Certificate, type KeyObject } from 'node:crypto';
import { SignedXml } from 'xml-crypto';
import type { Element } from '@xmldom/xmldom';
import { assertNoCommentsOrPIs, childElements, childrenNamed, isNamed, parseXmlSafely, textOf, type SafeParseOptions } from './xml-safe-parse.js';
import { certificateFromBase64, leafCertificate, subjectNameRfc2253, verifyCertificateChain, type TrustStore } from './x509-trust.js';
import type { RawSigner, SignerHash } from './signer-pool.js';

export const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
export const ALG = {
  EXC_C14N: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  C14N: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
  ENVELOPED: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
  SHA256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  SHA512: 'http://www.w3.org/2001/04/xmlenc#sha512',
  RSA_SHA256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  RSA_SHA512: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  ECDSA_SHA256: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
  ECDSA_SHA512: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512',
} as const;

export class SignatureVerificationError extends Error {
  constructor(readonly reason: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SignatureVerificationError';
  }
}

// ---------------------------------------------------------------------------------------------------
// Signing
// ---------------------------------------------------------------------------------------------------

export interface EnvelopedSignOptions {
  /** Signer's private key (PEM, PKCS#8 or PKCS#1). */
  keyPem: string;
  /** Signer's certificate (PEM); only the first certificate goes into KeyInfo. */
  certPem: string;
  /** Where the RSA operation runs (a SignerPool's `sign`); default: this thread. */
  signer?: RawSigner;
  /** Check the signature value against the certificate's public key before returning (default true). */
  selfVerify?: boolean;
}

const inlineSigner: RawSigner = async (keyPem, data, hash: SignerHash = 'sha256') =>
  cryptoSign(hash, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, createPrivateKey(keyPem));

/**
 * Sign `xml` (a standalone document) with an enveloped signature appended as the last child of the
 * document element. The input must already be in its final, prefix-free, whitespace-free form: the
 * output is xmldom's serialisation of the same DOM the digest was computed on.
 */
interface SignerCertificate {
  certB64: string;
  /** Escaped for element content. */
  subjectName: string;
  publicKey: KeyObject;
}

// Parsing a certificate (and its subject with pkijs) costs more than an RSA signature; cache per PEM.
const certCache = new Map<string, SignerCertificate>();
function signerCertificate(certPem: string): SignerCertificate {
  let c = certCache.get(certPem);
  if (!c) {
    const cert = leafCertificate(certPem);
    c = {
      certB64: cert.raw.toString('base64'),
      subjectName: escapeText(subjectNameRfc2253(cert)),
      publicKey: createPublicKey(cert.publicKey.export({ type: 'spki', format: 'pem' })),
    };
    if (certCache.size >= 64) certCache.delete(certCache.keys().next().value!);
    certCache.set(certPem, c);
  }
  return c;
}

export async function signEnvelopedDocument(xml: string, opts: EnvelopedSignOptions): Promise<string> {
  const { certB64, subjectName, publicKey } = signerCertificate(opts.certPem);
  const signer = opts.signer ?? inlineSigner;
  const selfVerify = opts.selfVerify ?? true;

  // xml-crypto instantiates signature algorithms with `new`; this class closes over the pool so the
  // private-key operation happens there while xml-crypto does canonicalisation and digests.
  class PooledRsaSha256 {
    getSignature(signedInfo: string | Buffer, privateKey: unknown): string;
    getSignature(signedInfo: string | Buffer, privateKey: unknown, callback: (err: Error | null, value?: string) => void): void;
    getSignature(signedInfo: string | Buffer, _privateKey: unknown, callback?: (err: Error | null, value?: string) => void): string | void {
      if (!callback) throw new Error('synchronous signing is not supported; use the asynchronous flow');
      const data = typeof signedInfo === 'string' ? Buffer.from(signedInfo, 'utf8') : signedInfo;
      signer(opts.keyPem, data, 'sha256').then(
        (sig) => {
          if (selfVerify && !cryptoVerify('sha256', data, publicKey, sig)) {
            callback(new Error('the private key does not belong to the signing certificate'));
            return;
          }
          callback(null, sig.toString('base64'));
        },
        (e: unknown) => callback(e instanceof Error ? e : new Error(String(e))),
      );
    }
    verifySignature(): boolean {
      throw new Error('not used for signing');
    }
    getAlgorithmName(): string {
      return ALG.RSA_SHA256;
    }
  }

  const sig = new SignedXml({
    privateKey: opts.keyPem,
    publicCert: opts.certPem,
    canonicalizationAlgorithm: ALG.EXC_C14N,
    signatureAlgorithm: ALG.RSA_SHA256,
    getKeyInfoContent: () => `<X509Data><X509SubjectName>${subjectName}</X509SubjectName><X509Certificate>${certB64}</X509Certificate></X509Data>`,
  });
  sig.SignatureAlgorithms = { [ALG.RSA_SHA256]: PooledRsaSha256 } as unknown as SignedXml['SignatureAlgorithms'];
  sig.addReference({ xpath: '/*', transforms: [ALG.ENVELOPED], digestAlgorithm: ALG.SHA256, isEmptyUri: true });
  await new Promise<void>((resolve, reject) => {
    sig.computeSignature(xml, { location: { reference: '/*', action: 'append' } }, (err) => (err ? reject(err) : resolve()));
  });
  return sig.getSignedXml();
}

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// ---------------------------------------------------------------------------------------------------
// Signing a document that is already in canonical form (no DOM)
// ---------------------------------------------------------------------------------------------------

/**
 * True when `xml` is in the restricted form whose serialisation IS its Canonical XML (inclusive and
 * exclusive C14N 1.0 agree): no XML declaration, PI, comment, DOCTYPE, CDATA or CR; no empty-element tags;
 * no namespace prefixes; the only attributes are default-namespace declarations (`xmlns="…"`) and
 * `Algorithm`/`URI` inside a Signature; a default namespace declared only where it changes; text escapes
 * exactly `&`, `<`, `>`. xmlbuilder2's compact output of our documents has this form.
 */
export function isPlainCanonicalForm(xml: string): boolean {
  if (xml.indexOf('\r') !== -1) return false;
  // One pass with indexOf (documents are up to 2 MiB, mostly base64 text): text segments must hold no '>'
  // and only &amp; &lt; &gt; references; every tag must be <Name>, <Name xmlns="…">, <Name Algorithm="…">,
  // <Name URI="…"> or </Name>; a default namespace is declared only where it changes (C14N drops a
  // redundant declaration).
  const defaults: string[] = [''];
  const names: string[] = [];
  let pos = 0;
  let lt = xml.indexOf('<');
  let amp = xml.indexOf('&');
  for (;;) {
    const end = lt === -1 ? xml.length : lt;
    const gt = xml.indexOf('>', pos);
    if (gt !== -1 && gt < end) return false;
    for (; amp !== -1 && amp < end; amp = xml.indexOf('&', amp + 1)) {
      if (!xml.startsWith('amp;', amp + 1) && !xml.startsWith('lt;', amp + 1) && !xml.startsWith('gt;', amp + 1)) return false;
    }
    if (lt === -1) break;
    const nextLt = xml.indexOf('<', lt + 1);
    if (gt === -1 || (nextLt !== -1 && nextLt < gt)) return false;
    const m = TAG.exec(xml.slice(lt, gt + 1));
    if (!m) return false;
    if (m[1] === '/') {
      if (names.pop() !== m[2]) return false;
      defaults.pop();
    } else {
      const parent = defaults[defaults.length - 1]!;
      if (m[3] === 'xmlns' && m[4] === parent) return false;
      defaults.push(m[3] === 'xmlns' ? m[4]! : parent);
      names.push(m[2]!);
    }
    pos = gt + 1;
    lt = nextLt;
  }
  return names.length === 0;
}

const TAG = /^<(\/?)([A-Za-z_][\w.-]*)(?: (xmlns|Algorithm|URI)="([^"&<\t\n]*)")?>$/;

const SIGNED_INFO_OPEN = `<SignedInfo xmlns="${DSIG_NS}">`;

/** The SignedInfo of our signature form, in its exclusive-C14N form (what is signed). */
function canonicalSignedInfo(digestB64: string): string {
  return (
    `${SIGNED_INFO_OPEN}<CanonicalizationMethod Algorithm="${ALG.EXC_C14N}"></CanonicalizationMethod>` +
    `<SignatureMethod Algorithm="${ALG.RSA_SHA256}"></SignatureMethod><Reference URI=""><Transforms>` +
    `<Transform Algorithm="${ALG.ENVELOPED}"></Transform></Transforms><DigestMethod Algorithm="${ALG.SHA256}"></DigestMethod>` +
    `<DigestValue>${digestB64}</DigestValue></Reference></SignedInfo>`
  );
}

/**
 * Sign a document that is already in plain canonical form (see `isPlainCanonicalForm`) with exactly the
 * signature `signEnvelopedDocument` makes — same DigestValue and SignatureValue, proven by a test — but
 * without a DOM: the digest of an enveloped, URI="" reference is the hash of the document itself, and the
 * SignedInfo is a fixed template. The Signature is written in canonical form too (start/end tag pairs,
 * one namespace declaration), so a signed document can itself be embedded and signed again (the seal).
 * Only the RSA operation remains, and it runs on `signer` (the worker pool).
 */
export async function signCanonicalDocument(canonicalXml: string, opts: EnvelopedSignOptions): Promise<string> {
  if (!isPlainCanonicalForm(canonicalXml)) throw new Error('document is not in plain canonical form; use signEnvelopedDocument');
  const close = canonicalXml.lastIndexOf('</');
  if (close <= 0) throw new Error('document has no closing root tag');
  const { certB64, subjectName, publicKey } = signerCertificate(opts.certPem);
  const digest = createHash('sha256').update(canonicalXml, 'utf8').digest('base64');
  const signedInfo = canonicalSignedInfo(digest);
  const data = Buffer.from(signedInfo, 'utf8');
  const sig = await (opts.signer ?? inlineSigner)(opts.keyPem, data, 'sha256');
  if ((opts.selfVerify ?? true) && !cryptoVerify('sha256', data, publicKey, sig)) throw new Error('the private key does not belong to the signing certificate');
  const signature =
    `<Signature xmlns="${DSIG_NS}"><SignedInfo>${signedInfo.slice(SIGNED_INFO_OPEN.length)}` +
    `<SignatureValue>${sig.toString('base64')}</SignatureValue><KeyInfo><X509Data><X509SubjectName>${subjectName}</X509SubjectName>` +
    `<X509Certificate>${certB64}</X509Certificate></X509Data></KeyInfo></Signature>`;
  return canonicalXml.slice(0, close) + signature + canonicalXml.slice(close);
}

// ---------------------------------------------------------------------------------------------------
// Verifying
// ---------------------------------------------------------------------------------------------------

export interface VerifyOptions {
  /** The configured CAs. KeyInfo certificates are used only after chaining to one of them. */
  trust: TrustStore;
  /** Time at which the certificate must be valid (time of receipt). Default now. */
  at?: Date;
  parse?: SafeParseOptions;
}

export interface VerifiedDocument {
  /** The certificate that made the signature (chain-checked). */
  signer: X509Certificate;
  /** The document element as canonicalised for the reference digest (what was actually signed). */
  signedContent: string;
}

const ALLOWED_SIGNATURE_METHODS = new Set<string>([ALG.RSA_SHA256, ALG.RSA_SHA512, ALG.ECDSA_SHA256, ALG.ECDSA_SHA512]);
const ALLOWED_DIGESTS = new Set<string>([ALG.SHA256, ALG.SHA512]);

function algorithmOf(parent: Element, local: string): string {
  const els = childrenNamed(parent, DSIG_NS, local);
  if (els.length !== 1) throw new SignatureVerificationError('MALFORMED_SIGNATURE', `expected one ${local}`);
  return els[0]!.getAttribute('Algorithm') ?? '';
}

/**
 * Verify the enveloped signature that is the direct child of the document element and covers the
 * whole document (URI=""). Throws SignatureVerificationError with a stable `reason`.
 */
export function verifyEnvelopedDocument(xml: string, opts: VerifyOptions): VerifiedDocument {
  let root: Element;
  try {
    root = parseXmlSafely(xml, opts.parse).documentElement!;
    assertNoCommentsOrPIs(root);
  } catch (e) {
    throw new SignatureVerificationError('UNSAFE_XML', e instanceof Error ? e.message : 'unsafe XML', { cause: e });
  }
  // Exactly one signature where one is expected (rule 5): per document element.
  const sigs = childrenNamed(root, DSIG_NS, 'Signature');
  if (sigs.length !== 1) throw new SignatureVerificationError('SIGNATURE_COUNT', `expected exactly one Signature under the root, found ${sigs.length}`);
  const sigEl = sigs[0]!;
  const children = childElements(root);
  if (children[children.length - 1] !== sigEl) throw new SignatureVerificationError('MALFORMED_SIGNATURE', 'the Signature must be the last child of the root');

  const signedInfo = childrenNamed(sigEl, DSIG_NS, 'SignedInfo');
  if (signedInfo.length !== 1) throw new SignatureVerificationError('MALFORMED_SIGNATURE', 'expected one SignedInfo');
  const si = signedInfo[0]!;
  const c14n = algorithmOf(si, 'CanonicalizationMethod');
  if (c14n !== ALG.EXC_C14N) throw new SignatureVerificationError('ALGORITHM_NOT_ALLOWED', 'SignedInfo canonicalisation must be exclusive C14N');
  const sm = algorithmOf(si, 'SignatureMethod');
  if (!ALLOWED_SIGNATURE_METHODS.has(sm)) throw new SignatureVerificationError('ALGORITHM_NOT_ALLOWED', 'signature algorithm not allowed');
  const refs = childrenNamed(si, DSIG_NS, 'Reference');
  if (refs.length !== 1) throw new SignatureVerificationError('REFERENCE', `expected exactly one Reference, found ${refs.length}`);
  const ref = refs[0]!;
  if (ref.getAttribute('URI') !== '') throw new SignatureVerificationError('REFERENCE', 'the Reference must cover the whole document (URI="")');
  const transformsEl = childrenNamed(ref, DSIG_NS, 'Transforms')[0];
  const transforms = transformsEl ? childrenNamed(transformsEl, DSIG_NS, 'Transform').map((t) => t.getAttribute('Algorithm') ?? '') : [];
  const okTransforms =
    (transforms.length === 1 && transforms[0] === ALG.ENVELOPED) ||
    (transforms.length === 2 && transforms[0] === ALG.ENVELOPED && transforms[1] === ALG.EXC_C14N);
  if (!okTransforms) throw new SignatureVerificationError('ALGORITHM_NOT_ALLOWED', 'transforms must be [enveloped] or [enveloped, exc-c14n]');
  if (transformsEl && childElements(transformsEl).some((t) => childElements(t).length > 0)) {
    throw new SignatureVerificationError('ALGORITHM_NOT_ALLOWED', 'transform parameters (InclusiveNamespaces, XPath) are not allowed');
  }
  if (!ALLOWED_DIGESTS.has(algorithmOf(ref, 'DigestMethod'))) throw new SignatureVerificationError('ALGORITHM_NOT_ALLOWED', 'digest algorithm not allowed');

  // The certificate comes from KeyInfo but is trusted only after the chain check (rule 4).
  const keyInfo = childrenNamed(sigEl, DSIG_NS, 'KeyInfo')[0];
  const x509Data = keyInfo ? childrenNamed(keyInfo, DSIG_NS, 'X509Data') : [];
  const certEls = x509Data.flatMap((d) => childrenNamed(d, DSIG_NS, 'X509Certificate'));
  if (certEls.length < 1) throw new SignatureVerificationError('NO_CERTIFICATE', 'KeyInfo carries no X509Certificate');
  let certs: X509Certificate[];
  try {
    certs = certEls.map((e) => certificateFromBase64(textOf(e)));
  } catch (e) {
    throw new SignatureVerificationError('NO_CERTIFICATE', 'KeyInfo certificate cannot be read', { cause: e });
  }
  const leaf = certs.find((c) => !c.ca) ?? certs[0]!;
  const chain = verifyCertificateChain(leaf, opts.trust, { at: opts.at, extra: certs.filter((c) => c !== leaf) });
  if (!chain.ok) throw new SignatureVerificationError('UNTRUSTED_CERTIFICATE', chain.reason);

  const sx = new SignedXml({ publicCert: leaf.publicKey, getCertFromKeyInfo: () => null });
  let valid = false;
  try {
    sx.loadSignature(sigEl.toString());
    valid = sx.checkSignature(xml);
  } catch (e) {
    throw new SignatureVerificationError('INVALID_SIGNATURE', 'signature does not verify', { cause: e });
  }
  if (!valid) throw new SignatureVerificationError('INVALID_SIGNATURE', 'signature does not verify');
  const signedRefs = sx.getSignedReferences();
  if (signedRefs.length !== 1) throw new SignatureVerificationError('REFERENCE', 'expected one signed reference');
  return { signer: leaf, signedContent: signedRefs[0]! };
}

/** True for a ds:Signature element. */
export function isDsigSignature(el: Element): boolean {
  return isNamed(el, DSIG_NS, 'Signature');
}

