// sdk.md §9 (receipt envelope: signed, not encrypted, validated before sending; a received receipt is
// verified like any inbound XHE before it changes a status and is never answered), §13 (correlation by
// DocumentReference/ID) and §16.19/§16.33.
import { randomUUID } from 'node:crypto';
import { XMLSerializer } from '@xmldom/xmldom';
import { FEDERATION_ID, NS, RECEIPT_DOCUMENT_ID, RECEIPT_DOCUMENT_TYPE_CODE } from '../../../src/domain/sdk/constants.js';
import { asMessageId, sameParticipant, type MessageId, type ParticipantId } from '../../../src/domain/sdk/identifiers.js';
import { NO_PATH, reason, type MessageReceipt, type ReceiptReason, type ReceiptVerdict, type ReceivedReceipt } from '../../../src/domain/sdk/receipt.js';
import { AppError } from '../../../src/domain/errors.js';
import { safeParse, validateEnvelope, validateReceiptDocument } from '../validation/document.validators.js';
import { isReceiptEnvelope, verifySender, type EnvelopeInfo, type InboundMessageContext } from '../validation/inbound.pipeline.js';
import { buildXhe, criterion, readXheFields } from '../xhe/xhe.mapper.js';
import { signEnvelope, type Canonicalization, type SigningKey } from '../xhe/xml-dsig.js';
import { localOf, xpathOf } from '../xml/dom.js';
import { buildReceiptXml, readReceipt } from './receipt.mapper.js';

export interface ReceiptEnvelopeInput {
  /** Issuer = the original recipient (us); receiver = the original sender. */
  issuer: ParticipantId;
  receiver: ParticipantId;
  /** XHE Header/ID of the acknowledged message (= its SDK messageId). */
  acknowledgedXheId: MessageId;
  verdict: ReceiptVerdict;
  /** CONTENT asks the receipt's HandlingServiceID to repeat the acknowledged message's function address. */
  handlingServiceId?: string;
  signingKey: SigningKey;
  federationId?: string;
  now?: Date;
  receiptId?: string;
  canonicalization?: Canonicalization;
  contractsDir?: string;
}

export interface BuiltReceiptEnvelope {
  /** The signed XHE, exactly as it must be handed to the access point. */
  envelope: Buffer;
  /** New UUID of the receipt XHE (Header/ID). */
  xheId: string;
  receipt: MessageReceipt;
  receiptXml: string;
}

/**
 * Build, validate (receipt XSD + R1-APP…R9-APP, XHE XSD + R1-XHE…R14-XHE) and sign a receipt envelope.
 * A receipt that fails its own validation is a programming error and throws (it must never be sent).
 */
export function buildReceiptEnvelope(input: ReceiptEnvelopeInput): BuiltReceiptEnvelope {
  const now = input.now ?? new Date();
  const receipt: MessageReceipt = {
    receiptId: input.receiptId ?? randomUUID(),
    issuedAt: now,
    issuer: input.issuer,
    receiver: input.receiver,
    documentReference: input.acknowledgedXheId,
    verdict: input.verdict,
  };
  const receiptXml = buildReceiptXml(receipt);
  const receiptBytes = Buffer.from(receiptXml, 'utf8');
  const parsed = safeParse(receiptBytes);
  const receiptProblems = parsed.ok ? validateReceiptDocument(receiptBytes, parsed.parsed.doc, input.contractsDir) : [parsed.reason];
  if (receiptProblems.length > 0) throw new AppError('SDK_RECEIPT_INVALID', 'The receipt we built does not validate.', { status: 500 });
  const xheId = randomUUID();
  const unsigned = buildXhe(
    {
      id: xheId,
      creationDateTime: now.toISOString(),
      documentId: RECEIPT_DOCUMENT_ID,
      federationId: input.federationId ?? FEDERATION_ID.sdk,
      from: input.issuer,
      to: input.receiver,
      documentTypeCode: RECEIPT_DOCUMENT_TYPE_CODE,
      ...(input.handlingServiceId !== undefined ? { handlingServiceId: input.handlingServiceId } : {}),
    },
    { kind: 'xml', xml: receiptXml },
  );
  const signed = signEnvelope(unsigned, input.signingKey, input.canonicalization ? { canonicalization: input.canonicalization } : {});
  const envelope = Buffer.from(signed, 'utf8');
  const check = safeParse(envelope);
  if (!check.ok || validateEnvelope(envelope, check.parsed.doc, check.parsed.doc, input.contractsDir).length > 0) {
    throw new AppError('SDK_RECEIPT_INVALID', 'The receipt envelope we built does not validate.', { status: 500 });
  }
  return { envelope, xheId, receipt, receiptXml };
}

export type InboundReceiptResult =
  | { kind: 'receipt'; ok: true; receipt: ReceivedReceipt; envelope: EnvelopeInfo; envelopeBytes: Uint8Array }
  | { kind: 'receipt'; ok: false; problems: ReceiptReason[]; envelope?: EnvelopeInfo; envelopeBytes: Uint8Array };

export type InboundReceiptContext = Pick<InboundMessageContext, 'certificates' | 'trust' | 'now' | 'ownParticipants' | 'contractsDir'>;

/**
 * Verify and read a received receipt envelope. A receipt that fails any check is to be logged and ignored
 * (never answered, never applied). On success the caller matches `receipt.documentReference` against an
 * outbound message addressed to `receipt.issuer` (§16.33); statuses already final stay unchanged (§16.32).
 */
export async function processInboundReceipt(bytes: Uint8Array, ctx: InboundReceiptContext): Promise<InboundReceiptResult> {
  const fail = (problems: ReceiptReason[], envelope?: EnvelopeInfo): InboundReceiptResult =>
    envelope === undefined ? { kind: 'receipt', ok: false, problems, envelopeBytes: bytes } : { kind: 'receipt', ok: false, problems, envelope, envelopeBytes: bytes };
  const parsed = safeParse(bytes);
  if (!parsed.ok) return fail([parsed.reason]);
  const { text, doc } = parsed.parsed;
  const raw = readXheFields(doc);
  if (raw === null || raw.id === undefined || raw.from === undefined || raw.to === undefined) return fail([reason('schema', NO_PATH, 'The envelope has no single Header ID, FromParty and ToParty.')]);
  const rawInfo: EnvelopeInfo = { id: raw.id, from: raw.from, to: raw.to, signed: false };
  if (!isReceiptEnvelope(raw)) return fail([reason('documentTypeNotSupported', NO_PATH, 'The envelope does not carry a message receipt.')], rawInfo);
  if (ctx.ownParticipants !== undefined && !ctx.ownParticipants.some((p) => sameParticipant(p, raw.to ?? ''))) {
    return fail([reason('recipientMismatch', NO_PATH, 'The receipt is not addressed to this message service.')], rawInfo);
  }
  const signer = await verifySender(text, doc, raw.from, ctx);
  if (!signer.ok) return fail([signer.reason], rawInfo);
  const fields = readXheFields(signer.signedDocument);
  if (fields === null || fields.id !== raw.id || fields.from !== raw.from || fields.to !== raw.to) {
    return fail([reason('signature', NO_PATH, 'The signed content does not match the routing data.')], rawInfo);
  }
  const info: EnvelopeInfo = { ...rawInfo, signed: true };
  const documentId = criterion(fields, 'DOCUMENTID');
  if (documentId !== undefined) info.documentId = documentId;
  if (fields.handlingServiceId !== undefined) info.handlingServiceId = fields.handlingServiceId;
  const envelopeProblems = validateEnvelope(bytes, doc, signer.signedDocument, ctx.contractsDir);
  if (envelopeProblems.length > 0) return fail(envelopeProblems, info);
  const el = fields.payloadElement;
  if (fields.encrypted !== false || el === undefined || el.namespaceURI !== NS.app || localOf(el) !== 'ApplicationResponse') {
    return fail([reason('schema', el === undefined ? NO_PATH : xpathOf(el), 'A receipt envelope must carry a clear ApplicationResponse.')], info);
  }
  // The receipt element is serialized from the signed content (with its in-scope namespaces) and validated alone.
  const receiptBytes = Buffer.from(new XMLSerializer().serializeToString(el), 'utf8');
  const receiptParsed = safeParse(receiptBytes);
  if (!receiptParsed.ok) return fail([receiptParsed.reason], info);
  const receiptProblems = validateReceiptDocument(receiptBytes, receiptParsed.parsed.doc, ctx.contractsDir);
  if (receiptProblems.length > 0) return fail(receiptProblems, info);
  const receipt = readReceipt(receiptParsed.parsed.doc);
  if (!sameParticipant(receipt.issuer, info.from) || !sameParticipant(receipt.receiver, info.to)) {
    return fail([reason('senderInconsistent', NO_PATH, 'The receipt parties do not match the envelope parties.')], info);
  }
  try {
    asMessageId(receipt.documentReference);
  } catch {
    return fail([reason('schematron', NO_PATH, 'DocumentReference/ID is not a message id.')], info);
  }
  return { kind: 'receipt', ok: true, receipt, envelope: info, envelopeBytes: bytes };
}
