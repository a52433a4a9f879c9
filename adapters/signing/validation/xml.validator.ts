// XMLDSig / XAdES validation: ../shared/specs/signing.md §9.2 (procedure), §9.3 (verdict), §10 "XML"
// (wrapping, unsigned content, DTD, external references, KeyInfo-only certificates) and
// dependencies.md XML security rules 2–8. xml-crypto checks the cryptography; trust comes from pki.ts.
import { createHash, timingSafeEqual } from 'node:crypto';
import { DOMImplementation, DOMParser, XMLSerializer, type Document, type Element, type Node as XmlNode } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import * as xadesjs from 'xadesjs';
import xpath from 'xpath';
import type { CoveredPart, SignatureReport, SignedAtInfo, ValidationReason } from '../../../src/domain/signing.js';
import { authContextOf, certFromDer, keyTooWeak, signerInfo, validatePath, type Cert, type TrustContext } from './pki.js';
import { buildReport, formatFailure, NO_TIME, NOTHING_COVERED, UNKNOWN_REVOCATION, type ReportParts } from './report.js';
import { COMMENT_NODE, PROCESSING_INSTRUCTION_NODE, XmlSafetyError, decodeXml, findInSubtree, parseXmlSafely, type XmlLimits } from './xml-safety.js';
import { ALLOWED_C14N, ALLOWED_DIGESTS, ALLOWED_SIGNATURES, ALLOWED_TRANSFORMS, WEAK_ALGORITHMS, XMLDSIG, nodeHashOf, restrictAlgorithms } from './xmldsig-algorithms.js';

export const XADES_NS = 'http://uri.etsi.org/01903/v1.3.2#';
export const XADES141_NS = 'http://uri.etsi.org/01903/v1.4.1#';
export const SIGNED_PROPERTIES_TYPE = 'http://uri.etsi.org/01903#SignedProperties';

xadesjs.setNodeDependencies({ DOMParser, XMLSerializer, DOMImplementation, xpath });

const ID_ATTRS = ['Id', 'ID', 'id'];
const SAFE_FRAGMENT = /^#[A-Za-z_][A-Za-z0-9_.-]*$/;

export const childElements = (el: Element | Document, ns: string, local: string): Element[] => {
  const out: Element[] = [];
  for (let c = el.firstChild; c; c = c.nextSibling) {
    if (c.nodeType === 1 && (c as Element).namespaceURI === ns && (c as Element).localName === local) out.push(c as Element);
  }
  return out;
};

const allElements = (doc: Document): Element[] => {
  const out: Element[] = [];
  const stack: XmlNode[] = [doc.documentElement!];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n.nodeType !== 1) continue;
    out.push(n as Element);
    for (let c = n.lastChild; c; c = c.previousSibling) stack.push(c);
  }
  return out;
};

export const textOf = (el: Element | undefined): string => {
  // Concatenate all descendant text so an inserted comment never hides part of a value (§10 "Unsigned content").
  if (!el) return '';
  let s = '';
  const walk = (n: XmlNode): void => {
    for (let c = n.firstChild; c; c = c.nextSibling) {
      if (c.nodeType === 3 || c.nodeType === 4) s += (c as unknown as { data: string }).data;
      else if (c.nodeType === 1) walk(c);
    }
  };
  walk(el);
  return s;
};

/** Element ids (Id/ID/id, any namespace) that occur more than once: their presence makes a document invalid (§13 item 33). */
export function duplicateIds(doc: Document): string[] {
  const seen = new Map<string, number>();
  for (const el of allElements(doc)) {
    for (let i = 0; i < el.attributes.length; i++) {
      const a = el.attributes.item(i)!;
      if (ID_ATTRS.includes(a.localName ?? a.name)) seen.set(a.value, (seen.get(a.value) ?? 0) + 1);
    }
  }
  return [...seen].filter(([, n]) => n > 1).map(([v]) => v);
}

export function elementById(doc: Document, id: string): Element | null {
  for (const el of allElements(doc)) {
    for (const name of ID_ATTRS) if (el.getAttribute(name) === id) return el;
    for (let i = 0; i < el.attributes.length; i++) {
      const a = el.attributes.item(i)!;
      if (ID_ATTRS.includes(a.localName ?? '') && a.value === id) return el;
    }
  }
  return null;
}

export interface ParsedReference {
  uri: string;
  type: string | null;
  transforms: string[];
  digestMethod: string;
  digestValue: string;
}

export interface ParsedSignature {
  signedInfo: Element;
  c14n: string;
  signatureMethod: string;
  references: ParsedReference[];
  certificates: Cert[];
  /** The KeyInfo held something other than X509 certificates only (KeyValue, RetrievalMethod …). */
  keyInfoWithoutCert: boolean;
}

export class StructureError extends Error {
  readonly reason: ValidationReason;
  constructor(reason: ValidationReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

const attr = (el: Element | undefined, name: string): string | null => (el && el.hasAttribute(name) ? el.getAttribute(name) : null);

/** Read the parts of ds:Signature we rely on, rejecting anything outside the allowlist (rule 8). */
export function parseSignatureStructure(sig: Element): ParsedSignature {
  const ds = XMLDSIG.ds;
  const sis = childElements(sig, ds, 'SignedInfo');
  if (sis.length !== 1) throw new StructureError('FORMAT_FAILURE', `Signature has ${sis.length} SignedInfo elements`);
  const si = sis[0]!;
  if (childElements(sig, ds, 'SignatureValue').length !== 1) throw new StructureError('FORMAT_FAILURE', 'Signature must have exactly one SignatureValue');
  const c14n = attr(childElements(si, ds, 'CanonicalizationMethod')[0], 'Algorithm') ?? '';
  const signatureMethod = attr(childElements(si, ds, 'SignatureMethod')[0], 'Algorithm') ?? '';
  if (!ALLOWED_C14N.has(c14n)) throw new StructureError('FORMAT_FAILURE', `canonicalization ${c14n || '(none)'} is not allowed`);
  if (WEAK_ALGORITHMS.has(signatureMethod) || !ALLOWED_SIGNATURES.has(signatureMethod)) {
    throw new StructureError('CRYPTO_CONSTRAINTS_FAILURE_NO_POE', `signature algorithm ${signatureMethod || '(none)'} is not accepted`);
  }
  const refEls = childElements(si, ds, 'Reference');
  if (refEls.length === 0) throw new StructureError('FORMAT_FAILURE', 'SignedInfo has no Reference');
  const references = refEls.map((r): ParsedReference => {
    const uri = attr(r, 'URI');
    if (uri === null) throw new StructureError('FORMAT_FAILURE', 'Reference without URI');
    const transforms = childElements(r, ds, 'Transforms').flatMap((t) => childElements(t, ds, 'Transform').map((x) => attr(x, 'Algorithm') ?? ''));
    for (const t of transforms) if (!ALLOWED_TRANSFORMS.has(t)) throw new StructureError('FORMAT_FAILURE', `transform ${t} is not allowed`);
    const digestMethod = attr(childElements(r, ds, 'DigestMethod')[0], 'Algorithm') ?? '';
    if (WEAK_ALGORITHMS.has(digestMethod) || !ALLOWED_DIGESTS.has(digestMethod)) {
      throw new StructureError('CRYPTO_CONSTRAINTS_FAILURE_NO_POE', `digest algorithm ${digestMethod || '(none)'} is not accepted`);
    }
    const dvs = childElements(r, ds, 'DigestValue');
    if (dvs.length !== 1) throw new StructureError('FORMAT_FAILURE', 'Reference must have exactly one DigestValue');
    if (uri !== '' && uri.startsWith('#') && !SAFE_FRAGMENT.test(uri)) throw new StructureError('FORMAT_FAILURE', 'Reference URI is not a plain same-document id');
    return { uri, type: attr(r, 'Type'), transforms, digestMethod, digestValue: textOf(dvs[0]).replace(/\s+/g, '') };
  });
  const keyInfos = childElements(sig, ds, 'KeyInfo');
  if (keyInfos.length > 1) throw new StructureError('FORMAT_FAILURE', 'Signature has more than one KeyInfo');
  const certificates: Cert[] = [];
  let keyInfoWithoutCert = false;
  for (const ki of keyInfos) {
    for (let c = ki.firstChild; c; c = c.nextSibling) {
      if (c.nodeType !== 1) continue;
      const el = c as Element;
      if (el.namespaceURI === ds && el.localName === 'X509Data') {
        for (const xc of childElements(el, ds, 'X509Certificate')) {
          try {
            certificates.push(certFromDer(Buffer.from(textOf(xc).replace(/\s+/g, ''), 'base64')));
          } catch {
            throw new StructureError('NO_SIGNING_CERTIFICATE_FOUND', 'KeyInfo holds a certificate that cannot be parsed');
          }
        }
      } else {
        keyInfoWithoutCert = true;
      }
    }
  }
  return { signedInfo: si, c14n, signatureMethod, references, certificates, keyInfoWithoutCert };
}

export type CryptoOutcome = { kind: 'ok'; signedReferences: string[] } | { kind: 'hash'; detail: string } | { kind: 'sig' } | { kind: 'format'; detail: string };

export interface Detached {
  uri: string;
  content: Uint8Array;
}

/** Run xml-crypto over the exact received text with one candidate key (never the KeyInfo certificate by itself). */
export function cryptoCheck(text: string, sigEl: Element, cert: Cert, detached: Detached | null = null): CryptoOutcome {
  const sx = restrictAlgorithms(new SignedXml({ publicCert: cert.node.publicKey, getCertFromKeyInfo: () => null }));
  // Detached content is supplied by the caller and never fetched (§13 item 45): route the one external
  // Reference to it, and fail every other non-fragment URI.
  const inst = sx as unknown as { validateReference: (ref: { uri?: string; digestAlgorithm: string; digestValue?: unknown; validationError?: Error }, doc: unknown) => string | undefined };
  const original = inst.validateReference.bind(sx);
  inst.validateReference = (ref, doc) => {
    const uri = ref.uri ?? '';
    if (uri === '' || uri.startsWith('#')) return original(ref, doc);
    if (!detached || uri !== detached.uri) {
      ref.validationError = new Error('external reference');
      return undefined;
    }
    const hash = nodeHashOf(ref.digestAlgorithm);
    const expected = Buffer.from(String(ref.digestValue ?? ''), 'base64');
    const actual = hash ? createHash(hash).update(detached.content).digest() : Buffer.alloc(0);
    if (!hash || expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
      ref.validationError = new Error(`digest mismatch for reference ${uri}`);
      return undefined;
    }
    return `detached:${uri}`;
  };
  try {
    sx.loadSignature(sigEl as unknown as Parameters<SignedXml['loadSignature']>[0]);
    const ok = sx.checkSignature(text);
    if (ok) return { kind: 'ok', signedReferences: sx.getSignedReferences() };
    const failed = sx.getReferences().find((r) => r.validationError);
    return { kind: 'hash', detail: `digest mismatch for reference URI="${failed?.uri ?? '?'}"` };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/signature value .* is incorrect/s.test(msg)) return { kind: 'sig' };
    // Never echo the library message whole: it can carry signature values and XML fragments.
    return { kind: 'format', detail: msg.replace(/\s+/g, ' ').slice(0, 160) };
  }
}

interface XadesInfo {
  signedProperties: Element | null;
  signingTime: string | null;
  certDigests: Array<{ algorithm: string; value: Buffer }>;
  hasSigningCertificate: boolean;
  timestamped: boolean;
}

const NO_XADES: XadesInfo = { signedProperties: null, signingTime: null, certDigests: [], hasSigningCertificate: false, timestamped: false };

/** XAdES properties of this signature, read only from its own ds:Object and only if the signature references them. */
function readXades(sigEl: Element, refs: readonly ParsedReference[]): XadesInfo {
  const sigId = attr(sigEl, 'Id');
  for (const obj of childElements(sigEl, XMLDSIG.ds, 'Object')) {
    for (const qp of childElements(obj, XADES_NS, 'QualifyingProperties')) {
      if (sigId !== null && attr(qp, 'Target') !== `#${sigId}`) continue;
      const sp = childElements(qp, XADES_NS, 'SignedProperties')[0];
      const spId = attr(sp, 'Id');
      if (!sp || spId === null || !refs.some((r) => r.uri === `#${spId}`)) continue;
      const props = new xadesjs.xml.SignedProperties();
      props.LoadXml(sp as unknown as Parameters<typeof props.LoadXml>[0]);
      const ssp = props.SignedSignatureProperties;
      const digests: XadesInfo['certDigests'] = [];
      const collect = (list: { Count: number; Item(i: number): { CertDigest: { DigestMethod: { Algorithm: string }; DigestValue: Uint8Array } } | null }): void => {
        for (let i = 0; i < list.Count; i++) {
          const c = list.Item(i);
          if (c) digests.push({ algorithm: c.CertDigest.DigestMethod.Algorithm, value: Buffer.from(c.CertDigest.DigestValue) });
        }
      };
      collect(ssp.SigningCertificateV2);
      collect(ssp.SigningCertificate);
      const hasTime = childElements(childElements(sp, XADES_NS, 'SignedSignatureProperties')[0] ?? sp, XADES_NS, 'SigningTime').length > 0;
      const unsigned = childElements(qp, XADES_NS, 'UnsignedProperties')[0];
      const uss = unsigned ? childElements(unsigned, XADES_NS, 'UnsignedSignatureProperties')[0] : undefined;
      return {
        signedProperties: sp,
        signingTime: hasTime ? ssp.SigningTime.Value.toISOString() : null,
        certDigests: digests,
        hasSigningCertificate: digests.length > 0,
        timestamped: !!uss && childElements(uss, XADES_NS, 'SignatureTimeStamp').length > 0,
      };
    }
  }
  return NO_XADES;
}

const CERT_DIGEST: Record<string, string> = {
  'http://www.w3.org/2000/09/xmldsig#sha1': 'sha1', // SigningCertificate (v1) commonly uses SHA-1 for the cert hash
  [XMLDSIG.sha256]: 'sha256',
  [XMLDSIG.sha384]: 'sha384',
  [XMLDSIG.sha512]: 'sha512',
};

const matchesCertDigest = (cert: Cert, digests: XadesInfo['certDigests']): boolean =>
  digests.some((d) => {
    const h = CERT_DIGEST[d.algorithm];
    return h !== undefined && createHash(h).update(cert.der).digest().equals(d.value);
  });

export interface XmlValidationOptions {
  trust: TrustContext;
  at: Date;
  detachedContent?: Uint8Array;
  limits?: XmlLimits;
}

/** Validate every ds:Signature of an XML document; a document that cannot be read yields one FORMAT_FAILURE entry. */
export async function validateXmlSignatures(bytes: Uint8Array, opts: XmlValidationOptions): Promise<SignatureReport[]> {
  let text: string;
  let doc: Document;
  try {
    text = decodeXml(bytes, opts.limits);
    doc = parseXmlSafely(text, opts.limits);
  } catch (e) {
    const detail = e instanceof XmlSafetyError ? `${e.rejection}: ${e.message}` : 'XML could not be parsed';
    return [formatFailure('document', 'XMLDSig', detail)];
  }
  const sigEls = allElements(doc).filter((e) => e.namespaceURI === XMLDSIG.ds && e.localName === 'Signature');
  const dups = duplicateIds(doc);
  // A processing instruction anywhere is treated as inside signed content: xml-crypto canonicalizes it as
  // text (dependencies.md rule 7), and one in the prolog can restyle what the reader sees.
  const pi = findInSubtree(doc, PROCESSING_INSTRUCTION_NODE);
  const reports: SignatureReport[] = [];
  for (const [i, sigEl] of sigEls.entries()) {
    const id = attr(sigEl, 'Id') ?? `sig-${i + 1}`;
    if (dups.length > 0) {
      reports.push(formatFailure(id, 'XMLDSig', 'duplicate ID attribute values in the document'));
      continue;
    }
    if (pi) {
      reports.push(formatFailure(id, 'XMLDSig', 'processing instruction in the document'));
      continue;
    }
    reports.push(await validateOne(text, doc, sigEl, id, opts));
  }
  return reports;
}

async function validateOne(text: string, doc: Document, sigEl: Element, id: string, opts: XmlValidationOptions): Promise<SignatureReport> {
  const base: ReportParts = { id, format: 'XMLDSig', level: 'none', signer: null, signedAt: NO_TIME, chain: [], revocation: UNKNOWN_REVOCATION, algorithms: {}, covers: NOTHING_COVERED };
  let parsed: ParsedSignature;
  try {
    parsed = parseSignatureStructure(sigEl);
  } catch (e) {
    if (e instanceof StructureError) return buildReport(base, e.reason, e.message);
    return buildReport(base, 'FORMAT_FAILURE', 'signature structure could not be read');
  }
  base.algorithms = { signature: parsed.signatureMethod, digest: parsed.references[0]?.digestMethod };

  // Resolve what each Reference covers before any cryptography, so the report says exactly what is signed.
  const root = doc.documentElement!;
  const enveloping = sigEl === root;
  const externals = parsed.references.filter((r) => r.uri !== '' && !r.uri.startsWith('#'));
  let detached: Detached | null = null;
  if (externals.length > 0) {
    if (externals.length > 1 || externals[0]!.transforms.length > 0) {
      return buildReport(base, 'FORMAT_FAILURE', 'only one external reference without transforms is supported (detached content)');
    }
    if (!opts.detachedContent) return buildReport(base, 'SIGNED_DATA_NOT_FOUND', `detached content for "${externals[0]!.uri}" was not supplied (it is never fetched)`);
    detached = { uri: externals[0]!.uri, content: opts.detachedContent };
  }
  const xades = readXades(sigEl, parsed.references);
  const parts: CoveredPart[] = [];
  const referencedIds = new Set<string>();
  for (const r of parsed.references) {
    if (r.uri === '') {
      parts.push({ type: 'xml-reference', uri: '', element: root.tagName, whole: !enveloping });
      continue;
    }
    if (!r.uri.startsWith('#')) {
      parts.push({ type: 'xml-reference', uri: r.uri, whole: true });
      continue;
    }
    const target = elementById(doc, r.uri.slice(1));
    if (!target) return buildReport(base, 'SIGNED_DATA_NOT_FOUND', `Reference ${r.uri} points to no element`);
    referencedIds.add(r.uri.slice(1));
    const isProps = target === xades.signedProperties;
    parts.push({ type: 'xml-reference', uri: r.uri, element: target.tagName, whole: target === root, ...(isProps ? { signedProperties: true } : {}) });
  }
  // Enveloping: the document is the signature; it is wholly covered when every data ds:Object is referenced.
  const dataObjects = childElements(sigEl, XMLDSIG.ds, 'Object').filter((o) => childElements(o, XADES_NS, 'QualifyingProperties').length === 0);
  const wholeDocument = detached
    ? true
    : enveloping
      ? dataObjects.length > 0 && dataObjects.every((o) => attr(o, 'Id') !== null && referencedIds.has(attr(o, 'Id')!))
      : parts.some((p) => p.type === 'xml-reference' && p.whole && !p.signedProperties);
  base.covers = { wholeDocument, parts };

  // Signing certificate: only from KeyInfo, identified by XAdES SigningCertificate(V2) when signed (§9.2 step 2).
  if (parsed.certificates.length === 0) {
    return buildReport(base, 'NO_SIGNING_CERTIFICATE_FOUND', parsed.keyInfoWithoutCert ? 'KeyInfo carries a key but no certificate' : 'no certificate in KeyInfo');
  }
  const ordered = xades.hasSigningCertificate
    ? [...parsed.certificates.filter((c) => matchesCertDigest(c, xades.certDigests)), ...parsed.certificates.filter((c) => !matchesCertDigest(c, xades.certDigests))]
    : parsed.certificates;
  let signer: Cert | null = null;
  let lastFormat: string | null = null;
  for (const cand of ordered) {
    const out = cryptoCheck(text, sigEl, cand, detached);
    if (out.kind === 'ok') {
      signer = cand;
      break;
    }
    if (out.kind === 'hash') return buildReport(base, 'HASH_FAILURE', out.detail);
    if (out.kind === 'format') lastFormat = out.detail;
  }
  if (!signer) {
    if (lastFormat !== null) return buildReport(base, 'FORMAT_FAILURE', lastFormat);
    return buildReport(base, 'SIG_CRYPTO_FAILURE', 'the signature value does not verify with any certificate in KeyInfo');
  }

  // From here the signature is cryptographically sound with `signer`'s key.
  base.signer = signerInfo(signer);
  const ac = authContextOf(signer);
  if (ac) base.authContext = ac;
  if (xades.signedProperties) {
    base.format = 'XAdES';
    base.level = xades.signingTime && xades.hasSigningCertificate ? 'B-B' : 'none';
  }
  const signedAt: SignedAtInfo = { claimed: xades.signingTime, proven: null, source: null, timestamped: xades.timestamped };
  base.signedAt = signedAt;

  if (xades.hasSigningCertificate && !matchesCertDigest(signer, xades.certDigests)) {
    return buildReport(base, 'NO_SIGNING_CERTIFICATE_FOUND', 'XAdES SigningCertificate does not match the verifying certificate');
  }
  const weak = keyTooWeak(signer.node.publicKey);
  if (weak) return buildReport(base, 'CRYPTO_CONSTRAINTS_FAILURE_NO_POE', weak);

  const pool = parsed.certificates.filter((c) => c !== signer);
  const path = await validatePath(signer, pool, opts.trust, opts.at);
  base.chain = path.chain;
  base.revocation = path.revocation;
  if (path.failure) return buildReport(base, path.failure, path.detail);

  // A comment inside signed text leaves the signature valid (it is outside exc-c14n, §13 item 40); we only
  // note it, and every value we extract concatenates text nodes.
  const comment = findInSubtree(root, COMMENT_NODE);
  if (!wholeDocument) return buildReport(base, 'PARTIALLY_SIGNED', 'the signature does not cover the whole document');
  return buildReport(base, 'TOTAL_PASSED', comment ? 'the signed content contains comments, which are not signed' : undefined);
}
