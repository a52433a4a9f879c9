// sdk.md §8: the shape of the ebMS 3 header (eb:Messaging) of our one-way push user messages, of the
// synchronous signed receipt with NonRepudiationInformation, and of error signals. This mapper owns the XML
// shape only; signing is wss.ts, transport is as4.client.ts / as4.server.ts.
import { randomUUID } from 'node:crypto';
import type { Element } from '@xmldom/xmldom';
import { childElements, childrenNamed, isNamed, parseXmlSafely, textOf } from '../../shared/xml-safe-parse.js';
import { AS4_NS, EBMS_ERRORS, type EbmsErrorKind } from './as4.constants.js';
import type { As4Pmode } from './pmode.js';
import { referenceXml, type SignedReference } from './wss.js';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
function escAttr(s: string): string {
  return esc(s).replace(/"/g, '&quot;').replace(/\r/g, '&#xD;').replace(/\n/g, '&#xA;').replace(/\t/g, '&#x9;');
}

/** An ebMS MessageId (RFC 2822 msg-id form, as the ebMS core requires). */
export function newEbmsMessageId(domain: string): string {
  return `${randomUUID()}@${domain}`;
}

export interface UserMessageHeader {
  messageId: string;
  timestamp: Date;
  fromPartyId: string;
  toPartyId: string;
  action: string;
  conversationId: string;
  originalSender: string;
  finalRecipient: string;
  /** The attachment: `cid:<payloadCid>`, its original MIME type and whether it is gzip-compressed. */
  payloadCid: string;
  payloadMimeType: string;
  compressed: boolean;
}

const messagingOpen = (wsuId: string): string =>
  `<eb:Messaging xmlns:eb="${AS4_NS.eb}" xmlns:env="${AS4_NS.soap12}" xmlns:wsu="${AS4_NS.wsu}" env:mustUnderstand="true" wsu:Id="${escAttr(wsuId)}">`;

/** eb:Messaging with one UserMessage (sdk.md §8: PartyInfo of the APs, properties of the participants). */
export function userMessagingXml(pmode: As4Pmode, h: UserMessageHeader, wsuId: string): string {
  const prop = (name: string, value: string): string => `<eb:Property name="${escAttr(name)}" type="${escAttr(pmode.properties.type)}">${esc(value)}</eb:Property>`;
  return (
    messagingOpen(wsuId) +
    `<eb:UserMessage mpc="${escAttr(pmode.mpc)}">` +
    `<eb:MessageInfo><eb:Timestamp>${h.timestamp.toISOString()}</eb:Timestamp><eb:MessageId>${esc(h.messageId)}</eb:MessageId></eb:MessageInfo>` +
    `<eb:PartyInfo>` +
    `<eb:From><eb:PartyId type="${escAttr(pmode.partyIdType)}">${esc(h.fromPartyId)}</eb:PartyId><eb:Role>${esc(pmode.roles.initiator)}</eb:Role></eb:From>` +
    `<eb:To><eb:PartyId type="${escAttr(pmode.partyIdType)}">${esc(h.toPartyId)}</eb:PartyId><eb:Role>${esc(pmode.roles.responder)}</eb:Role></eb:To>` +
    `</eb:PartyInfo>` +
    `<eb:CollaborationInfo><eb:Service type="${escAttr(pmode.service.type)}">${esc(pmode.service.value)}</eb:Service>` +
    `<eb:Action>${esc(h.action)}</eb:Action><eb:ConversationId>${esc(h.conversationId)}</eb:ConversationId></eb:CollaborationInfo>` +
    `<eb:MessageProperties>${prop('originalSender', h.originalSender)}${prop('finalRecipient', h.finalRecipient)}</eb:MessageProperties>` +
    `<eb:PayloadInfo><eb:PartInfo href="cid:${escAttr(h.payloadCid)}"><eb:PartProperties>` +
    `<eb:Property name="MimeType">${esc(h.payloadMimeType)}</eb:Property>` +
    (h.compressed ? `<eb:Property name="CompressionType">application/gzip</eb:Property>` : '') +
    `</eb:PartProperties></eb:PartInfo></eb:PayloadInfo>` +
    `</eb:UserMessage></eb:Messaging>`
  );
}

/** eb:Messaging with a Receipt signal carrying NonRepudiationInformation (AS4 profile §5.1.8). */
export function receiptMessagingXml(opts: { messageId: string; timestamp: Date; refToMessageId: string; references: readonly SignedReference[] }, wsuId: string): string {
  const parts = opts.references
    .map((r) => `<ebbp:MessagePartNRInformation>${referenceXml(r)}</ebbp:MessagePartNRInformation>`)
    .join('');
  return (
    messagingOpen(wsuId) +
    `<eb:SignalMessage><eb:MessageInfo><eb:Timestamp>${opts.timestamp.toISOString()}</eb:Timestamp>` +
    `<eb:MessageId>${esc(opts.messageId)}</eb:MessageId><eb:RefToMessageId>${esc(opts.refToMessageId)}</eb:RefToMessageId></eb:MessageInfo>` +
    `<eb:Receipt><ebbp:NonRepudiationInformation xmlns:ebbp="${AS4_NS.ebbp}" xmlns:ds="${AS4_NS.ds}">${parts}</ebbp:NonRepudiationInformation></eb:Receipt>` +
    `</eb:SignalMessage></eb:Messaging>`
  );
}

export interface EbmsErrorSignal {
  kind: EbmsErrorKind;
  /** Machine-readable detail (e.g. NOT_SERVICED); never message content. */
  detail: string;
  refToMessageId?: string;
}

/**
 * An unsigned SOAP 1.2 fault with an eb:Error signal (errorAsResponse=true). Unsigned on purpose: an error
 * carries no business data, and the TLS channel authenticates the responding AP.
 */
export function errorEnvelope(opts: EbmsErrorSignal & { messageId: string; timestamp: Date }): string {
  const e = EBMS_ERRORS[opts.kind];
  const ref = opts.refToMessageId !== undefined ? `<eb:RefToMessageId>${esc(opts.refToMessageId)}</eb:RefToMessageId>` : '';
  const refAttr = opts.refToMessageId !== undefined ? ` refToMessageInError="${escAttr(opts.refToMessageId)}"` : '';
  const sender = e.category === 'Communication' ? 'env:Receiver' : 'env:Sender';
  return (
    `<env:Envelope xmlns:env="${AS4_NS.soap12}"><env:Header>` +
    `<eb:Messaging xmlns:eb="${AS4_NS.eb}" env:mustUnderstand="true"><eb:SignalMessage><eb:MessageInfo>` +
    `<eb:Timestamp>${opts.timestamp.toISOString()}</eb:Timestamp><eb:MessageId>${esc(opts.messageId)}</eb:MessageId>${ref}</eb:MessageInfo>` +
    `<eb:Error origin="ebMS" category="${e.category}" errorCode="${e.code}" severity="failure" shortDescription="${e.short}"${refAttr}>` +
    `<eb:ErrorDetail>${esc(opts.detail)}</eb:ErrorDetail></eb:Error></eb:SignalMessage></eb:Messaging></env:Header>` +
    `<env:Body><env:Fault><env:Code><env:Value>${sender}</env:Value></env:Code><env:Reason><env:Text xml:lang="en">${esc(e.short)}</env:Text></env:Reason></env:Fault></env:Body></env:Envelope>`
  );
}

// ---------------------------------------------------------------------------------------------------------
// Reading (always from the canonical, signed form of eb:Messaging)

export class EbmsHeaderError extends Error {
  readonly kind: EbmsErrorKind;
  constructor(kind: EbmsErrorKind, message: string) {
    super(message);
    this.name = 'EbmsHeaderError';
    this.kind = kind;
  }
}

function one(parent: Element, local: string): Element {
  const found = childrenNamed(parent, AS4_NS.eb, local);
  if (found.length !== 1) throw new EbmsHeaderError('invalidHeader', `expected exactly one eb:${local}`);
  return found[0]!;
}
function opt(parent: Element, local: string): Element | undefined {
  const found = childrenNamed(parent, AS4_NS.eb, local);
  if (found.length > 1) throw new EbmsHeaderError('invalidHeader', `expected at most one eb:${local}`);
  return found[0];
}
const text = (el: Element): string => textOf(el).trim();

export interface ParsedParty {
  partyIds: Array<{ value: string; type?: string }>;
  role: string;
}

export interface ParsedUserMessage {
  kind: 'user';
  mpc?: string;
  messageId: string;
  timestamp: string;
  refToMessageId?: string;
  from: ParsedParty;
  to: ParsedParty;
  service: { value: string; type?: string };
  action: string;
  conversationId: string;
  agreementRef?: string;
  properties: Array<{ name: string; type?: string; value: string }>;
  parts: Array<{ href: string; properties: Array<{ name: string; value: string }> }>;
}

export interface ParsedReceiptSignal {
  kind: 'receipt';
  messageId: string;
  refToMessageId?: string;
  /** The references echoed in NonRepudiationInformation (URI + digest). */
  references: Array<{ uri: string; digestMethod: string; digestValue: string }>;
}

export interface ParsedErrorSignal {
  kind: 'error';
  messageId?: string;
  refToMessageId?: string;
  errors: Array<{ errorCode: string; severity: string; shortDescription?: string; detail?: string }>;
}

export type ParsedMessaging = ParsedUserMessage | ParsedReceiptSignal | ParsedErrorSignal;

function party(el: Element): ParsedParty {
  const ids = childrenNamed(el, AS4_NS.eb, 'PartyId').map((p) => {
    const type = p.getAttribute('type');
    return { value: text(p), ...(type !== null && type !== '' ? { type } : {}) };
  });
  if (ids.length === 0) throw new EbmsHeaderError('invalidHeader', 'a party without PartyId');
  return { partyIds: ids, role: text(one(el, 'Role')) };
}

function properties(el: Element | undefined): Array<{ name: string; type?: string; value: string }> {
  if (el === undefined) return [];
  return childrenNamed(el, AS4_NS.eb, 'Property').map((p) => {
    const type = p.getAttribute('type');
    return { name: p.getAttribute('name') ?? '', value: text(p), ...(type !== null && type !== '' ? { type } : {}) };
  });
}

/**
 * Read an eb:Messaging element from its canonical XML (the signed form returned by the verifier), or from a
 * response envelope's header when it is an unsigned error signal.
 */
export function readMessaging(messaging: Element): ParsedMessaging {
  if (!isNamed(messaging, AS4_NS.eb, 'Messaging')) throw new EbmsHeaderError('invalidHeader', 'not an eb:Messaging element');
  const kids = childElements(messaging);
  if (kids.length !== 1) throw new EbmsHeaderError('invalidHeader', 'eb:Messaging must carry exactly one message unit');
  const unit = kids[0]!;
  if (isNamed(unit, AS4_NS.eb, 'UserMessage')) {
    const info = one(unit, 'MessageInfo');
    const parties = one(unit, 'PartyInfo');
    const collab = one(unit, 'CollaborationInfo');
    const service = one(collab, 'Service');
    const serviceType = service.getAttribute('type');
    const agreement = opt(collab, 'AgreementRef');
    const ref = opt(info, 'RefToMessageId');
    const payloadInfo = opt(unit, 'PayloadInfo');
    const mpc = unit.getAttribute('mpc');
    return {
      kind: 'user',
      ...(mpc !== null && mpc !== '' ? { mpc } : {}),
      messageId: text(one(info, 'MessageId')),
      timestamp: text(one(info, 'Timestamp')),
      ...(ref !== undefined ? { refToMessageId: text(ref) } : {}),
      from: party(one(parties, 'From')),
      to: party(one(parties, 'To')),
      service: { value: text(service), ...(serviceType !== null && serviceType !== '' ? { type: serviceType } : {}) },
      action: text(one(collab, 'Action')),
      conversationId: text(one(collab, 'ConversationId')),
      ...(agreement !== undefined ? { agreementRef: text(agreement) } : {}),
      properties: properties(opt(unit, 'MessageProperties')),
      parts: payloadInfo === undefined ? [] : childrenNamed(payloadInfo, AS4_NS.eb, 'PartInfo').map((p) => ({ href: p.getAttribute('href') ?? '', properties: properties(opt(p, 'PartProperties')) })),
    };
  }
  if (isNamed(unit, AS4_NS.eb, 'SignalMessage')) {
    const info = one(unit, 'MessageInfo');
    const ref = opt(info, 'RefToMessageId');
    const messageId = opt(info, 'MessageId');
    const receipt = opt(unit, 'Receipt');
    const errors = childrenNamed(unit, AS4_NS.eb, 'Error');
    if (receipt !== undefined) {
      const nri = childrenNamed(receipt, AS4_NS.ebbp, 'NonRepudiationInformation');
      const references =
        nri.length !== 1
          ? []
          : childrenNamed(nri[0]!, AS4_NS.ebbp, 'MessagePartNRInformation').flatMap((p) =>
              childrenNamed(p, AS4_NS.ds, 'Reference').map((r) => ({
                uri: r.getAttribute('URI') ?? '',
                digestMethod: childrenNamed(r, AS4_NS.ds, 'DigestMethod')[0]?.getAttribute('Algorithm') ?? '',
                digestValue: (childrenNamed(r, AS4_NS.ds, 'DigestValue')[0] ? textOf(childrenNamed(r, AS4_NS.ds, 'DigestValue')[0]!) : '').replace(/\s+/g, ''),
              })),
            );
      return { kind: 'receipt', messageId: messageId === undefined ? '' : text(messageId), ...(ref !== undefined ? { refToMessageId: text(ref) } : {}), references };
    }
    if (errors.length > 0) {
      return {
        kind: 'error',
        ...(messageId !== undefined ? { messageId: text(messageId) } : {}),
        ...(ref !== undefined ? { refToMessageId: text(ref) } : {}),
        errors: errors.map((e) => {
          const detail = opt(e, 'ErrorDetail');
          const short = e.getAttribute('shortDescription');
          return { errorCode: e.getAttribute('errorCode') ?? '', severity: e.getAttribute('severity') ?? '', ...(short !== null ? { shortDescription: short } : {}), ...(detail !== undefined ? { detail: text(detail).slice(0, 200) } : {}) };
        }),
      };
    }
    throw new EbmsHeaderError('featureNotSupported', 'a signal other than Receipt or Error');
  }
  throw new EbmsHeaderError('invalidHeader', 'eb:Messaging carries neither UserMessage nor SignalMessage');
}

/** Parse canonical eb:Messaging XML (already verified) and read it. */
export function readMessagingXml(xml: string): ParsedMessaging {
  return readMessaging(parseXmlSafely(xml, { maxBytes: 1024 * 1024, maxDepth: 32 }).documentElement!);
}

/** The eb:Messaging header of an unsigned response envelope (error signals), if there is one. */
export function messagingOfEnvelope(xml: Buffer | string): Element | undefined {
  const doc = parseXmlSafely(xml, { maxBytes: 1024 * 1024, maxDepth: 32 });
  const env = doc.documentElement;
  if (env === null || !isNamed(env, AS4_NS.soap12, 'Envelope')) return undefined;
  const header = childrenNamed(env, AS4_NS.soap12, 'Header')[0];
  return header === undefined ? undefined : childrenNamed(header, AS4_NS.eb, 'Messaging')[0];
}

/** The value of a user-message property (exactly one expected). */
export function propertyValue(m: ParsedUserMessage, name: string): string | undefined {
  const found = m.properties.filter((p) => p.name === name);
  if (found.length > 1) throw new EbmsHeaderError('invalidHeader', `property ${name} is repeated`);
  return found[0]?.value;
}

/** The PartProperty `name` of the part with `href`. */
export function partProperty(part: ParsedUserMessage['parts'][number], name: string): string | undefined {
  return part.properties.find((p) => p.name === name)?.value;
}
