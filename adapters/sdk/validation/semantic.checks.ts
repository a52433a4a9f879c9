// sdk.md §4 field rules and §5 rows 3, 6, 8, 9, 11, 13 and the "–" rows: semantic checks of a schema- and
// schematron-valid payload against the (signature-verified) envelope and the MT's own look-ups.
// One function per check; each returns the receipt reasons it found.
import type { Document as XDocument, Element as XElement } from '@xmldom/xmldom';
import { NS, MESSAGE_DOCUMENT_ID_BASE, MESSAGE_DOCUMENT_TYPE_CODE } from '../../../src/domain/sdk/constants.js';
import { sameMessageId, sameParticipant, type FunctionAddress, type MessageId, type ParticipantId, parseFunctionAddress } from '../../../src/domain/sdk/identifiers.js';
import type { SdkMessage } from '../../../src/domain/sdk/message.js';
import { reason, type ReceiptReason } from '../../../src/domain/sdk/receipt.js';
import type { InboundLookups } from '../../../src/ports/sdk.port.js';
import { childElements, firstChild, path as childPath, xpathOf } from '../xml/dom.js';
import { criterion, type XheFields } from '../xhe/xhe.mapper.js';

const M = NS.message;

export interface SemanticInput {
  /** Fields of the signed envelope. */
  envelope: XheFields;
  envelopeDoc: XDocument;
  payloadDoc: XDocument;
  message: SdkMessage;
  /** AS4 message properties as reported by our access point. */
  transport?: { originalSender?: string; finalRecipient?: string };
  /** Turns an attachment content cut out of `payloadDoc` (../xml/large-text.ts) back into its text. */
  resolve?: (text: string) => string;
}

function payloadEl(input: SemanticInput, ...locals: string[]): XElement | undefined {
  const root = input.payloadDoc.documentElement ?? undefined;
  return childPath(root, ...locals.map((l): [string, string] => [M, l]));
}

function xhePayloadEl(input: SemanticInput, local?: string): XElement | undefined {
  const p = childPath(input.envelopeDoc.documentElement ?? undefined, [NS.xha, 'Payloads'], [NS.xha, 'Payload']);
  return local === undefined ? p : firstChild(p, NS.xhb, local);
}

const at = (el: XElement | undefined, fallback = 'NA'): string => (el === undefined ? fallback : xpathOf(el));
const HEADER = ['message', 'messageHeader'];

/** The XHE announces an SDK message (DOCUMENTID base and DocumentTypeCode). */
export function checkDocumentType(input: SemanticInput): ReceiptReason[] {
  const docId = criterion(input.envelope, 'DOCUMENTID') ?? '';
  const ok = docId.startsWith(`${MESSAGE_DOCUMENT_ID_BASE}::`) && input.envelope.documentTypeCode === MESSAGE_DOCUMENT_TYPE_CODE;
  return ok ? [] : [reason('documentTypeNotSupported', at(xhePayloadEl(input, 'DocumentTypeCode'), at(xhePayloadEl(input))), 'The envelope announces a document type this message service does not process.')];
}

/** recipientID must equal XHE ToParty and AS4 finalRecipient. */
export function checkRecipientMatchesEnvelope(input: SemanticInput): ReceiptReason[] {
  const el = payloadEl(input, ...HEADER, 'recipient', 'recipientID', 'extension');
  const out: ReceiptReason[] = [];
  if (input.envelope.to === undefined || !sameParticipant(input.message.recipient.id, input.envelope.to)) {
    out.push(reason('recipientMismatch', at(el), 'recipientID does not match the envelope ToParty.'));
  }
  const fr = input.transport?.finalRecipient;
  if (fr !== undefined && !sameParticipant(fr, input.envelope.to ?? '')) out.push(reason('recipientMismatch', at(el), 'The transport finalRecipient does not match the envelope ToParty.'));
  return out;
}

/** Row 13: senderID must equal XHE FromParty and AS4 originalSender. */
export function checkSenderMatchesEnvelope(input: SemanticInput): ReceiptReason[] {
  const el = payloadEl(input, ...HEADER, 'sender', 'senderID', 'extension');
  const out: ReceiptReason[] = [];
  if (input.envelope.from === undefined || !sameParticipant(input.message.sender.id, input.envelope.from)) {
    out.push(reason('senderInconsistent', at(el), 'senderID does not match the envelope FromParty.'));
  }
  const os = input.transport?.originalSender;
  if (os !== undefined && !sameParticipant(os, input.envelope.from ?? '')) out.push(reason('senderInconsistent', at(el), 'The transport originalSender does not match the envelope FromParty.'));
  return out;
}

/** messageId must equal XHE Header/ID (receipts are correlated by it). */
export function checkMessageIdMatchesEnvelope(input: SemanticInput): ReceiptReason[] {
  const el = payloadEl(input, ...HEADER, 'messageId');
  return input.envelope.id !== undefined && sameMessageId(input.message.messageId, input.envelope.id)
    ? []
    : [reason('messageIdMismatch', at(el), 'messageId does not match the envelope Header ID.')];
}

/** Row 9 + "–" row: HandlingServiceID present and equal to the recipient subOrganization function address. */
export function checkHandlingServiceId(input: SemanticInput): ReceiptReason[] {
  const hs = input.envelope.handlingServiceId;
  const payloadFa = payloadEl(input, ...HEADER, 'recipient', 'attention', 'subOrganization', 'organizationId', 'extension');
  if (hs === undefined) return [reason('functionAddressNotFound', at(xhePayloadEl(input)), 'The envelope has no HandlingServiceID (recipient function address).')];
  if (hs !== input.message.recipient.attention.subOrganization.organizationId.extension) {
    return [reason('functionAddressMismatch', at(payloadFa), 'The recipient function address does not match the envelope HandlingServiceID.')];
  }
  return [];
}

/** Row 9: the recipient function address must be one of ours. */
export async function checkFunctionAddressKnown(input: SemanticInput, lookups: InboundLookups): Promise<ReceiptReason[]> {
  const el = payloadEl(input, ...HEADER, 'recipient', 'attention', 'subOrganization', 'organizationId', 'extension');
  const fa = parseFunctionAddress(input.message.recipient.attention.subOrganization.organizationId.extension);
  if (!fa.ok || !(await lookups.isKnownFunctionAddress(fa.value as FunctionAddress))) {
    return [reason('functionAddressNotFound', at(el), 'The recipient function address is not known to this message service.')];
  }
  return [];
}

/** Row 6: messageId already received from this sender. */
export async function checkDuplicate(input: SemanticInput, lookups: InboundLookups): Promise<ReceiptReason[]> {
  const dup = await lookups.isDuplicateMessage(input.message.sender.id as ParticipantId, input.message.messageId as MessageId);
  return dup ? [reason('duplicate', at(payloadEl(input, ...HEADER, 'messageId')), 'A message with this messageId has already been received.')] : [];
}

/** Rows 7 and 11: an unknown refToMessageId is fine; one pointing at a message we rejected is not. */
export async function checkReferencedMessage(input: SemanticInput, lookups: InboundLookups): Promise<ReceiptReason[]> {
  const ref = input.message.refToMessageId;
  if (ref === undefined) return [];
  const state = await lookups.referencedMessageState(ref);
  return state === 'rejected' ? [reason('refToRejected', at(payloadEl(input, ...HEADER, 'refToMessageId')), 'refToMessageId refers to a message that was rejected.')] : [];
}

function contentFileElements(input: SemanticInput): XElement[] {
  const body = payloadEl(input, 'message', 'messageBody');
  return body === undefined ? [] : childElements(body, M, 'documents').flatMap((d) => childElements(d, M, 'ContentFiles'));
}

/** Row 8: every attachment's MIME type must be accepted by our policy. */
export function checkContentTypes(input: SemanticInput, lookups: InboundLookups): ReceiptReason[] {
  return contentFileElements(input).flatMap((f) => {
    const ct = firstChild(f, M, 'contentType');
    const value = (ct?.textContent ?? '').trim();
    return lookups.isSupportedContentType(value) ? [] : [reason('mimeNotSupported', at(ct), 'The attachment content type is not supported by the receiver.')];
  });
}

/** Row 3: malware scan of every decoded attachment (only when a scanner is configured). */
export async function scanAttachments(input: SemanticInput, lookups: InboundLookups): Promise<ReceiptReason[]> {
  const scan = lookups.scanAttachment?.bind(lookups);
  if (scan === undefined) return [];
  const out: ReceiptReason[] = [];
  for (const f of contentFileElements(input)) {
    const content = firstChild(f, M, 'content');
    const verdict = await scan({
      fileName: (firstChild(f, M, 'fileName')?.textContent ?? '').trim(),
      contentType: (firstChild(f, M, 'contentType')?.textContent ?? '').trim(),
      content: Buffer.from((input.resolve ?? ((t: string) => t))(content?.textContent ?? '').replace(/\s+/g, ''), 'base64'),
    });
    if (verdict === 'infected') out.push(reason('malware', at(content), 'Malware was found in an attachment.'));
  }
  return out;
}

/** All checks that need no look-up (consistency between payload, envelope and transport). */
export function runConsistencyChecks(input: SemanticInput): ReceiptReason[] {
  return [...checkDocumentType(input), ...checkRecipientMatchesEnvelope(input), ...checkSenderMatchesEnvelope(input), ...checkMessageIdMatchesEnvelope(input), ...checkHandlingServiceId(input)];
}

/** The look-up based checks (rows 9, 6, 11, 8), in that order. */
export async function runLookupChecks(input: SemanticInput, lookups: InboundLookups): Promise<ReceiptReason[]> {
  return [
    ...(await checkFunctionAddressKnown(input, lookups)),
    ...(await checkDuplicate(input, lookups)),
    ...(await checkReferencedMessage(input, lookups)),
    ...checkContentTypes(input, lookups),
  ];
}
