// sdk.md §5 (receiving MT: order of checks, the receipt each failure produces, when no receipt is sent),
// §7 (verify first, then decrypt), §14.11/§14.17 and dependencies.md XML rules 2–7.
// Order: size → safe parse → routing fields → signature on the exact received text (signer = the sender's
// CertPub certificate) → envelope XSD + profile rules → encryption required → decrypt → payload size →
// payload XSD → payload schematron → consistency and look-up checks → malware scan → ACCEPTED.
import { XMLSerializer, type Document as XDocument, type Element as XElement } from '@xmldom/xmldom';
import { NS, RECEIPT_DOCUMENT_ID_BASE, RECEIPT_DOCUMENT_TYPE_CODE, SDK_LIMITS } from '../../../src/domain/sdk/constants.js';
import { sameParticipant, type ParticipantId } from '../../../src/domain/sdk/identifiers.js';
import type { SdkMessage } from '../../../src/domain/sdk/message.js';
import { NO_PATH, reason, verdictOf, type ReceiptReason, type ReceiptVerdict } from '../../../src/domain/sdk/receipt.js';
import type { CertificateDirectory, InboundLookups } from '../../../src/ports/sdk.port.js';
import { localOf, path as childPath, xpathOf } from '../xml/dom.js';
import { decryptEncryptedData, PayloadDecryptionError, type DecryptionKey } from '../xhe/xml-enc.js';
import { checkSignatureShape, verifyEnvelopeSignature } from '../xhe/xml-dsig.js';
import { evaluateCertificate, sameCertificate } from '../xhe/trust.js';
import { criterion, readXheFields, type XheFields } from '../xhe/xhe.mapper.js';
import { safeParse, validateEnvelope, validatePayload, type SafeParseOutcome } from './document.validators.js';
import type { LargeTexts } from '../xml/large-text.js';
import { runConsistencyChecks, runLookupChecks, scanAttachments, type SemanticInput } from './semantic.checks.js';
import { tooLongReason } from './size-guard.js';

/** Why no receipt may be sent even though the message is not accepted (sdk.md §5 "No receipt is sent"). */
export type NoReceiptReason =
  /** The envelope exceeded the envelope limit and was never parsed: nothing about it can be trusted. */
  | 'too-large-to-read'
  /** Envelope or payload not well-formed XML, a DTD, a wrong encoding: escalated as an incident. */
  | 'not-xml'
  /** From, To or ID missing or ambiguous: routing data cannot be trusted (§14.17). */
  | 'routing-untrusted'
  /** ToParty is not one of our participants (the AP should have refused it). */
  | 'not-for-us'
  /** The sender has no signing certificate in CertPub, i.e. is not registered in SMP. */
  | 'sender-not-registered'
  /** The payload could not be decrypted (§14.11; nothing is revealed to the sender). */
  | 'undecryptable';

export interface TrustConfig {
  /** CA certificates (PEM) that O2O certificates must chain to; absent = CertPub-pinned trust only. */
  anchors?: string[];
  intermediates?: string[];
  /** CRLs (PEM); when given, revocation is checked. */
  crls?: string[];
  /** Require a chain to `anchors` (set when the certificate comes from KeyInfo rather than CertPub). */
  requireChain?: boolean;
}

export interface InboundMessageContext {
  certificates: Pick<CertificateDirectory, 'signingCertificates'>;
  trust?: TrustConfig;
  /** Our encryption keys. Undefined = do not look into the payload (the CLI without a key). */
  decryptionKeys?: readonly DecryptionKey[];
  /** Look-ups for rows 3, 6, 8, 9, 11. Undefined = those checks are skipped (the CLI). */
  lookups?: InboundLookups;
  /** Participant ids we receive for; undefined = not checked. */
  ownParticipants?: readonly string[];
  /** AS4 originalSender / finalRecipient as reported by the access point. */
  transport?: { originalSender?: string; finalRecipient?: string };
  /** Validation time (certificate validity). */
  now?: Date;
  limits?: { maxEnvelopeBytes?: number; maxPayloadBytes?: number };
  /** Transport model Utökad Bas: signed AND encrypted (default true; the only model used in SDK). */
  requireEncryption?: boolean;
  contractsDir?: string;
}

/** Routing data of an envelope; after a verified signature these values come from the signed content. */
export interface EnvelopeInfo {
  id: string;
  from: string;
  to: string;
  documentId?: string;
  handlingServiceId?: string;
  creationDateTime?: string;
  /** True when the values were read from signature-verified content. */
  signed: boolean;
}

export interface InboundMessageResult {
  kind: 'message';
  verdict: ReceiptVerdict;
  /** Send a receipt with this verdict to `envelope.from`. False ⇒ see noReceiptReason (log + incident). */
  sendReceipt: boolean;
  noReceiptReason?: NoReceiptReason;
  envelope?: EnvelopeInfo;
  /** The envelope exactly as received; store it raw. */
  envelopeBytes: Uint8Array;
  /** The decrypted payload exactly as decrypted. */
  payloadBytes?: Buffer;
  /**
   * Present only when ACCEPTED. Each attachment of 64 KiB or more is left in `payloadBytes`: `content: ""` plus
   * `contentInPayload` (its byte range) — the form the message is stored in; `withAttachmentTexts(message,
   * payloadBytes)` (src/domain/sdk/attachments-in-payload.ts) puts the texts in.
   */
  message?: SdkMessage;
  /** False when the payload was not examined (no decryption key given). */
  payloadValidated: boolean;
}

type Stop = { verdictReasons: ReceiptReason[]; sendReceipt: boolean; noReceiptReason?: NoReceiptReason };

function envelopeInfo(f: XheFields, signed: boolean): EnvelopeInfo | undefined {
  if (f.id === undefined || f.from === undefined || f.to === undefined) return undefined;
  const info: EnvelopeInfo = { id: f.id, from: f.from, to: f.to, signed };
  const documentId = criterion(f, 'DOCUMENTID');
  if (documentId !== undefined) info.documentId = documentId;
  if (f.handlingServiceId !== undefined) info.handlingServiceId = f.handlingServiceId;
  if (f.creationDateTime !== undefined) info.creationDateTime = f.creationDateTime;
  return info;
}

/** True when the XHE carries a message receipt rather than a message (never receipt a receipt). */
export function isReceiptEnvelope(fields: XheFields): boolean {
  const docId = criterion(fields, 'DOCUMENTID') ?? '';
  return docId.startsWith(`${RECEIPT_DOCUMENT_ID_BASE}::`) || fields.documentTypeCode === RECEIPT_DOCUMENT_TYPE_CODE;
}

export type SignerCheck = { ok: true; signedDocument: XDocument } | { ok: false; reason: ReceiptReason; noReceiptReason?: NoReceiptReason };

/**
 * Verify the envelope signature against the claimed sender's registered signing certificate(s): the
 * KeyInfo certificate, when present, must be one of them; the certificate must pass the trust evaluation
 * (validity, key usage, organisation, chain and revocation when configured) before it is used.
 */
export async function verifySender(text: string, doc: XDocument, from: string, ctx: Pick<InboundMessageContext, 'certificates' | 'trust' | 'now'>, large?: LargeTexts): Promise<SignerCheck> {
  const shape = checkSignatureShape(doc);
  if (!shape.ok) return { ok: false, reason: reason('signature', shape.path, `The signature is not acceptable: ${shape.problem}.`) };
  const sigPath = xpathOf(shape.shape.signature);
  const registered = await ctx.certificates.signingCertificates(from as ParticipantId);
  if (registered.length === 0) {
    return { ok: false, reason: reason('senderInconsistent', NO_PATH, 'The sender is not registered.'), noReceiptReason: 'sender-not-registered' };
  }
  const keyInfo = shape.shape.keyInfoCertificate;
  const candidates = keyInfo === undefined ? registered : registered.filter((c) => sameCertificate(c.pem, keyInfo));
  if (candidates.length === 0) return { ok: false, reason: reason('signature', sigPath, "The signer certificate is not the sender's registered signing certificate.") };
  let problem = 'the signature does not verify';
  for (const c of candidates) {
    const trust = await evaluateCertificate(c.pem, {
      now: ctx.now ?? new Date(),
      usage: 'signing',
      ...(ctx.trust?.anchors ? { anchors: ctx.trust.anchors } : {}),
      ...(ctx.trust?.intermediates ? { intermediates: ctx.trust.intermediates } : {}),
      ...(ctx.trust?.crls ? { crls: ctx.trust.crls } : {}),
      ...(ctx.trust?.requireChain ? { requireChain: true } : {}),
      ...(c.organizationNumber !== undefined ? { expectedOrganizationNumber: c.organizationNumber } : {}),
    });
    if (!trust.ok) {
      problem = trust.problem;
      continue;
    }
    const v = verifyEnvelopeSignature(text, doc, c.pem, large);
    if (v.ok) return { ok: true, signedDocument: v.signedDocument };
    problem = v.problem;
  }
  return { ok: false, reason: reason('signature', sigPath, `The signature could not be verified: ${problem}.`) };
}

function isEncryptedData(el: XElement | undefined): el is XElement {
  return el !== undefined && el.namespaceURI === NS.xenc && localOf(el) === 'EncryptedData';
}

function result(bytes: Uint8Array, stop: Stop, extra: Partial<InboundMessageResult> = {}): InboundMessageResult {
  const r: InboundMessageResult = { kind: 'message', verdict: verdictOf(stop.verdictReasons), sendReceipt: stop.sendReceipt, envelopeBytes: bytes, payloadValidated: false, ...extra };
  if (stop.noReceiptReason !== undefined) r.noReceiptReason = stop.noReceiptReason;
  return r;
}

/**
 * Judge one inbound XHE carrying an SDK message. Look-up and directory errors propagate (the caller retries
 * later); every judgement about the message itself is returned as a verdict.
 *
 * Memory (issue 7): the envelope is parsed with its CipherValue left in `bytes` (../xml/large-text.ts) — the
 * signature digest, the XSD's base64 check and the decryption read that byte range directly, so the only
 * payload-sized allocation is the decrypted payload: once ACCEPTED, the message's big attachments stay ranges
 * of it (`message` below), never strings.
 * `parsed` is the result of `safeParse(bytes, { largeText: true })` when the caller already has it.
 */
export async function processInboundMessage(bytes: Uint8Array, ctx: InboundMessageContext, parsed: SafeParseOutcome | undefined = undefined): Promise<InboundMessageResult> {
  const envelopeLimit = ctx.limits?.maxEnvelopeBytes ?? SDK_LIMITS.maxInboundEnvelopeBytes;
  if (bytes.length > envelopeLimit) return result(bytes, { verdictReasons: [tooLongReason(envelopeLimit)], sendReceipt: false, noReceiptReason: 'too-large-to-read' });

  parsed ??= safeParse(bytes, { largeText: true });
  if (!parsed.ok) return result(bytes, { verdictReasons: [parsed.reason], sendReceipt: false, noReceiptReason: 'not-xml' });
  const { text, doc, large } = parsed.parsed;

  const raw = readXheFields(doc);
  const rawInfo = raw === null ? undefined : envelopeInfo(raw, false);
  if (raw === null || rawInfo === undefined) {
    const at = doc.documentElement === null ? NO_PATH : xpathOf(doc.documentElement);
    return result(bytes, { verdictReasons: [reason('schema', at, 'The envelope has no single Header ID, FromParty and ToParty.')], sendReceipt: false, noReceiptReason: 'routing-untrusted' });
  }
  if (ctx.ownParticipants !== undefined && !ctx.ownParticipants.some((p) => sameParticipant(p, rawInfo.to))) {
    return result(bytes, { verdictReasons: [reason('recipientMismatch', NO_PATH, 'The envelope is not addressed to this message service.')], sendReceipt: false, noReceiptReason: 'not-for-us' }, { envelope: rawInfo });
  }

  // 1. Signature first, on the exact received text.
  const signer = await verifySender(text, doc, rawInfo.from, ctx, large);
  if (!signer.ok) {
    const stop: Stop = { verdictReasons: [signer.reason], sendReceipt: signer.noReceiptReason === undefined };
    if (signer.noReceiptReason !== undefined) stop.noReceiptReason = signer.noReceiptReason;
    return result(bytes, stop, { envelope: rawInfo });
  }
  const signedDoc = signer.signedDocument;
  const fields = readXheFields(signedDoc);
  const info = fields === null ? undefined : envelopeInfo(fields, true);
  if (fields === null || info === undefined || info.id !== rawInfo.id || info.from !== rawInfo.from || info.to !== rawInfo.to) {
    return result(bytes, { verdictReasons: [reason('signature', NO_PATH, 'The signed content does not match the routing data.')], sendReceipt: true }, { envelope: rawInfo });
  }

  // 2. Envelope structure (XSD on the received bytes) and profile rules (on the signed content).
  const envelopeReasons = validateEnvelope(bytes, doc, signedDoc, ctx.contractsDir, parsed.parsed);
  if (envelopeReasons.length > 0) return result(bytes, { verdictReasons: envelopeReasons, sendReceipt: true }, { envelope: info });

  // 3. Utökad Bas: the payload must be encrypted (row 14).
  const payloadContentPath = (): string => {
    const pc = childPath(signedDoc.documentElement ?? undefined, [NS.xha, 'Payloads'], [NS.xha, 'Payload'], [NS.xha, 'PayloadContent']);
    return pc === undefined ? NO_PATH : xpathOf(pc);
  };
  if ((ctx.requireEncryption ?? true) && (fields.encrypted !== true || !isEncryptedData(fields.payloadElement))) {
    return result(bytes, { verdictReasons: [reason('notEncrypted', payloadContentPath(), 'The payload is not encrypted although the transport model requires it.')], sendReceipt: true }, { envelope: info });
  }
  if (ctx.decryptionKeys === undefined) return result(bytes, { verdictReasons: [], sendReceipt: true }, { envelope: info, payloadValidated: false });

  // 4. Decrypt (only now: the signature verified).
  let payloadBytes: Buffer;
  try {
    const pe: XElement | undefined = fields.payloadElement;
    if (pe === undefined) throw new PayloadDecryptionError();
    // A clear payload is only possible when encryption is not required (never in the SDK federation).
    payloadBytes = isEncryptedData(pe) ? decryptEncryptedData(pe, ctx.decryptionKeys, large) : large.assemble(new XMLSerializer().serializeToString(pe));
  } catch (e: unknown) {
    if (!(e instanceof PayloadDecryptionError)) throw e;
    return result(bytes, { verdictReasons: [reason('signature', payloadContentPath(), 'The payload could not be decrypted.')], sendReceipt: false, noReceiptReason: 'undecryptable' }, { envelope: info });
  }

  // 5. Payload: size, XSD, schematron.
  const payloadLimit = ctx.limits?.maxPayloadBytes ?? SDK_LIMITS.maxInboundPayloadBytes;
  if (payloadBytes.length > payloadLimit) {
    return result(bytes, { verdictReasons: [tooLongReason(payloadLimit, payloadContentPath())], sendReceipt: true }, { envelope: info, payloadBytes, payloadValidated: true });
  }
  const pv = validatePayload(payloadBytes, { maxBytes: payloadLimit, ...(ctx.contractsDir ? { contractsDir: ctx.contractsDir } : {}) });
  if (!pv.wellFormed) return result(bytes, { verdictReasons: pv.reasons, sendReceipt: false, noReceiptReason: 'not-xml' }, { envelope: info, payloadBytes, payloadValidated: true });
  if (pv.reasons.length > 0 || pv.message === undefined || pv.doc === undefined) {
    return result(bytes, { verdictReasons: pv.reasons, sendReceipt: true }, { envelope: info, payloadBytes, payloadValidated: true });
  }

  // 6. Consistency with the envelope and transport, then look-ups, then malware.
  const payloadLarge = pv.large;
  const input: SemanticInput = {
    envelope: fields, envelopeDoc: signedDoc, payloadDoc: pv.doc, message: pv.message, ...(ctx.transport ? { transport: ctx.transport } : {}),
    ...(payloadLarge !== undefined ? { resolve: (s: string) => payloadLarge.resolve(s) } : {}),
  };
  const semantic = runConsistencyChecks(input);
  if (semantic.length === 0 && ctx.lookups !== undefined) semantic.push(...(await runLookupChecks(input, ctx.lookups)));
  if (semantic.length === 0 && ctx.lookups !== undefined) semantic.push(...(await scanAttachments(input, ctx.lookups)));
  if (semantic.length > 0) return result(bytes, { verdictReasons: semantic, sendReceipt: true }, { envelope: info, payloadBytes, payloadValidated: true });

  return result(bytes, { verdictReasons: [], sendReceipt: true }, { envelope: info, payloadBytes, payloadValidated: true, message: pv.messageInPayload });
}
