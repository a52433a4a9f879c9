// Sign tasks: preparing ToBeSignedBytes per format (../shared/specs/signing.md §3.2, §6.1 steps 1–2, §6.2
// steps 1–2, §6.3) and assembling the signed document from the service's answer after the §5.3 step 12
// checks (§6.1 step 4, §6.2 step 3, §13 items 24–27). The builders are the organisation seal's (§6.4).
import { createHash, randomBytes, timingSafeEqual, verify as cryptoVerify } from 'node:crypto';
import type { Element } from '@xmldom/xmldom';
import { SIGNING_ERROR_CODES, type SigningErrorCode } from '../../../src/domain/signing.js';
import type { DocumentToSign, PendingSignTask } from '../../../src/ports/signing.port.js';
import {
  assembleCms,
  assembleXades,
  buildDocumentSignedInfo,
  buildSignedAttributes,
  byteRangeDigest,
  canonicalizeXml,
  CMS_OID,
  documentDigest,
  embedCms,
  essCertHashesOf,
  messageDigestOf,
  preparePdf,
  readSignableXml,
  readSignedAttributes,
  SIGNED_PROPERTIES_TYPE,
  signedPropertiesDigestOf,
  XADES_NS,
} from '../seal/index.js';
import { excC14n } from '../seal/xades.builder.js';
import type { Cert } from '../validation/pki.js';
import { parseXmlSafely } from '../validation/xml-safety.js';
import { childElements, textOf } from '../validation/xml.validator.js';
import { isEcdsa, nodeHashOfSignature, XMLDSIG } from '../validation/xmldsig-algorithms.js';
import type { SignTaskRequest } from './sign-request.mapper.js';
import type { ParsedSignTask } from './sign-response.mapper.js';

export class SignTaskError extends Error {
  readonly code: SigningErrorCode;
  constructor(code: SigningErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

export interface PreparedSignTask {
  request: SignTaskRequest;
  pending: PendingSignTask;
}

/** Compute the ToBeSignedBytes of one document and the state needed to assemble it later. */
export async function prepareSignTask(doc: DocumentToSign, taskId: string, signatureMethod: string, now: Date): Promise<PreparedSignTask> {
  if (doc.format === 'xml') {
    const text = readSignableXml(doc.bytes);
    const signatureId = `sig-${randomBytes(16).toString('hex')}`;
    const signedInfo = Buffer.from(buildDocumentSignedInfo({ documentDigest: documentDigest(text), signatureMethod }), 'utf8');
    return {
      request: { taskId, sigType: 'XML', adesType: 'BES', toBeSignedBytes: signedInfo, signatureId },
      pending: { taskId, title: doc.title, format: 'xml', document: b64(doc.bytes), signatureId, toBeSignedBytes: b64(signedInfo) },
    };
  }
  if (doc.format === 'pdf') {
    const prepared = await preparePdf(doc.bytes, { signingTime: now });
    // PAdES: no signing-time attribute (§6.2 step 2); the service adds ESS signing-certificate-v2 for BES.
    const attrs = buildSignedAttributes({ contentDigest: prepared.digest });
    return {
      request: { taskId, sigType: 'PDF', adesType: 'BES', toBeSignedBytes: attrs },
      pending: { taskId, title: doc.title, format: 'pdf', preparedPdf: b64(prepared.bytes), byteRange: prepared.byteRange, toBeSignedBytes: b64(attrs) },
    };
  }
  const digest = createHash('sha256').update(doc.bytes).digest();
  // CAdES B-B carries signing-time (§6.3); §12 item 15: CMS input assumed to be DER SignedAttrs as for PDF.
  const attrs = buildSignedAttributes({ contentDigest: digest, signingTime: now });
  return {
    request: { taskId, sigType: 'CMS', adesType: 'BES', toBeSignedBytes: attrs },
    pending: { taskId, title: doc.title, format: 'cms', contentSha256: b64(digest), toBeSignedBytes: b64(attrs) },
  };
}

export interface AssemblyContext {
  /** Returned chain, signer certificate first (§5.1 SignatureCertificateChain). */
  chain: readonly Cert[];
  requestTime: Date;
  responseTime: Date;
  skewMs: number;
  /** The RequestedSignatureAlgorithm we sent (XML-DSig URI). */
  signatureAlgorithm: string;
}

const fail = (code: SigningErrorCode, message: string): never => {
  throw new SignTaskError(code, message);
};

/** Certificates to embed: the returned chain without self-signed roots (trust comes from configuration). */
const embeddable = (chain: readonly Cert[]): Buffer[] => chain.filter((c, i) => i === 0 || c.node.issuer !== c.node.subject).map((c) => c.der);

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && timingSafeEqual(a, b);

function checkSignatureValue(data: Uint8Array, signature: Uint8Array, signer: Cert, xml: boolean, ctx: AssemblyContext): void {
  const hash = nodeHashOfSignature(ctx.signatureAlgorithm) ?? 'sha256';
  const ec = signer.node.publicKey.asymmetricKeyType === 'ec';
  let ok = false;
  try {
    ok = cryptoVerify(hash, data, { key: signer.node.publicKey, dsaEncoding: ec && xml ? 'ieee-p1363' : 'der' }, signature);
  } catch {
    ok = false;
  }
  if (!ok) fail(SIGNING_ERROR_CODES.tbsChanged, 'Base64Signature does not verify over the returned ToBeSignedBytes with the signer certificate');
}

const refChildren = (si: Element): Element[] => childElements(si, XMLDSIG.ds, 'Reference');

/** §6.1 step 4 and §13 items 24–25, then assembly (§6.1 step 5). */
function assembleXmlTask(pending: Extract<PendingSignTask, { format: 'xml' }>, returned: ParsedSignTask, ctx: AssemblyContext): Buffer {
  const signer = ctx.chain[0]!;
  let si: string;
  try {
    si = canonicalizeXml(returned.toBeSignedBytes.toString('utf8'));
  } catch {
    return fail(SIGNING_ERROR_CODES.tbsChanged, 'returned SignedInfo cannot be parsed');
  }
  const siEl = parseXmlSafely(si).documentElement!;
  const ourEl = parseXmlSafely(Buffer.from(pending.toBeSignedBytes, 'base64').toString('utf8')).documentElement!;
  if (siEl.namespaceURI !== XMLDSIG.ds || siEl.localName !== 'SignedInfo') fail(SIGNING_ERROR_CODES.tbsChanged, 'returned ToBeSignedBytes is not a ds:SignedInfo');
  const algo = (el: Element, local: string): string | null => childElements(el, XMLDSIG.ds, local)[0]?.getAttribute('Algorithm') ?? null;
  if (algo(siEl, 'CanonicalizationMethod') !== XMLDSIG.excC14n) fail(SIGNING_ERROR_CODES.tbsChanged, 'returned SignedInfo must use exclusive C14N');
  if (algo(siEl, 'SignatureMethod') !== ctx.signatureAlgorithm) fail(SIGNING_ERROR_CODES.tbsChanged, 'returned SignedInfo uses another signature algorithm');
  // Our references must come back unchanged (URI, transforms, digest), plus at most the SignedProperties one.
  const canon = (el: Element): string => excC14n(el);
  const ours = refChildren(ourEl).map(canon);
  const theirs = refChildren(siEl);
  const extra = theirs.filter((r) => !ours.includes(canon(r)));
  if (ours.some((o) => !theirs.map(canon).includes(o))) fail(SIGNING_ERROR_CODES.tbsChanged, 'the document Reference was changed by the signing service');
  if (extra.length > 1) fail(SIGNING_ERROR_CODES.tbsChanged, 'the signing service added more than one Reference');
  let objectXml: string | undefined;
  if (extra.length === 1) {
    const ref = extra[0]!;
    const uri = ref.getAttribute('URI') ?? '';
    if (ref.getAttribute('Type') !== SIGNED_PROPERTIES_TYPE || !/^#[A-Za-z_][\w.-]*$/.test(uri)) fail(SIGNING_ERROR_CODES.tbsChanged, 'the added Reference is not a XAdES SignedProperties reference');
    if (algo(childElements(ref, XMLDSIG.ds, 'Transforms')[0] ?? ref, 'Transform') !== XMLDSIG.excC14n || algo(ref, 'DigestMethod') !== XMLDSIG.sha256) {
      fail(SIGNING_ERROR_CODES.tbsChanged, 'the SignedProperties Reference must use exc-c14n and SHA-256');
    }
    if (!returned.adesObjectBytes) return fail(SIGNING_ERROR_CODES.tbsChanged, 'SignedProperties referenced but no AdESObjectBytes returned');
    objectXml = canonicalizeXml(returned.adesObjectBytes.toString('utf8'));
    const spId = uri.slice(1);
    let digest: string;
    try {
      digest = signedPropertiesDigestOf(objectXml, spId);
    } catch {
      return fail(SIGNING_ERROR_CODES.tbsChanged, 'AdESObjectBytes does not hold the referenced SignedProperties');
    }
    if (digest !== textOf(childElements(ref, XMLDSIG.ds, 'DigestValue')[0]).trim()) fail(SIGNING_ERROR_CODES.tbsChanged, 'SignedProperties digest does not match its Reference');
    const obj = parseXmlSafely(objectXml).documentElement!;
    const qp = childElements(obj, XADES_NS, 'QualifyingProperties')[0];
    if (obj.localName !== 'Object' || obj.namespaceURI !== XMLDSIG.ds || !qp || qp.getAttribute('Target') !== `#${pending.signatureId}`) {
      fail(SIGNING_ERROR_CODES.tbsChanged, 'QualifyingProperties must target our SignatureId');
    }
    const ssp = childElements(childElements(qp!, XADES_NS, 'SignedProperties')[0]!, XADES_NS, 'SignedSignatureProperties')[0];
    const signingTime = Date.parse(textOf(ssp ? childElements(ssp, XADES_NS, 'SigningTime')[0] : undefined).trim());
    // §12 item 19: RequestTime − skew ≤ SigningTime ≤ ResponseTime + skew (SSI has this the wrong way round).
    if (Number.isNaN(signingTime) || signingTime < ctx.requestTime.getTime() - ctx.skewMs - 1000 || signingTime > ctx.responseTime.getTime() + ctx.skewMs) {
      fail(SIGNING_ERROR_CODES.tbsChanged, 'XAdES SigningTime lies outside the request/response window');
    }
    const certRefs = ssp ? [...childElements(ssp, XADES_NS, 'SigningCertificateV2'), ...childElements(ssp, XADES_NS, 'SigningCertificate')] : [];
    const digests = certRefs.flatMap((l) => childElements(l, XADES_NS, 'Cert')).map((c) => childElements(c, XADES_NS, 'CertDigest')[0]);
    const matches = digests.some((d) => {
      const alg = d ? childElements(d, XMLDSIG.ds, 'DigestMethod')[0]?.getAttribute('Algorithm') : null;
      const value = d ? textOf(childElements(d, XMLDSIG.ds, 'DigestValue')[0]).trim() : '';
      const h = alg === XMLDSIG.sha256 ? 'sha256' : alg === XMLDSIG.sha512 ? 'sha512' : null;
      return h !== null && createHash(h).update(signer.der).digest('base64') === value;
    });
    if (!matches) fail(SIGNING_ERROR_CODES.tbsChanged, 'XAdES SigningCertificate does not match the returned signer certificate');
  } else {
    // We always ask for BES (§3.2), so the signing certificate must be covered by the signature.
    fail(SIGNING_ERROR_CODES.tbsChanged, 'AdESType BES without a SignedProperties reference');
  }
  checkSignatureValue(Buffer.from(si, 'utf8'), returned.signature!, signer, true, ctx);
  const documentText = Buffer.from(pending.document, 'base64').toString('utf8');
  return Buffer.from(
    assembleXades({ documentText, signatureId: pending.signatureId, signedInfo: si, signatureValue: returned.signature!, certificates: embeddable(ctx.chain), ...(objectXml ? { objectXml } : {}) }),
    'utf8',
  );
}

// §6.2 step 3: besides ESS signing-certificate-v2 the service may add signing-time and algorithm protection.
const ALLOWED_ADDED_ATTRS = new Set<string>([CMS_OID.signingCertificateV2, CMS_OID.signingTime, '1.2.840.113549.1.9.52' /* CMSAlgorithmProtection */]);

/** §6.2 step 3 / §13 item 27: same content-type and messageDigest; only ESS v2 (and algorithm protection) may be added. */
function checkReturnedAttributes(sent: Buffer, returned: Buffer, expectedDigest: Buffer, signer: Cert): void {
  let sentAttrs, gotAttrs;
  try {
    sentAttrs = readSignedAttributes(sent);
    gotAttrs = readSignedAttributes(returned);
  } catch {
    return fail(SIGNING_ERROR_CODES.tbsChanged, 'returned ToBeSignedBytes is not a DER SET of attributes');
  }
  const md = messageDigestOf(returned);
  if (!md || !sameBytes(md, expectedDigest)) fail(SIGNING_ERROR_CODES.tbsChanged, 'returned messageDigest does not match our content');
  const ct = gotAttrs.filter((a) => a.type === CMS_OID.contentType);
  if (ct.length !== 1 || ct[0]!.values.length !== 1 || !ct[0]!.values[0]!.equals(sentAttrs.find((a) => a.type === CMS_OID.contentType)!.values[0]!)) {
    fail(SIGNING_ERROR_CODES.tbsChanged, 'returned content-type differs from ours');
  }
  for (const a of gotAttrs) {
    const ours = sentAttrs.find((s) => s.type === a.type);
    if (ours ? !ours.raw.equals(a.raw) && a.type !== CMS_OID.signingTime : !ALLOWED_ADDED_ATTRS.has(a.type)) {
      fail(SIGNING_ERROR_CODES.tbsChanged, `the signing service changed signed attribute ${a.type}`);
    }
  }
  const ess = essCertHashesOf(returned);
  if (ess.length > 0 && !ess.some((e) => /^sha\d+$/.test(e.hash) && createHash(e.hash).update(signer.der).digest().equals(e.value))) {
    fail(SIGNING_ERROR_CODES.tbsChanged, 'ESS signing-certificate-v2 does not match the returned signer certificate');
  }
}

/** Check one returned task against what we stored and build the signed document (or .p7s). */
export function assembleSignedTask(pending: PendingSignTask, returned: ParsedSignTask, ctx: AssemblyContext): { bytes: Buffer; detached: boolean } {
  const expectedType = pending.format === 'xml' ? 'XML' : pending.format === 'pdf' ? 'PDF' : 'CMS';
  if (returned.sigType !== expectedType) fail(SIGNING_ERROR_CODES.tasks, `task ${pending.taskId}: SigType ${returned.sigType} differs from ${expectedType}`);
  if (returned.adesType !== 'BES') fail(SIGNING_ERROR_CODES.tasks, `task ${pending.taskId}: AdESType ${returned.adesType} differs from the BES we asked for`);
  if (!returned.signature || returned.signature.length === 0) fail(SIGNING_ERROR_CODES.tasks, `task ${pending.taskId}: no Base64Signature`);
  if (returned.signatureType !== undefined && returned.signatureType !== ctx.signatureAlgorithm) {
    fail(SIGNING_ERROR_CODES.tasks, `task ${pending.taskId}: signature algorithm ${returned.signatureType} is not the one requested`);
  }
  const signer = ctx.chain[0]!;
  if (pending.format === 'xml') return { bytes: assembleXmlTask(pending, returned, ctx), detached: false };
  const keyType = signer.node.publicKey.asymmetricKeyType === 'ec' ? 'EC' : 'RSA';
  if (keyType === 'EC' && !isEcdsa(ctx.signatureAlgorithm)) fail(SIGNING_ERROR_CODES.tasks, 'EC signer certificate for an RSA request');
  const sent = Buffer.from(pending.toBeSignedBytes, 'base64');
  if (pending.format === 'pdf') {
    const prepared = Buffer.from(pending.preparedPdf, 'base64');
    checkReturnedAttributes(sent, returned.toBeSignedBytes, byteRangeDigest(prepared, pending.byteRange), signer);
    checkSignatureValue(returned.toBeSignedBytes, returned.signature!, signer, false, ctx);
    const cms = assembleCms({ signedAttributes: returned.toBeSignedBytes, signature: returned.signature!, certificates: embeddable(ctx.chain), keyType });
    return { bytes: embedCms(prepared, pending.byteRange, cms), detached: false };
  }
  checkReturnedAttributes(sent, returned.toBeSignedBytes, Buffer.from(pending.contentSha256, 'base64'), signer);
  checkSignatureValue(returned.toBeSignedBytes, returned.signature!, signer, false, ctx);
  return { bytes: assembleCms({ signedAttributes: returned.toBeSignedBytes, signature: returned.signature!, certificates: embeddable(ctx.chain), keyType }), detached: true };
}
