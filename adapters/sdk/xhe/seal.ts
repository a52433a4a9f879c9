// sdk.md §7 (encrypt the payload first, then sign the whole envelope), §11 (≤ 30 000 000 bytes on send) and
// §16.1–16.11: turn a domain message into the exact signed + encrypted XHE bytes handed to the access point.
import { AppError, validationError } from '../../../src/domain/errors.js';
import { FEDERATION_ID, MESSAGE_DOCUMENT_ID, MESSAGE_DOCUMENT_TYPE_CODE, SDK_LIMITS } from '../../../src/domain/sdk/constants.js';
import { checkOutboundMessage, recipientFunctionAddress, type SdkMessage } from '../../../src/domain/sdk/message.js';
import { validatePayload } from '../validation/document.validators.js';
import { LargeTexts } from '../xml/large-text.js';
import { buildMessagePayloadBytes } from './message.mapper.js';
import { evaluateCertificate, type CertificateTrustOptions } from './trust.js';
import { buildXhe } from './xhe.mapper.js';
import { encryptPayloadParts } from './xml-enc.js';
import { signEnvelope, type Canonicalization, type SigningKey } from './xml-dsig.js';

export interface SealMessageInput {
  message: SdkMessage;
  /**
   * The message's payload as built at submission (buildMessagePayloadBytes) and stored. When given it is sealed
   * as it is (validated again, not rebuilt) and `message` only supplies the header (ids, parties, function
   * address): its attachments may be left out (issue 7 memory: the send job never reads them back).
   */
  payload?: Buffer;
  /** The recipient organisation's CertPub encryption certificate (PEM). */
  recipientEncryptionCertificatePem: string;
  /** The recipient's organisation number, when known, to match the certificate's organizationIdentifier. */
  recipientOrganizationNumber?: string;
  signingKey: SigningKey;
  federationId?: string;
  now?: Date;
  /** Chain / revocation configuration for the recipient certificate (see trust.ts). */
  trust?: Pick<CertificateTrustOptions, 'anchors' | 'intermediates' | 'crls'>;
  canonicalization?: Canonicalization;
  contractsDir?: string;
}

export interface SealedMessage {
  /** The signed XHE exactly as signed; hand these bytes to the access point unchanged (§16.11). */
  envelope: Buffer;
  /** The serialized payload as encrypted (keep it for the sent-items view). */
  payload: Buffer;
  /** XHE Header/ID = SDK messageId. */
  xheId: string;
}

/**
 * Validate (outbound rules, our XSD, the schematron port, the 30 000 000-byte limit), encrypt for the
 * recipient and sign. Invalid messages are refused with a 400 AppError naming the problems; nothing is built.
 */
export async function sealMessage(input: SealMessageInput): Promise<SealedMessage> {
  // The payload carries every file as base64 text, so their lengths alone bound it from below: refuse an
  // oversized message before running any per-character check or building XML over tens of megabytes (§16.6).
  if (input.payload === undefined) {
    const contentChars = input.message.documents.reduce((n, d) => n + d.files.reduce((m, f) => m + f.content.length, 0), 0);
    if (contentChars > SDK_LIMITS.maxOutboundPayloadBytes) {
      throw new AppError('SDK_MESSAGE_TOO_LARGE', 'The message must not be larger than 30 MB.', { status: 400 });
    }
    const fieldErrors = checkOutboundMessage(input.message);
    if (fieldErrors.length > 0) throw validationError(fieldErrors, 'The SDK message is invalid.');
  }
  const payload = input.payload ?? buildMessagePayloadBytes(input.message);
  if (payload.length > SDK_LIMITS.maxOutboundPayloadBytes) {
    throw new AppError('SDK_MESSAGE_TOO_LARGE', 'The message must not be larger than 30 MB.', { status: 400 });
  }
  const v = validatePayload(payload, { maxBytes: SDK_LIMITS.maxOutboundPayloadBytes, ...(input.contractsDir ? { contractsDir: input.contractsDir } : {}) });
  if (v.reasons.length > 0) {
    throw validationError(
      v.reasons.map((r) => ({ field: r.path, message: `${r.code}/${r.detail}: ${r.text}` })),
      'The SDK message does not validate against the message schema and rules.',
    );
  }
  const now = input.now ?? new Date();
  const trust = await evaluateCertificate(input.recipientEncryptionCertificatePem, {
    now,
    usage: 'encryption',
    ...(input.trust ?? {}),
    ...(input.recipientOrganizationNumber !== undefined ? { expectedOrganizationNumber: input.recipientOrganizationNumber } : {}),
  });
  if (!trust.ok) throw new AppError('SDK_RECIPIENT_CERTIFICATE_REJECTED', `The recipient's encryption certificate cannot be used: ${trust.problem}.`, { status: 502, retryable: false });
  // Memory (issue 7): the CipherValue is never a string. The XHE is built and signed as a skeleton whose
  // CipherValue is a token (../xml/large-text.ts); the digest and the output read the base64 of the ciphertext
  // as it is produced, so besides the payload only the finished envelope is ever payload-sized.
  const encrypted = encryptPayloadParts(payload, input.recipientEncryptionCertificatePem);
  try {
    const header = {
      id: input.message.messageId,
      creationDateTime: now.toISOString(),
      documentId: MESSAGE_DOCUMENT_ID,
      federationId: input.federationId ?? FEDERATION_ID.sdk,
      from: input.message.sender.id,
      to: input.message.recipient.id,
      documentTypeCode: MESSAGE_DOCUMENT_TYPE_CODE,
      handlingServiceId: recipientFunctionAddress(input.message),
    };
    for (;;) {
      const large = LargeTexts.create();
      const token = large.add({ kind: 'produced', length: encrypted.cipherText.length, produce: encrypted.cipherText.produce });
      const { cipherText: _text, dispose: _dispose, ...parts } = encrypted;
      const unsigned = buildXhe(header, { kind: 'encrypted', encrypted: { ...parts, cipherValue: token } });
      // A header value that happened to hold the nonce would be read as a token: pick another nonce.
      if (large.occurrences(unsigned) !== 1) continue;
      const signed = signEnvelope(unsigned, input.signingKey, input.canonicalization ? { canonicalization: input.canonicalization } : {}, large);
      return { envelope: large.assemble(signed), payload, xheId: input.message.messageId };
    }
  } finally {
    encrypted.dispose();
  }
}
