// sdk.md §8 ("Security": WS-Security 1.1, RSA-SHA256, BinarySecurityToken) and dependencies.md "XML security
// rules" 2–10: signing and verifying the WS-Security header of an AS4 message ourselves (the soap package does
// not verify signatures). One ds:Signature in wsse:Security signs eb:Messaging, soap:Body, wsu:Timestamp and
// every MIME attachment (SwA Attachment-Content-Signature-Transform); the key is an X.509 BinarySecurityToken.
//
// Verification trusts nothing the message says about itself: the token certificate must chain to a
// configured CA; the signed elements are found by POSITION (Body under Envelope, Messaging under Header,
// Timestamp under Security), their Ids must be unique and referenced; only allow-listed algorithms and
// transforms are accepted; comments and processing instructions are refused; the canonical form of what was
// digested is returned, and callers read values only from it (rule 6).
import { createHash, createPrivateKey, randomUUID, sign as cryptoSign, timingSafeEqual, verify as cryptoVerify, X509Certificate, type KeyObject } from 'node:crypto';
import type { Document, Element, Node } from '@xmldom/xmldom';
import { ExclusiveCanonicalization } from 'xml-crypto';
import { assertNoCommentsOrPIs, childElements, childrenNamed, isNamed, parseXmlSafely, textOf, XmlSafetyError } from '../../shared/xml-safe-parse.js';
import { leafCertificate, verifyCertificateChain, type TrustStore } from '../../shared/x509-trust.js';
import { AS4_NS, DIGEST_METHODS, DSIG, SIGNATURE_METHODS, WSS } from './as4.constants.js';

// ---------------------------------------------------------------------------------------------------------
// Shared types

export interface WssSigningKey {
  /** PKCS#8 PEM (or a KeyObject made from it, cached by the caller). */
  privateKey: string | KeyObject;
  /** The signer (AP) certificate; the first certificate of the PEM goes into the BinarySecurityToken. */
  certificatePem: string;
}

/** One ds:Reference as signed (and as echoed in a receipt's NonRepudiationInformation). */
export interface SignedReference {
  uri: string;
  transforms: string[];
  /** PrefixList of an exc-c14n transform's InclusiveNamespaces, when present. */
  inclusivePrefixes?: string[];
  digestMethod: string;
  digestValue: string;
}

/** What a WS-Security signature covers in an attachment: its Content-ID and the MIME content octets. */
export interface SignedAttachment {
  contentId: string;
  contentType: string;
  body: Uint8Array;
}

export class WssError extends Error {
  /** A stable reason code for logs and tests (never content). */
  readonly reason: string;
  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WssError';
    this.reason = reason;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Canonicalization and digests

const c14n = new ExclusiveCanonicalization();
type C14nElement = Parameters<ExclusiveCanonicalization['process']>[0];

/** In-scope namespace declarations of the ancestors of `el` (nearest wins), for InclusiveNamespaces. */
function ancestorNamespaces(el: Element): Array<{ prefix: string; namespaceURI: string }> {
  const seen = new Map<string, string>();
  for (let n: Node | null = el.parentNode; n !== null && n.nodeType === 1; n = n.parentNode) {
    const attrs = (n as Element).attributes;
    for (let i = 0; i < attrs.length; i++) {
      const a = attrs.item(i)!;
      if (a.prefix === 'xmlns' && !seen.has(a.localName ?? '')) seen.set(a.localName ?? '', a.value);
    }
  }
  return [...seen].map(([prefix, namespaceURI]) => ({ prefix, namespaceURI }));
}

/** Exclusive XML canonicalization (without comments) of one element in its document context. */
export function canonicalize(el: Element, inclusivePrefixes: readonly string[] = []): string {
  const opts = inclusivePrefixes.length > 0 ? { inclusiveNamespacesPrefixList: [...inclusivePrefixes], ancestorNamespaces: ancestorNamespaces(el) } : { inclusiveNamespacesPrefixList: [] as string[] };
  return c14n.process(el as unknown as C14nElement, opts) as string;
}

function isXmlMediaType(mediaType: string): boolean {
  return mediaType === 'text/xml' || mediaType === 'application/xml' || /^[a-z]+\/[a-z0-9.+-]*\+xml$/.test(mediaType);
}

/**
 * The octets the SwA Attachment-Content-Signature-Transform digests (SwA profile 1.1 §5.4.2): XML content
 * types are exclusive-C14N canonicalized, other text types get CRLF line ends, everything else (our gzip
 * payloads) is digested exactly as carried.
 */
export function attachmentDigestInput(contentType: string, body: Uint8Array, maxXmlBytes: number): Buffer {
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (isXmlMediaType(mediaType)) {
    const doc = parseXmlSafely(buf, { maxBytes: maxXmlBytes, maxDepth: 128 });
    return Buffer.from(canonicalize(doc.documentElement!), 'utf8');
  }
  if (mediaType.startsWith('text/')) return Buffer.from(buf.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
  return buf;
}

function digest(hash: 'sha256' | 'sha512', data: string | Buffer): Buffer {
  return createHash(hash).update(data).digest();
}

// ---------------------------------------------------------------------------------------------------------
// Signing

export interface SecureEnvelopeInput {
  /** The eb:Messaging element (with its namespace declarations); must carry wsu:Id="{messagingId}". */
  messagingXml: string;
  messagingId: string;
  /** Content of soap:Body (empty for AS4 user messages and signals). */
  bodyContent?: string;
  attachments?: readonly SignedAttachment[];
  key: WssSigningKey;
  now: Date;
  ttlSeconds: number;
  signatureMethod?: string;
  digestMethod?: string;
  /** Largest XML attachment we canonicalize (only uncompressed XML attachments are canonicalized). */
  maxXmlAttachmentBytes?: number;
}

export interface SecuredEnvelope {
  xml: string;
  references: SignedReference[];
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;').replace(/\r/g, '&#xD;').replace(/\n/g, '&#xA;').replace(/\t/g, '&#x9;');
}

const xsDateTime = (d: Date): string => d.toISOString();

// Parsing certificates costs more than the RSA operations of a small message; the set of certificates an AP
// sees is small (its own, its peers'), so parsed forms are cached per PEM / per base64 token.
const LRU_MAX = 256;
function cached<V>(map: Map<string, V>, key: string, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = make();
    if (map.size >= LRU_MAX) map.delete(map.keys().next().value!);
    map.set(key, v);
  }
  return v;
}
const leafDerByPem = new Map<string, Buffer>();
/** DER of the first certificate of a PEM (cached). */
export function leafDer(pem: string): Buffer {
  return cached(leafDerByPem, pem, () => leafCertificate(pem).raw);
}
const certByToken = new Map<string, X509Certificate>();

function signerBst(certificatePem: string): string {
  return leafDer(certificatePem).toString('base64');
}

// Successful chain checks per trust store and certificate, reused for a short while (they depend only on
// configuration and time; the certificate's own validity is re-checked on every use).
const CHAIN_CACHE_MS = 5 * 60_000;
const chainCache = new WeakMap<TrustStore, Map<string, number>>();
function checkChain(cert: X509Certificate, trust: TrustStore, at: Date): { ok: true } | { ok: false; reason: string } {
  const t = at.getTime();
  const byCert = chainCache.get(trust) ?? new Map<string, number>();
  chainCache.set(trust, byCert);
  const key = cert.fingerprint256;
  const until = byCert.get(key);
  if (until !== undefined && t <= until && new Date(cert.validFrom).getTime() <= t && t <= new Date(cert.validTo).getTime()) return { ok: true };
  const r = verifyCertificateChain(cert, trust, { at });
  if (!r.ok) return r;
  if (byCert.size >= LRU_MAX) byCert.delete(byCert.keys().next().value!);
  byCert.set(key, t + CHAIN_CACHE_MS);
  return { ok: true };
}

/**
 * Build the SOAP 1.2 envelope around `messagingXml` with a wsse:Security header (BinarySecurityToken, the
 * signature, Timestamp) that signs Messaging, Body, Timestamp and each attachment.
 */
export function secureEnvelope(input: SecureEnvelopeInput): SecuredEnvelope {
  const signatureMethod = input.signatureMethod ?? DSIG.rsaSha256;
  const digestMethod = input.digestMethod ?? DSIG.sha256;
  const sigAlg = SIGNATURE_METHODS[signatureMethod];
  const hash = DIGEST_METHODS[digestMethod];
  if (sigAlg === undefined || sigAlg.ecdsa || hash === undefined) throw new Error('unsupported signature or digest method for signing');
  const suffix = randomUUID();
  const bodyId = `_body-${suffix}`;
  const tsId = `TS-${suffix}`;
  const bstId = `X509-${suffix}`;
  const expires = new Date(input.now.getTime() + input.ttlSeconds * 1000);
  const security = (signature: string): string =>
    `<wsse:Security xmlns:wsse="${AS4_NS.wsse}" xmlns:wsu="${AS4_NS.wsu}" env:mustUnderstand="true">` +
    `<wsse:BinarySecurityToken EncodingType="${WSS.base64Binary}" ValueType="${WSS.x509v3}" wsu:Id="${bstId}">${signerBst(input.key.certificatePem)}</wsse:BinarySecurityToken>` +
    signature +
    `<wsu:Timestamp wsu:Id="${tsId}"><wsu:Created>${xsDateTime(input.now)}</wsu:Created><wsu:Expires>${xsDateTime(expires)}</wsu:Expires></wsu:Timestamp>` +
    `</wsse:Security>`;
  const envelope = (signature: string): string =>
    `<env:Envelope xmlns:env="${AS4_NS.soap12}"><env:Header>${input.messagingXml}${security(signature)}</env:Header>` +
    `<env:Body xmlns:wsu="${AS4_NS.wsu}" wsu:Id="${bodyId}">${input.bodyContent ?? ''}</env:Body></env:Envelope>`;

  // Digest the referenced elements in the context of the envelope they will travel in.
  const unsigned = parseXmlSafely(envelope(''), { maxBytes: 16 * 1024 * 1024 });
  const located = locateSignedParts(unsigned);
  if (located.messaging.getAttributeNS(AS4_NS.wsu, 'Id') !== input.messagingId) throw new Error('eb:Messaging does not carry the expected wsu:Id');
  const references: SignedReference[] = [];
  const addElementRef = (id: string, el: Element): void => {
    references.push({ uri: `#${id}`, transforms: [DSIG.excC14n], digestMethod, digestValue: digest(hash, canonicalize(el)).toString('base64') });
  };
  addElementRef(input.messagingId, located.messaging);
  addElementRef(bodyId, located.body);
  addElementRef(tsId, located.timestamp);
  for (const a of input.attachments ?? []) {
    const bytes = attachmentDigestInput(a.contentType, a.body, input.maxXmlAttachmentBytes ?? 256 * 1024 * 1024);
    references.push({ uri: `cid:${a.contentId}`, transforms: [WSS.attachmentContentTransform], digestMethod, digestValue: digest(hash, bytes).toString('base64') });
  }

  // Written directly in exclusive-C14N form as it will stand in the document (only the ds namespace is
  // rendered, start/end tag pairs, C14N attribute escaping): this text is what is signed. A unit test proves
  // it equals the canonicalization of the parsed element.
  const signedInfo =
    `<ds:SignedInfo xmlns:ds="${AS4_NS.ds}"><ds:CanonicalizationMethod Algorithm="${DSIG.excC14n}"></ds:CanonicalizationMethod>` +
    `<ds:SignatureMethod Algorithm="${signatureMethod}"></ds:SignatureMethod>${references.map(referenceXml).join('')}</ds:SignedInfo>`;
  const canonicalSignedInfo = signedInfo;
  const key = typeof input.key.privateKey === 'string' ? createPrivateKey(input.key.privateKey) : input.key.privateKey;
  const value = cryptoSign(sigAlg.hash, Buffer.from(canonicalSignedInfo, 'utf8'), key).toString('base64');
  const signature =
    `<ds:Signature xmlns:ds="${AS4_NS.ds}" Id="SIG-${suffix}">${signedInfo.replace(` xmlns:ds="${AS4_NS.ds}"`, '')}` +
    `<ds:SignatureValue>${value}</ds:SignatureValue><ds:KeyInfo><wsse:SecurityTokenReference>` +
    `<wsse:Reference URI="#${bstId}" ValueType="${WSS.x509v3}"></wsse:Reference></wsse:SecurityTokenReference></ds:KeyInfo></ds:Signature>`;
  return { xml: envelope(signature), references };
}

/** A ds:Reference element (prefix ds in scope), as in SignedInfo and in NonRepudiationInformation. */
export function referenceXml(r: SignedReference): string {
  const transforms = r.transforms
    .map((t) =>
      t === DSIG.excC14n && r.inclusivePrefixes !== undefined && r.inclusivePrefixes.length > 0
        ? `<ds:Transform Algorithm="${t}"><ec:InclusiveNamespaces xmlns:ec="${AS4_NS.ec}" PrefixList="${escapeAttr(r.inclusivePrefixes.join(' '))}"></ec:InclusiveNamespaces></ds:Transform>`
        : `<ds:Transform Algorithm="${escapeAttr(t)}"></ds:Transform>`,
    )
    .join('');
  return (
    `<ds:Reference URI="${escapeAttr(r.uri)}"><ds:Transforms>${transforms}</ds:Transforms>` +
    `<ds:DigestMethod Algorithm="${escapeAttr(r.digestMethod)}"></ds:DigestMethod><ds:DigestValue>${r.digestValue}</ds:DigestValue></ds:Reference>`
  );
}

// ---------------------------------------------------------------------------------------------------------
// Locating the parts a WS-Security signature must cover, by position

interface SignedParts {
  envelope: Element;
  header: Element;
  body: Element;
  messaging: Element;
  security: Element;
  timestamp: Element;
}

function exactlyOne(parent: Node, ns: string, local: string, what: string): Element {
  const found = childrenNamed(parent, ns, local);
  if (found.length !== 1) throw new WssError('STRUCTURE', `expected exactly one ${what}, found ${found.length}`);
  return found[0]!;
}

function locateSignedParts(doc: Document): SignedParts {
  const envelope = doc.documentElement;
  if (envelope === null || !isNamed(envelope, AS4_NS.soap12, 'Envelope')) throw new WssError('STRUCTURE', 'not a SOAP 1.2 envelope');
  const kids = childElements(envelope);
  if (kids.length !== 2 || !isNamed(kids[0]!, AS4_NS.soap12, 'Header') || !isNamed(kids[1]!, AS4_NS.soap12, 'Body')) {
    throw new WssError('STRUCTURE', 'the envelope must consist of Header and Body');
  }
  const header = kids[0]!;
  const body = kids[1]!;
  const messaging = exactlyOne(header, AS4_NS.eb, 'Messaging', 'eb:Messaging header');
  const security = exactlyOne(header, AS4_NS.wsse, 'Security', 'wsse:Security header');
  const timestamp = exactlyOne(security, AS4_NS.wsu, 'Timestamp', 'wsu:Timestamp');
  return { envelope, header, body, messaging, security, timestamp };
}

// ---------------------------------------------------------------------------------------------------------
// Verifying

export interface VerifyEnvelopeOptions {
  /** Configured CAs: the BinarySecurityToken certificate must chain to one of them. */
  trust: TrustStore;
  /** Attachments by Content-ID (the MIME parts other than the root). */
  attachments?: ReadonlyMap<string, { contentType: string; body: Uint8Array }>;
  now: Date;
  clockSkewMs: number;
  /** Accept a Timestamp without Expires only if Created is at most this old. Default 15 minutes. */
  maxAgeMs?: number;
  /** Largest SOAP envelope accepted. Default 4 MiB. */
  maxEnvelopeBytes?: number;
  maxXmlAttachmentBytes?: number;
}

export interface VerifiedEnvelope {
  /** The token certificate, chain-checked against the trust store. */
  signer: X509Certificate;
  /** Exclusive-C14N form of eb:Messaging exactly as digested: read every value from this. */
  messagingXml: string;
  /** Exclusive-C14N form of soap:Body as digested. */
  bodyXml: string;
  /** The references of SignedInfo (for the receipt's NonRepudiationInformation). */
  references: SignedReference[];
  /** Content-IDs of the attachments covered by the signature (all of them, or verification fails). */
  signedAttachments: string[];
  created: Date;
  expires?: Date;
}

/** Other header blocks the sender may add without us having to understand them. */
function assertNoUnknownMandatoryHeaders(header: Element): void {
  for (const h of childElements(header)) {
    if (isNamed(h, AS4_NS.eb, 'Messaging') || isNamed(h, AS4_NS.wsse, 'Security')) continue;
    const mu = h.getAttributeNS(AS4_NS.soap12, 'mustUnderstand');
    if (mu === 'true' || mu === '1') throw new WssError('STRUCTURE', 'a header block we do not understand is marked mustUnderstand');
  }
}

function idAttributeValues(doc: Document): Map<string, number> {
  const counts = new Map<string, number>();
  const stack: Node[] = [doc.documentElement!];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n.nodeType !== 1) continue;
    const el = n as Element;
    for (let i = 0; i < el.attributes.length; i++) {
      const a = el.attributes.item(i)!;
      const local = a.localName ?? a.name;
      if (local === 'Id' || local === 'ID' || local === 'id') counts.set(a.value, (counts.get(a.value) ?? 0) + 1);
    }
    for (let c = el.firstChild; c; c = c.nextSibling) if (c.nodeType === 1) stack.push(c);
  }
  return counts;
}

function algorithmOf(el: Element): string {
  return el.getAttribute('Algorithm') ?? '';
}

/** The InclusiveNamespaces PrefixList under a c14n method/transform, or []; anything else inside is refused. */
function inclusivePrefixesOf(el: Element): string[] {
  const kids = childElements(el);
  if (kids.length === 0) return [];
  if (kids.length !== 1 || !isNamed(kids[0]!, AS4_NS.ec, 'InclusiveNamespaces')) throw new WssError('ALGORITHM', 'unexpected parameters of a canonicalization');
  return (kids[0]!.getAttribute('PrefixList') ?? '').split(/\s+/).filter((p) => p.length > 0);
}

interface ParsedReference extends SignedReference {
  hash: 'sha256' | 'sha512';
}

function parseReference(ref: Element): ParsedReference {
  const uri = ref.getAttribute('URI');
  if (uri === null || uri === '') throw new WssError('REFERENCE', 'a reference without URI');
  const kids = childElements(ref);
  const names = kids.map((k) => (k.namespaceURI === AS4_NS.ds ? k.localName : '?'));
  if (names.join(',') !== 'Transforms,DigestMethod,DigestValue') throw new WssError('REFERENCE', 'a reference must consist of Transforms, DigestMethod and DigestValue');
  const transforms = childElements(kids[0]!);
  if (transforms.length !== 1 || !isNamed(transforms[0]!, AS4_NS.ds, 'Transform')) throw new WssError('ALGORITHM', 'each reference must have exactly one transform');
  const transform = algorithmOf(transforms[0]!);
  const isCid = uri.startsWith('cid:');
  let inclusivePrefixes: string[] = [];
  if (isCid) {
    if (transform !== WSS.attachmentContentTransform || childElements(transforms[0]!).length > 0) throw new WssError('ALGORITHM', 'attachments must be signed with the Attachment-Content-Signature-Transform');
  } else if (uri.startsWith('#')) {
    if (transform !== DSIG.excC14n) throw new WssError('ALGORITHM', 'elements must be signed with exclusive C14N');
    inclusivePrefixes = inclusivePrefixesOf(transforms[0]!);
  } else {
    throw new WssError('REFERENCE', 'only same-document (#id) and attachment (cid:) references are accepted');
  }
  const digestMethod = algorithmOf(kids[1]!);
  const hash = DIGEST_METHODS[digestMethod];
  if (hash === undefined) throw new WssError('ALGORITHM', 'digest algorithm not allowed');
  const digestValue = textOf(kids[2]!).replace(/\s+/g, '');
  return { uri, transforms: [transform], ...(inclusivePrefixes.length > 0 ? { inclusivePrefixes } : {}), digestMethod, digestValue, hash };
}

function sameDigest(expectedB64: string, actual: Buffer): boolean {
  const expected = Buffer.from(expectedB64, 'base64');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** The BinarySecurityToken the KeyInfo points to, as a certificate. */
function tokenCertificate(security: Element, signature: Element): X509Certificate {
  const keyInfo = childrenNamed(signature, AS4_NS.ds, 'KeyInfo');
  if (keyInfo.length !== 1) throw new WssError('KEY', 'the signature must have one KeyInfo');
  const strs = childElements(keyInfo[0]!);
  if (strs.length !== 1 || !isNamed(strs[0]!, AS4_NS.wsse, 'SecurityTokenReference')) throw new WssError('KEY', 'KeyInfo must hold one SecurityTokenReference');
  const refs = childElements(strs[0]!);
  if (refs.length !== 1 || !isNamed(refs[0]!, AS4_NS.wsse, 'Reference')) throw new WssError('KEY', 'the SecurityTokenReference must reference a BinarySecurityToken');
  const target = refs[0]!.getAttribute('URI') ?? '';
  const tokens = childrenNamed(security, AS4_NS.wsse, 'BinarySecurityToken');
  if (tokens.length !== 1) throw new WssError('KEY', `expected exactly one BinarySecurityToken, found ${tokens.length}`);
  const bst = tokens[0]!;
  if (target !== `#${bst.getAttributeNS(AS4_NS.wsu, 'Id')}`) throw new WssError('KEY', 'the KeyInfo does not reference the BinarySecurityToken');
  if (bst.getAttribute('ValueType') !== WSS.x509v3) throw new WssError('KEY', 'the BinarySecurityToken is not an X.509 v3 certificate');
  const enc = bst.getAttribute('EncodingType');
  if (enc !== null && enc !== '' && enc !== WSS.base64Binary) throw new WssError('KEY', 'the BinarySecurityToken is not base64');
  try {
    const token = textOf(bst).replace(/\s+/g, '');
    return cached(certByToken, token, () => new X509Certificate(Buffer.from(token, 'base64')));
  } catch (e) {
    throw new WssError('KEY', 'the BinarySecurityToken cannot be read', { cause: e });
  }
}

function parseTime(el: Element | undefined, what: string): Date | undefined {
  if (el === undefined) return undefined;
  const t = textOf(el).trim();
  const d = new Date(t);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(t) || Number.isNaN(d.getTime())) throw new WssError('TIMESTAMP', `${what} is not a zoned xs:dateTime`);
  return d;
}

/**
 * Verify the WS-Security signature of a received SOAP envelope. Throws WssError with a stable `reason`:
 * UNSAFE_XML, STRUCTURE, SIGNATURE_COUNT, ALGORITHM, REFERENCE, KEY, UNTRUSTED_CERTIFICATE, INVALID_SIGNATURE,
 * DIGEST_MISMATCH, TIMESTAMP.
 */
export function verifyEnvelope(soap: Buffer | string, opts: VerifyEnvelopeOptions): VerifiedEnvelope {
  let doc: Document;
  try {
    doc = parseXmlSafely(soap, { maxBytes: opts.maxEnvelopeBytes ?? 4 * 1024 * 1024, maxDepth: 48 });
    // Rule 7, applied to the whole envelope: nothing in an AS4 header needs a comment or a PI.
    assertNoCommentsOrPIs(doc.documentElement!);
  } catch (e) {
    throw new WssError('UNSAFE_XML', e instanceof XmlSafetyError ? e.message : 'the SOAP envelope is not acceptable XML', { cause: e });
  }
  const parts = locateSignedParts(doc);
  assertNoUnknownMandatoryHeaders(parts.header);

  // Rule 5: exactly one signature in the whole document, and it sits in wsse:Security.
  const signatures = Array.from(doc.getElementsByTagNameNS(AS4_NS.ds, 'Signature'));
  if (signatures.length !== 1) throw new WssError('SIGNATURE_COUNT', `expected exactly one ds:Signature, found ${signatures.length}`);
  const signature = signatures[0]! as unknown as Element;
  if (signature.parentNode !== parts.security) throw new WssError('STRUCTURE', 'the signature is not in the wsse:Security header');
  const securityKids = childElements(parts.security).map((k) => `${k.namespaceURI}|${k.localName}`);
  const allowed = new Set([`${AS4_NS.wsse}|BinarySecurityToken`, `${AS4_NS.ds}|Signature`, `${AS4_NS.wsu}|Timestamp`]);
  // Encryption (xenc:EncryptedKey / EncryptedData) is not part of our P-mode; refuse rather than ignore it.
  if (securityKids.some((k) => !allowed.has(k))) throw new WssError('STRUCTURE', 'the wsse:Security header holds elements this access point does not accept (encryption is not supported)');

  const sigKids = childElements(signature);
  const sigNames = sigKids.map((k) => (k.namespaceURI === AS4_NS.ds ? k.localName : '?'));
  if (sigNames.join(',') !== 'SignedInfo,SignatureValue,KeyInfo') throw new WssError('STRUCTURE', 'the signature must consist of SignedInfo, SignatureValue and KeyInfo');
  const signedInfo = sigKids[0]!;
  const siKids = childElements(signedInfo);
  if (siKids.length < 3 || !isNamed(siKids[0]!, AS4_NS.ds, 'CanonicalizationMethod') || !isNamed(siKids[1]!, AS4_NS.ds, 'SignatureMethod')) {
    throw new WssError('STRUCTURE', 'SignedInfo must hold CanonicalizationMethod, SignatureMethod and references');
  }
  if (algorithmOf(siKids[0]!) !== DSIG.excC14n) throw new WssError('ALGORITHM', 'SignedInfo must use exclusive C14N');
  const signedInfoPrefixes = inclusivePrefixesOf(siKids[0]!);
  const method = SIGNATURE_METHODS[algorithmOf(siKids[1]!)];
  if (method === undefined) throw new WssError('ALGORITHM', 'signature algorithm not allowed');
  if (childElements(siKids[1]!).length > 0) throw new WssError('ALGORITHM', 'signature method parameters (HMAC output length) are not allowed');
  const refEls = siKids.slice(2);
  if (refEls.some((r) => !isNamed(r, AS4_NS.ds, 'Reference'))) throw new WssError('STRUCTURE', 'SignedInfo holds something other than references');
  const references = refEls.map(parseReference);
  if (new Set(references.map((r) => r.uri)).size !== references.length) throw new WssError('REFERENCE', 'the same URI is referenced twice');

  // Rule 6: Ids unique, the three required elements referenced by their own Ids, nothing else by Id.
  const idCounts = idAttributeValues(doc);
  const required: Array<[string, Element]> = [
    ['eb:Messaging', parts.messaging],
    ['soap:Body', parts.body],
    ['wsu:Timestamp', parts.timestamp],
  ];
  const elementFor = new Map<string, Element>();
  for (const [what, el] of required) {
    const id = el.getAttributeNS(AS4_NS.wsu, 'Id');
    if (id === null || id === '') throw new WssError('REFERENCE', `${what} carries no wsu:Id`);
    if ((idCounts.get(id) ?? 0) !== 1) throw new WssError('REFERENCE', `the Id of ${what} is not unique in the message`);
    if (!references.some((r) => r.uri === `#${id}`)) throw new WssError('REFERENCE', `${what} is not signed`);
    elementFor.set(`#${id}`, el);
  }
  const attachments = opts.attachments ?? new Map<string, { contentType: string; body: Uint8Array }>();
  for (const r of references) {
    if (r.uri.startsWith('#') && !elementFor.has(r.uri)) throw new WssError('REFERENCE', 'a reference points at an element other than Messaging, Body or Timestamp');
    if (r.uri.startsWith('cid:') && !attachments.has(r.uri.slice(4))) throw new WssError('REFERENCE', 'a reference points at an attachment that is not in the message');
  }
  for (const cid of attachments.keys()) {
    if (!references.some((r) => r.uri === `cid:${cid}`)) throw new WssError('REFERENCE', 'an attachment is not signed');
  }

  // Rule 4: the token certificate is used only after its chain to a configured CA was checked.
  const signer = tokenCertificate(parts.security, signature);
  const chain = checkChain(signer, opts.trust, opts.now);
  if (!chain.ok) throw new WssError('UNTRUSTED_CERTIFICATE', chain.reason);

  const canonicalSignedInfo = canonicalize(signedInfo, signedInfoPrefixes);
  const value = Buffer.from(textOf(sigKids[1]!).replace(/\s+/g, ''), 'base64');
  const ok = cryptoVerify(method.hash, Buffer.from(canonicalSignedInfo, 'utf8'), method.ecdsa ? { key: signer.publicKey, dsaEncoding: 'ieee-p1363' } : signer.publicKey, value);
  if (!ok) throw new WssError('INVALID_SIGNATURE', 'the signature value does not verify');

  const canonical = new Map<string, string>();
  for (const r of references) {
    if (r.uri.startsWith('#')) {
      const text = canonicalize(elementFor.get(r.uri)!, r.inclusivePrefixes ?? []);
      if (!sameDigest(r.digestValue, digest(r.hash, text))) throw new WssError('DIGEST_MISMATCH', 'a signed header or the body was changed');
      canonical.set(r.uri, text);
    } else {
      const a = attachments.get(r.uri.slice(4))!;
      let input: Buffer;
      try {
        input = attachmentDigestInput(a.contentType, a.body, opts.maxXmlAttachmentBytes ?? 256 * 1024 * 1024);
      } catch (e) {
        throw new WssError('DIGEST_MISMATCH', 'an XML attachment cannot be canonicalized', { cause: e });
      }
      if (!sameDigest(r.digestValue, digest(r.hash, input))) throw new WssError('DIGEST_MISMATCH', 'an attachment was changed');
    }
  }

  // Rule 9: a signed Timestamp, checked with a small clock skew.
  const tsKids = childElements(parts.timestamp);
  const created = parseTime(tsKids.find((k) => isNamed(k, AS4_NS.wsu, 'Created')), 'Created');
  const expires = parseTime(tsKids.find((k) => isNamed(k, AS4_NS.wsu, 'Expires')), 'Expires');
  if (created === undefined) throw new WssError('TIMESTAMP', 'the Timestamp has no Created');
  const now = opts.now.getTime();
  if (created.getTime() > now + opts.clockSkewMs) throw new WssError('TIMESTAMP', 'the message was created in the future');
  if (expires !== undefined && expires.getTime() < now - opts.clockSkewMs) throw new WssError('TIMESTAMP', 'the message has expired');
  if (expires === undefined && created.getTime() < now - (opts.maxAgeMs ?? 15 * 60_000) - opts.clockSkewMs) throw new WssError('TIMESTAMP', 'the message is too old');

  const messagingRef = `#${parts.messaging.getAttributeNS(AS4_NS.wsu, 'Id')}`;
  const bodyRef = `#${parts.body.getAttributeNS(AS4_NS.wsu, 'Id')}`;
  return {
    signer,
    messagingXml: canonical.get(messagingRef)!,
    bodyXml: canonical.get(bodyRef)!,
    references: references.map(({ hash: _hash, ...r }) => r),
    signedAttachments: references.filter((r) => r.uri.startsWith('cid:')).map((r) => r.uri.slice(4)),
    created,
    ...(expires !== undefined ? { expires } : {}),
  };
}
