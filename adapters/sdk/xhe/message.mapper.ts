// sdk.md §4 (message MessageWithAttachments:3, element names and ORDER of the XSD) and §16.1–16.4: build the
// `messagePayload` XML from the domain message and read a validated payload back into it.
import { create } from 'xmlbuilder2';
import type { Document as XDocument, Element as XElement } from '@xmldom/xmldom';
import { NS } from '../../../src/domain/sdk/constants.js';
import type { MessageId, ParticipantId } from '../../../src/domain/sdk/identifiers.js';
import { PARTICIPANT_SCHEME } from '../../../src/domain/sdk/identifiers.js';
import type { AttentionData, ContentFile, InstanceIdentifier, SdkDocument, SdkMessage } from '../../../src/domain/sdk/message.js';
import type { PayloadRange } from '../../../src/domain/sdk/attachments-in-payload.js';
import { childElements, firstChild, stringValue } from '../xml/dom.js';
import { isLargeRunText, LargeTexts } from '../xml/large-text.js';

type XMLBuilder = ReturnType<typeof create>;
const M = NS.message;

function el(parent: XMLBuilder, local: string, value?: string): XMLBuilder {
  const e = parent.ele(M, `tns:${local}`);
  return value === undefined ? e : e.txt(value);
}

function ii(parent: XMLBuilder, local: string, id: InstanceIdentifier): void {
  const e = el(parent, local);
  el(e, 'root', id.root);
  el(e, 'extension', id.extension);
}

function attention(parent: XMLBuilder, a: AttentionData): void {
  const e = el(parent, 'attention');
  for (const p of a.persons) {
    const pe = el(e, 'person');
    if (p.personId) ii(pe, 'personId', p.personId);
    if (p.label !== undefined) el(pe, 'label', p.label);
  }
  const so = el(e, 'subOrganization');
  ii(so, 'organizationId', a.subOrganization.organizationId);
  if (a.subOrganization.label !== undefined) el(so, 'label', a.subOrganization.label);
  for (const r of a.references) {
    const re = el(e, 'reference');
    ii(re, 'referenceId', r.referenceId);
    if (r.label !== undefined) el(re, 'label', r.label);
  }
}

/**
 * Serialize a message as a `messagePayload` element with its own namespace declaration and no XML
 * declaration (it is encrypted as an XML-Enc #Element and must stand alone once decrypted, sdk.md §15).
 */
export function buildMessagePayload(msg: SdkMessage): string {
  return buildPayloadXml(msg, (content) => content);
}

/**
 * The same bytes as `Buffer.from(buildMessagePayload(msg))`, written once: each large attachment goes into
 * the output Buffer straight from its string, never through xmlbuilder2 or a second string (issue 7 memory;
 * ../xml/large-text.ts). Contents that are not plain base64 text are serialized by xmlbuilder2 as before.
 */
export function buildMessagePayloadBytes(msg: SdkMessage): Buffer {
  const big = msg.documents.flatMap((d) => d.files.map((f) => f.content)).filter((c) => isLargeRunText(c));
  if (big.length === 0) return Buffer.from(buildMessagePayload(msg), 'utf8');
  for (;;) {
    const large = LargeTexts.create(big);
    const skeleton = buildPayloadXml(msg, (content) => (isLargeRunText(content) ? large.add({ kind: 'string', text: content }) : content));
    // A label that happened to hold the nonce would be read as a token: pick another nonce.
    if (large.occurrences(skeleton) === large.size) return large.assemble(skeleton);
  }
}

function buildPayloadXml(msg: SdkMessage, contentText: (content: string) => string): string {
  const doc = create({ version: '1.0', encoding: 'UTF-8' });
  const root = doc.ele(M, 'tns:messagePayload');
  const m = el(root, 'message');
  const h = el(m, 'messageHeader');
  el(h, 'creationDateTime', msg.creationDateTime);
  el(h, 'messageId', msg.messageId);
  el(h, 'conversationId', msg.conversationId);
  if (msg.refToMessageId !== undefined) el(h, 'refToMessageId', msg.refToMessageId);
  if (msg.label !== undefined) el(h, 'label', msg.label);
  el(h, 'confidentiality', msg.confidentiality ? 'true' : 'false');
  if (msg.generatingSystem) ii(h, 'generatingSystem', msg.generatingSystem);
  // recipient BEFORE sender (XSD order, §16.4)
  const r = el(h, 'recipient');
  ii(r, 'recipientID', { root: PARTICIPANT_SCHEME, extension: msg.recipient.id });
  if (msg.recipient.label !== undefined) el(r, 'label', msg.recipient.label);
  attention(r, msg.recipient.attention);
  const s = el(h, 'sender');
  ii(s, 'senderID', { root: PARTICIPANT_SCHEME, extension: msg.sender.id });
  if (msg.sender.label !== undefined) el(s, 'label', msg.sender.label);
  if (msg.sender.attention) attention(s, msg.sender.attention);
  const body = el(m, 'messageBody');
  for (const d of msg.documents) {
    const de = el(body, 'documents');
    el(de, 'documentID', d.documentId);
    if (d.documentName !== undefined) el(de, 'documentName', d.documentName);
    if (d.index !== undefined) el(de, 'index', d.index);
    // ContentFiles BEFORE ContentText (XSD order, §16.4)
    for (const f of d.files) {
      const fe = el(de, 'ContentFiles');
      el(fe, 'fileName', f.fileName);
      el(fe, 'contentType', f.contentType);
      el(fe, 'content', contentText(f.content));
    }
    for (const t of d.texts) el(el(de, 'ContentText'), 'characterSequence', t);
  }
  return doc.end({ headless: true, prettyPrint: false });
}

function txt(e: XElement | undefined): string | undefined {
  return e === undefined ? undefined : stringValue(e);
}

function readIi(e: XElement | undefined): InstanceIdentifier | undefined {
  if (e === undefined) return undefined;
  return { root: txt(firstChild(e, M, 'root')) ?? '', extension: txt(firstChild(e, M, 'extension')) ?? '' };
}

function opt<T extends object, K extends string, V>(o: T, k: K, v: V | undefined): T & Partial<Record<K, V>> {
  if (v !== undefined) (o as Record<string, unknown>)[k] = v;
  return o as T & Partial<Record<K, V>>;
}

function readAttention(e: XElement | undefined): AttentionData | undefined {
  if (e === undefined) return undefined;
  const so = firstChild(e, M, 'subOrganization');
  return {
    persons: childElements(e, M, 'person').map((p) => opt(opt({}, 'personId', readIi(firstChild(p, M, 'personId'))), 'label', txt(firstChild(p, M, 'label')))),
    subOrganization: opt({ organizationId: readIi(firstChild(so, M, 'organizationId')) ?? { root: '', extension: '' } }, 'label', txt(firstChild(so, M, 'label'))),
    references: childElements(e, M, 'reference').map((r) =>
      opt({ referenceId: readIi(firstChild(r, M, 'referenceId')) ?? { root: '', extension: '' } }, 'label', txt(firstChild(r, M, 'label'))),
    ),
  };
}

/**
 * Read a payload that passed the XSD and the schematron port into the domain model. Foreign-namespace
 * extension elements are tolerated and not mapped (the exact bytes are kept by the caller). `resolve` turns
 * an attachment `content` that was cut out of the DOM (../xml/large-text.ts) back into its text; when
 * `inPayload` gives a range for it instead, the file is read as `content: ""` plus that range of the payload
 * (the stored form, src/domain/sdk/attachments-in-payload.ts) and its text is never copied.
 */
export function readMessagePayload(doc: XDocument, resolve: (text: string) => string = (t) => t, inPayload?: (text: string) => PayloadRange | undefined): SdkMessage {
  const root = doc.documentElement;
  if (root === null || root.namespaceURI !== M || root.localName !== 'messagePayload') throw new TypeError('not a messagePayload');
  const m = firstChild(root, M, 'message');
  const h = firstChild(m, M, 'messageHeader');
  const r = firstChild(h, M, 'recipient');
  const s = firstChild(h, M, 'sender');
  const recipientAttention = readAttention(firstChild(r, M, 'attention'));
  if (recipientAttention === undefined) throw new TypeError('recipient attention missing');
  const documents: SdkDocument[] = childElements(firstChild(m, M, 'messageBody') as XElement, M, 'documents').map((d) => {
    const doc0: SdkDocument = {
      documentId: txt(firstChild(d, M, 'documentID')) ?? '',
      files: childElements(d, M, 'ContentFiles').map((f): ContentFile => {
        const head = { fileName: txt(firstChild(f, M, 'fileName')) ?? '', contentType: txt(firstChild(f, M, 'contentType')) ?? '' };
        const content = txt(firstChild(f, M, 'content')) ?? '';
        // A big attachment may stay where it is, as a range of the payload (issue 7 memory).
        const range = inPayload?.(content);
        return range !== undefined ? { ...head, content: '', contentInPayload: range } : { ...head, content: resolve(content) };
      }),
      texts: childElements(d, M, 'ContentText').map((t) => txt(firstChild(t, M, 'characterSequence')) ?? ''),
    };
    return opt(opt(doc0, 'documentName', txt(firstChild(d, M, 'documentName'))), 'index', txt(firstChild(d, M, 'index')));
  });
  const msg: SdkMessage = {
    creationDateTime: txt(firstChild(h, M, 'creationDateTime')) ?? '',
    messageId: (txt(firstChild(h, M, 'messageId')) ?? '') as MessageId,
    conversationId: (txt(firstChild(h, M, 'conversationId')) ?? '') as MessageId,
    confidentiality: ['true', '1'].includes((txt(firstChild(h, M, 'confidentiality')) ?? '').trim()),
    recipient: opt({ id: (txt(firstChild(firstChild(r, M, 'recipientID'), M, 'extension')) ?? '') as ParticipantId, attention: recipientAttention }, 'label', txt(firstChild(r, M, 'label'))),
    sender: opt(
      opt({ id: (txt(firstChild(firstChild(s, M, 'senderID'), M, 'extension')) ?? '') as ParticipantId }, 'label', txt(firstChild(s, M, 'label'))),
      'attention',
      readAttention(firstChild(s, M, 'attention')),
    ),
    documents,
  };
  opt(msg, 'refToMessageId', txt(firstChild(h, M, 'refToMessageId')) as MessageId | undefined);
  opt(msg, 'label', txt(firstChild(h, M, 'label')));
  opt(msg, 'generatingSystem', readIi(firstChild(h, M, 'generatingSystem')));
  return msg;
}
