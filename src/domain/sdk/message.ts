// sdk.md §4 (the message MessageWithAttachments:3), §12 (confidentiality), §13 (threads) and §14.6/14.7
// (fields optional in the XSD but required outbound). Pure data; the XML mapping lives in adapters/sdk.
import type { FunctionAddress, MessageId, ParticipantId } from './identifiers.js';
import { FUNCTION_ADDRESS_MAX_LENGTH, parseFunctionAddress, parseMessageId, parseParticipantId } from './identifiers.js';
import { FUNCTION_ADDRESS_ROOT, SDK_LIMITS } from './constants.js';

/** IIType: root = code system, extension = value (sdk.md §2 lists the common roots). */
export interface InstanceIdentifier {
  root: string;
  extension: string;
}

export interface AttentionPerson {
  /** Reference only: addressing is always to a function, never to a person. May be a personnummer. */
  personId?: InstanceIdentifier;
  label?: string;
}

export interface AttentionReference {
  referenceId: InstanceIdentifier;
  label?: string;
}

export interface AttentionData {
  persons: AttentionPerson[];
  /** The function address (root {@link FUNCTION_ADDRESS_ROOT}) and its label. */
  subOrganization: { organizationId: InstanceIdentifier; label?: string };
  references: AttentionReference[];
}

export interface ContentFile {
  fileName: string;
  /** MIME type; every participant must accept application/pdf. */
  contentType: string;
  /** RFC 4648 base64, exactly as carried in the XML ("" while it stands in the stored payload, below). */
  content: string;
  /** Stored form only: the attachment's text is this byte range of the stored payload (attachments-in-payload.ts). */
  contentInPayload?: { offset: number; length: number };
}

export interface SdkDocument {
  documentId: string;
  documentName?: string;
  /** "1" = first. */
  index?: string;
  /** ContentFiles precede ContentText in the XML (sdk.md §16.4). */
  files: ContentFile[];
  /** Each string is one ContentText/characterSequence (Markdown subset, never interpreted by the MT). */
  texts: string[];
}

export interface SdkMessage {
  /** Lexical xs:dateTime as carried; we emit `Date#toISOString()` form. */
  creationDateTime: string;
  messageId: MessageId;
  conversationId: MessageId;
  refToMessageId?: MessageId;
  /** Subject, ≤256 characters; never echoed in receipts or logs. */
  label?: string;
  /** Sender's secrecy assessment, carried unchanged end to end (sdk.md §12). */
  confidentiality: boolean;
  generatingSystem?: InstanceIdentifier;
  recipient: { id: ParticipantId; label?: string; attention: AttentionData };
  sender: { id: ParticipantId; label?: string; attention?: AttentionData };
  documents: SdkDocument[];
}

export interface AttachmentMetadata {
  documentId: string;
  fileName: string;
  contentType: string;
  /** Decoded size, computed from the base64 length without decoding. */
  sizeBytes: number;
}

/** The recipient function address (= XHE HandlingServiceID). */
export function recipientFunctionAddress(msg: SdkMessage): FunctionAddress {
  return msg.recipient.attention.subOrganization.organizationId.extension as FunctionAddress;
}

export function senderFunctionAddress(msg: SdkMessage): FunctionAddress | undefined {
  return msg.sender.attention?.subOrganization.organizationId.extension as FunctionAddress | undefined;
}

export function base64DecodedLength(b64: string): number {
  const clean = b64.replace(/[^A-Za-z0-9+/=]/g, '');
  const pad = clean.endsWith('==') ? 2 : clean.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor((clean.length * 3) / 4) - pad);
}

/** Attachment metadata for listings and audit, without decoding or exposing any content. */
export function attachmentsMetadata(msg: SdkMessage): AttachmentMetadata[] {
  return msg.documents.flatMap((d) =>
    d.files.map((f) => ({ documentId: d.documentId, fileName: f.fileName, contentType: f.contentType, sizeBytes: base64DecodedLength(f.content) })),
  );
}

/** sdk.md §13: a new conversation uses conversationId = messageId unless the client chose one. */
export function startConversation(messageId: MessageId, conversationId?: MessageId): { messageId: MessageId; conversationId: MessageId } {
  return { messageId, conversationId: conversationId ?? messageId };
}

/** sdk.md §13: a reply keeps the parent's conversation and points at the parent's messageId. */
export function replyTo(parent: Pick<SdkMessage, 'messageId' | 'conversationId'>, messageId: MessageId): { messageId: MessageId; conversationId: MessageId; refToMessageId: MessageId } {
  return { messageId, conversationId: parent.conversationId, refToMessageId: parent.messageId };
}

export interface OutboundFieldError {
  /** JSON-pointer-like path into the API attributes or the message model. */
  field: string;
  message: string;
}

/**
 * Rules required on send beyond XSD + schematron (sdk.md §14.6, §14.7, §16.2, §16.7): label and sender
 * attention are mandatory, every document carries a text or a file, ids are UUIDs, timestamp in
 * `toISOString()` form, labels ≤256, function addresses syntactically valid, participant ids valid.
 */
export function checkOutboundMessage(msg: SdkMessage): OutboundFieldError[] {
  const errors: OutboundFieldError[] = [];
  const len = (s: string): number => [...s].length;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{1,3}Z$/.test(msg.creationDateTime)) errors.push({ field: '/creationDateTime', message: 'must be an UTC timestamp in toISOString() form' });
  for (const [field, v] of [['/messageId', msg.messageId], ['/conversationId', msg.conversationId], ['/refToMessageId', msg.refToMessageId]] as const) {
    if (v !== undefined && !parseMessageId(v).ok) errors.push({ field, message: 'must be a UUID' });
  }
  if (msg.label === undefined || msg.label.trim() === '') errors.push({ field: '/label', message: 'is required' });
  else if (len(msg.label) > SDK_LIMITS.maxLabelLength) errors.push({ field: '/label', message: `must not be longer than ${SDK_LIMITS.maxLabelLength} characters` });
  if (!parseParticipantId(msg.recipient.id).ok) errors.push({ field: '/recipient', message: 'is not a valid participant id' });
  if (!parseParticipantId(msg.sender.id).ok) errors.push({ field: '/sender', message: 'is not a valid participant id' });
  if (msg.sender.attention === undefined) errors.push({ field: '/senderAttention', message: 'is required' });
  const attentions = [['/recipientAttention', msg.recipient.attention], ['/senderAttention', msg.sender.attention]] as const;
  for (const [field, att] of attentions) {
    if (att === undefined) continue;
    const so = att.subOrganization;
    if (so.organizationId.root !== FUNCTION_ADDRESS_ROOT) errors.push({ field: `${field}/subOrganization/root`, message: `must be ${FUNCTION_ADDRESS_ROOT}` });
    const fa = parseFunctionAddress(so.organizationId.extension);
    if (!fa.ok) errors.push({ field: `${field}/subOrganization/extension`, message: fa.error });
    const labels = [so.label, ...att.persons.map((p) => p.label), ...att.references.map((r) => r.label)];
    if (labels.some((l) => l !== undefined && len(l) > FUNCTION_ADDRESS_MAX_LENGTH)) errors.push({ field, message: 'labels must not be longer than 256 characters' });
  }
  for (const [field, l] of [['/recipient/label', msg.recipient.label], ['/sender/label', msg.sender.label]] as const) {
    if (l !== undefined && len(l) > SDK_LIMITS.maxLabelLength) errors.push({ field, message: 'must not be longer than 256 characters' });
  }
  if (msg.documents.length === 0) errors.push({ field: '/digitalDocument', message: 'at least one document is required' });
  msg.documents.forEach((d, i) => {
    if (d.documentId.trim() === '') errors.push({ field: `/digitalDocument/${i}/documentId`, message: 'is required' });
    if (d.files.length === 0 && d.texts.length === 0) errors.push({ field: `/digitalDocument/${i}`, message: 'must carry a text or a file' });
    d.files.forEach((f, j) => {
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(f.content) || f.content.length % 4 !== 0) errors.push({ field: `/digitalDocument/${i}/contentFiles/${j}/content`, message: 'must be base64' });
      if (f.fileName.trim() === '') errors.push({ field: `/digitalDocument/${i}/contentFiles/${j}/fileName`, message: 'is required' });
      if (f.contentType.trim() === '') errors.push({ field: `/digitalDocument/${i}/contentFiles/${j}/contentType`, message: 'is required' });
    });
    d.texts.forEach((t, j) => {
      if (t.trim() === '') errors.push({ field: `/digitalDocument/${i}/contentTextBody/${j}`, message: 'must not be empty' });
    });
  });
  return errors;
}

