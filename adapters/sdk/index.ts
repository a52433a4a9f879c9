// sdk.md §5, §7, §9, §13: the SDK message-service core as one factory the composition root wires to the
// ports (CertPub directory, inbound look-ups) and the access point. It seals outbound messages, judges every
// inbound envelope (message or receipt) and builds the receipts we owe; it stores nothing and sends nothing.
import { randomUUID } from 'node:crypto';
import { AppError } from '../../src/domain/errors.js';
import { MESSAGE_DOCUMENT_ID, PROCESS_ID, RECEIPT_DOCUMENT_ID, SDK_LIMITS } from '../../src/domain/sdk/constants.js';
import type { MessageId, ParticipantId } from '../../src/domain/sdk/identifiers.js';
import type { SdkMessage } from '../../src/domain/sdk/message.js';
import type { AccessPointRouting, CertificateDirectory, InboundLookups } from '../../src/ports/sdk.port.js';
import { buildReceiptEnvelope, processInboundReceipt, type BuiltReceiptEnvelope, type InboundReceiptResult } from './receipt/receipt.envelope.js';
import { safeParse } from './validation/document.validators.js';
import { isReceiptEnvelope, processInboundMessage, type InboundMessageResult, type TrustConfig } from './validation/inbound.pipeline.js';
import { sealMessage, type SealedMessage } from './xhe/seal.js';
import { readXheFields } from './xhe/xhe.mapper.js';
import type { DecryptionKey } from './xhe/xml-enc.js';
import type { Canonicalization, SigningKey } from './xhe/xml-dsig.js';

export interface SdkMessageServiceOptions {
  /** The participant ids this MT serves (receipts are issued in their name). */
  ownParticipants: readonly ParticipantId[];
  /** Our organisation signing key + certificate (the one published in CertPub). */
  signingKey: SigningKey;
  /** Our organisation encryption key(s); several during a certificate roll-over. */
  decryptionKeys: readonly DecryptionKey[];
  certificates: CertificateDirectory;
  lookups: InboundLookups;
  trust?: TrustConfig;
  federationId?: string;
  limits?: { maxEnvelopeBytes?: number; maxPayloadBytes?: number };
  canonicalization?: Canonicalization;
  clock?: () => Date;
}

/** The sealed envelope and its routing. The payload is not handed back (it was stored at submission). */
export interface OutboundEnvelope extends Omit<SealedMessage, 'payload'> {
  routing: AccessPointRouting;
}

export interface ReceiptToSend extends BuiltReceiptEnvelope {
  routing: AccessPointRouting;
}

export interface SdkMessageService {
  /**
   * Validate, encrypt for the recipient (CertPub encryption certificate) and sign; 400 AppError if invalid.
   * With `payload` (as built and stored at submission) that payload is sealed and `message` gives the header.
   */
  seal(message: SdkMessage, payload?: Buffer): Promise<OutboundEnvelope>;
  /** Judge one inbound envelope exactly as received: a message (→ verdict) or a receipt (→ verified receipt). */
  receive(envelope: Uint8Array, transport?: { originalSender?: string; finalRecipient?: string }): Promise<InboundMessageResult | InboundReceiptResult>;
  /** The signed receipt we owe for an inbound message, or null when none may be sent (sdk.md §5). */
  receiptFor(result: InboundMessageResult): ReceiptToSend | null;
}

export function createSdkMessageService(opts: SdkMessageServiceOptions): SdkMessageService {
  const now = (): Date => (opts.clock ?? (() => new Date()))();
  return {
    async seal(message, payload) {
      const cert = await opts.certificates.encryptionCertificate(message.recipient.id);
      if (cert === null) throw new AppError('SDK_RECIPIENT_NOT_REGISTERED', 'The recipient has no encryption certificate in CertPub.', { status: 422, retryable: false });
      const sealed = await sealMessage({
        message,
        ...(payload !== undefined ? { payload } : {}),
        recipientEncryptionCertificatePem: cert.pem,
        ...(cert.organizationNumber !== undefined ? { recipientOrganizationNumber: cert.organizationNumber } : {}),
        signingKey: opts.signingKey,
        now: now(),
        ...(opts.federationId ? { federationId: opts.federationId } : {}),
        ...(opts.trust ? { trust: opts.trust } : {}),
        ...(opts.canonicalization ? { canonicalization: opts.canonicalization } : {}),
      });
      // Only the envelope leaves: the payload copy inside `sealed` is dropped here, not kept by the caller.
      return {
        envelope: sealed.envelope,
        xheId: sealed.xheId,
        routing: { originalSender: message.sender.id, finalRecipient: message.recipient.id, documentId: MESSAGE_DOCUMENT_ID, processId: PROCESS_ID, xheId: sealed.xheId, conversationId: message.conversationId },
      };
    },

    async receive(envelope, transport) {
      // One parse serves both the routing decision and the message pipeline; the big CipherValue stays in
      // `envelope` (validation/inbound.pipeline.ts "Memory").
      // An envelope over the limit is never parsed (dependencies.md XML rule 3): the pipeline refuses it.
      const tooLarge = envelope.length > (opts.limits?.maxEnvelopeBytes ?? SDK_LIMITS.maxInboundEnvelopeBytes);
      const parsed = tooLarge ? undefined : safeParse(envelope, { largeText: true });
      const fields = parsed?.ok === true ? readXheFields(parsed.parsed.doc) : null;
      const ctx = {
        certificates: opts.certificates,
        ownParticipants: opts.ownParticipants,
        now: now(),
        ...(opts.trust ? { trust: opts.trust } : {}),
      };
      if (fields !== null && isReceiptEnvelope(fields)) return processInboundReceipt(envelope, ctx);
      return processInboundMessage(envelope, {
        ...ctx,
        decryptionKeys: opts.decryptionKeys,
        lookups: opts.lookups,
        ...(transport ? { transport } : {}),
        ...(opts.limits ? { limits: opts.limits } : {}),
      }, parsed);
    },

    receiptFor(result) {
      if (!result.sendReceipt || result.envelope === undefined) return null;
      const issuer = opts.ownParticipants.find((p) => p.toLowerCase() === result.envelope?.to.toLowerCase());
      if (issuer === undefined) return null;
      const built = buildReceiptEnvelope({
        issuer,
        receiver: result.envelope.from as ParticipantId,
        acknowledgedXheId: result.envelope.id as MessageId,
        verdict: result.verdict,
        ...(result.envelope.handlingServiceId !== undefined ? { handlingServiceId: result.envelope.handlingServiceId } : {}),
        signingKey: opts.signingKey,
        now: now(),
        receiptId: randomUUID(),
        ...(opts.federationId ? { federationId: opts.federationId } : {}),
        ...(opts.canonicalization ? { canonicalization: opts.canonicalization } : {}),
      });
      return { ...built, routing: { originalSender: issuer, finalRecipient: result.envelope.from as ParticipantId, documentId: RECEIPT_DOCUMENT_ID, processId: PROCESS_ID, xheId: built.xheId } };
    },
  };
}

export { createLoopbackNetwork, type LoopbackNetwork, type LoopbackOptions } from './loopback/index.js';
export { sdkValidateCommand, type CliIo, type SdkValidateOptions } from './validation/cli.js';
export { checkDeclaredSize, createSizeLimitStream, readWithLimit, SizeLimitExceededError, tooLongReason } from './validation/size-guard.js';
export { validatePayload, type PayloadValidation } from './validation/document.validators.js';
export type { InboundMessageResult, NoReceiptReason, EnvelopeInfo, TrustConfig } from './validation/inbound.pipeline.js';
export type { InboundReceiptResult } from './receipt/receipt.envelope.js';
export type { SigningKey } from './xhe/xml-dsig.js';
export type { DecryptionKey } from './xhe/xml-enc.js';
