// deliverSecure: the v3 SignedDelivery, the sender signature, the förmedlare's seal over the standalone
// SealedDelivery, the SOAP request, and the DeliveryResult (../shared/specs/digital-post.md §6.3 tree, §6.4
// content rules, §6.5 result, §6.6 recipe rules 1–7, §10 #7/#9/#10/#17; checklist §11 #19–#28).
// The mapper that builds a signed document also signs it (style.md convention 5); keys come in as arguments.
import { createHash } from 'node:crypto';
import { create } from 'xmlbuilder2';
import type { Element } from '@xmldom/xmldom';
import { AppError } from '../../../src/domain/errors.js';
import { DigitalPostError, toWireOrganisationNumber } from '../../../src/domain/digital-post.js';
import type { LetterForDelivery, PreparedDelivery } from '../../../src/ports/digital-post.port.js';
import { signCanonicalDocument, signEnvelopedDocument } from '../../shared/xml-dsig.js';
import type { RawSigner } from '../../shared/signer-pool.js';
import { SOAP11_NS } from '../../shared/soap.js';
import { childrenNamed, isNamed, parseXsBoolean, requiredChild, requiredText, XmlSafetyError } from '../../shared/xml-safe-parse.js';
import { MAX_DELIVER_SECURE_BYTES, MM_NS } from '../shared/namespaces.js';

/** A signing identity: private key and certificate, both PEM contents. */
export interface SigningCredentials {
  keyPem: string;
  certPem: string;
}

/**
 * How the two signatures are computed. Both give byte-identical DigestValue and SignatureValue (a test
 * proves it) and both are verified by xml-crypto and xmlsec1 in tests:
 * - `canonical` (default): our documents are built in canonical form, so the digest is the hash of the
 *   serialisation and only RSA remains (on the worker pool). ~1 ms of main-thread work per signature.
 * - `xml-crypto`: xml-crypto parses, canonicalises and serialises the document (RSA still on the pool);
 *   15–30 ms of main-thread work per signature, which caps throughput whatever the pool size.
 */
export type SigningEngine = 'canonical' | 'xml-crypto';

export interface SealOptions {
  /** The sender's credentials (signs SignedDelivery). */
  sender: SigningCredentials;
  /** Our credentials as förmedlare (signs the SealedDelivery). A direct sender passes the same pair. */
  sealer: SigningCredentials;
  /** Where RSA runs (a SignerPool's sign); default: the calling thread. */
  signer?: RawSigner;
  /** Default `canonical`. */
  engine?: SigningEngine;
}

const M1 = MM_NS.MESSAGE_V1;
const M2 = MM_NS.MESSAGE_V2;
const M3 = MM_NS.MESSAGE_V3;
const SND = MM_NS.SENDER;

// Characters XML 1.0 cannot carry at all (and that a receiver's parser would refuse).
// eslint-disable-next-line no-control-regex
const FORBIDDEN_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

/**
 * Text fields are signed as LF-only (§6.6 rule 5). U+2028/U+2029/U+0085 become LF as well: xmldom (the
 * signer's parser) folds them as XML 1.1 does while an XML 1.0 verifier keeps them, so leaving them would
 * make the digest depend on the verifier.
 */
export function normaliseText(s: string, field: string): string {
  const t = s.replace(/\r\n?/g, '\n').replace(/[\u2028\u2029\u0085]/g, '\n');
  if (FORBIDDEN_CHARS.test(t)) throw new AppError('INVALID_CONTENT', `${field} contains a control character that XML cannot carry.`, { status: 400 });
  return t;
}

/** `Seal/ReceivedTime`: the Europe/Stockholm calendar date, no offset (§10 #17). */
export function stockholmDate(d: Date): string {
  return STOCKHOLM_DATE.format(d);
}
const STOCKHOLM_DATE = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Stockholm', year: 'numeric', month: '2-digit', day: '2-digit' });

/** Attachment `Checksum`: MD5 of the decoded bytes, upper-case hex (§10 #7). */
export function attachmentChecksum(content: Buffer): string {
  return createHash('md5').update(content).digest('hex').toUpperCase();
}

/**
 * The unsigned standalone `<SignedDelivery xmlns="…/Message/v3">` document, prefix-free, without
 * whitespace between elements (§6.3 tree, §6.6 rules 2–4).
 */
export function buildSignedDeliveryXml(letter: LetterForDelivery): string {
  if (letter.subject.length > 255) throw new AppError('INVALID_CONTENT', 'The subject is longer than 255 characters.', { status: 400 });
  if (letter.supportInfo.text.length > 1024) throw new AppError('INVALID_CONTENT', 'The support text is longer than 1,024 characters.', { status: 400 });
  const doc = create().ele(M3, 'SignedDelivery');
  const delivery = doc.ele(M3, 'Delivery');
  const header = delivery.ele(M3, 'Header');
  const sender = header.ele(M2, 'Sender');
  sender.ele(SND, 'Id').txt(toWireOrganisationNumber(letter.sender.organisationNumber));
  sender.ele(SND, 'Name').txt(normaliseText(letter.sender.name, 'sender name'));
  if (letter.sender.attention) sender.ele(SND, 'Attention').txt(normaliseText(letter.sender.attention, 'sender attention'));
  header.ele(M2, 'Recipient').txt(letter.recipient);
  if (letter.reference) header.ele(M2, 'Reference').txt(normaliseText(letter.reference, 'reference'));
  if (letter.correlationId) header.ele(M2, 'CorrelationId').txt(normaliseText(letter.correlationId, 'correlation id'));

  const message = delivery.ele(M3, 'Message');
  const mh = message.ele(M3, 'Header');
  mh.ele(M3, 'Id').txt(normaliseText(letter.deliveryId, 'delivery id'));
  mh.ele(M3, 'Subject').txt(normaliseText(letter.subject, 'subject'));
  const support = mh.ele(M3, 'Supportinfo');
  support.ele(M3, 'Text').txt(normaliseText(letter.supportInfo.text, 'support text'));
  if (letter.supportInfo.url) support.ele(M3, 'URL').txt(normaliseText(letter.supportInfo.url, 'support URL'));
  if (letter.supportInfo.phoneNumber) support.ele(M3, 'PhoneNumber').txt(normaliseText(letter.supportInfo.phoneNumber, 'support phone number'));
  if (letter.supportInfo.emailAddress) support.ele(M3, 'EmailAdress').txt(normaliseText(letter.supportInfo.emailAddress, 'support e-mail address'));
  mh.ele(M3, 'Language').txt(letter.language ?? 'svSE');

  const body = message.ele(M3, 'Body');
  body.ele(M1, 'ContentType').txt(letter.body.contentType);
  // Base64 without line breaks (rule 4).
  body.ele(M1, 'Body').txt(letter.body.content.toString('base64'));
  for (const a of letter.attachments) {
    const att = message.ele(M3, 'Attachment');
    att.ele(M1, 'ContentType').txt(normaliseText(a.contentType, 'attachment content type'));
    att.ele(M1, 'Body').txt(a.content.toString('base64'));
    att.ele(M1, 'Checksum').txt(attachmentChecksum(a.content));
    att.ele(M1, 'Filename').txt(normaliseText(a.filename, 'attachment filename'));
  }
  return doc.end({ headless: true, prettyPrint: false });
}

const SIGNED_ROOT_OPEN = `<SignedDelivery xmlns="${M3}">`;
const SEALED_ROOT_OPEN = `<SealedDelivery xmlns="${M3}">`;

/**
 * The unsigned standalone `<SealedDelivery xmlns="…/Message/v3">` around a signed SignedDelivery
 * (§6.6 rule 1). The SignedDelivery's own default-namespace declaration becomes redundant inside and
 * is dropped, as in the prefix-free canonical form.
 */
export function buildSealedDeliveryXml(signedDeliveryXml: string, receivedDate: string): string {
  if (!signedDeliveryXml.startsWith(SIGNED_ROOT_OPEN)) throw new Error('expected a standalone, prefix-free SignedDelivery');
  if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(receivedDate)) throw new Error('ReceivedTime must be YYYY-MM-DD');
  const inner = `<SignedDelivery>${signedDeliveryXml.slice(SIGNED_ROOT_OPEN.length)}`;
  return `${SEALED_ROOT_OPEN}${inner}<Seal><ReceivedTime xmlns="${M1}">${receivedDate}</ReceivedTime><SignaturesOK xmlns="${M1}">true</SignaturesOK></Seal></SealedDelivery>`;
}

/**
 * The SOAP `deliverSecure` request: the sealed document's three children under
 * `deliverSecure/deliverSecure`, with `xmlns` added on SignedDelivery and Seal and nothing else changed
 * (§6.6 rule 6). String splicing on our own serialisation keeps the signed bytes exactly.
 */
export function toDeliverSecureEnvelope(sealedSignedXml: string): string {
  if (!sealedSignedXml.startsWith(`${SEALED_ROOT_OPEN}<SignedDelivery>`) || !sealedSignedXml.endsWith('</SealedDelivery>')) {
    throw new Error('expected a standalone, prefix-free SealedDelivery');
  }
  const inner = sealedSignedXml.slice(SEALED_ROOT_OPEN.length, -'</SealedDelivery>'.length);
  // Text content escapes '<', so the first "</SignedDelivery><Seal>" is the real boundary.
  const boundary = '</SignedDelivery><Seal>';
  const at = inner.indexOf(boundary);
  if (at < 0) throw new Error('SealedDelivery without Seal after SignedDelivery');
  const wire =
    `<SignedDelivery xmlns="${M3}">` +
    inner.slice('<SignedDelivery>'.length, at) +
    `</SignedDelivery><Seal xmlns="${M3}">` +
    inner.slice(at + boundary.length);
  const S3 = MM_NS.SERVICE_V3;
  return `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="${SOAP11_NS}"><soap:Body><deliverSecure xmlns="${S3}"><deliverSecure>${wire}</deliverSecure></deliverSecure></soap:Body></soap:Envelope>`;
}

export interface SignedAndSealed {
  signedDeliveryXml: string;
  sealedDeliveryXml: string;
  soapRequest: string;
  receivedDate: string;
}

/** Build, sign (sender), seal (förmedlare) and frame one delivery. Two RSA signatures, in that order. */
export async function signAndSeal(letter: LetterForDelivery, opts: SealOptions): Promise<SignedAndSealed> {
  const unsigned = buildSignedDeliveryXml(letter);
  const sign = opts.engine === 'xml-crypto' ? signEnvelopedDocument : signCanonicalDocument;
  // The sender signature is checked against the sender certificate's public key before sealing, which is
  // what SignaturesOK=true asserts (§11 #25).
  const signedDeliveryXml = await sign(unsigned, { ...opts.sender, signer: opts.signer, selfVerify: true });
  const receivedDate = stockholmDate(letter.receivedAt);
  const sealedDeliveryXml = await sign(buildSealedDeliveryXml(signedDeliveryXml, receivedDate), { ...opts.sealer, signer: opts.signer, selfVerify: true });
  return { signedDeliveryXml, sealedDeliveryXml, soapRequest: toDeliverSecureEnvelope(sealedDeliveryXml), receivedDate };
}

/** `signAndSeal` as the port's PreparedDelivery, with the 2 MiB envelope check (§6.4, §10 #6). */
export async function prepareDelivery(letter: LetterForDelivery, opts: SealOptions): Promise<PreparedDelivery> {
  const s = await signAndSeal(letter, opts);
  const soapRequest = Buffer.from(s.soapRequest, 'utf8');
  if (soapRequest.length > MAX_DELIVER_SECURE_BYTES) {
    throw new AppError('TOO_LARGE', 'The signed delivery is larger than the 2 MiB Mina meddelanden allows.', { status: 413 });
  }
  return {
    deliveryId: letter.deliveryId,
    recipient: letter.recipient,
    soapRequest,
    requestSha256: createHash('sha256').update(soapRequest).digest('hex'),
    receivedDate: s.receivedDate,
  };
}

export interface DeliveryResultForRecipient {
  transId: string;
  delivered: boolean;
}

/**
 * Read `deliverSecureResponse/return` and take the status of exactly our recipient (§6.5). A missing or
 * foreign RecipientId is a protocol error, never "delivered".
 */
export function mapDeliverSecureResponse(payload: Element, recipient: string): DeliveryResultForRecipient {
  const protocol = (why: string, cause?: unknown) => new DigitalPostError('OPERATOR_PROTOCOL_ERROR', `The operator's answer is unusable: ${why}.`, {}, cause);
  if (!isNamed(payload, MM_NS.SERVICE_V3, 'deliverSecureResponse')) throw protocol('unexpected element');
  try {
    const ret = requiredChild(payload, MM_NS.SERVICE_V3, 'return');
    const transId = requiredText(ret, MM_NS.SERVICE, 'TransId');
    if (transId === '') throw protocol('empty TransId');
    const mine = childrenNamed(ret, MM_NS.SERVICE, 'Status').filter((s) => requiredText(s, MM_NS.SERVICE, 'RecipientId') === recipient);
    if (mine.length !== 1) throw protocol(mine.length === 0 ? 'no status for our recipient' : 'several statuses for our recipient');
    return { transId, delivered: parseXsBoolean(requiredText(mine[0]!, MM_NS.SERVICE, 'Delivered')) };
  } catch (e) {
    if (e instanceof DigitalPostError) throw e;
    if (e instanceof XmlSafetyError) throw protocol('malformed DeliveryResult', e);
    throw e;
  }
}
