// sdk.md §1 (four-corner model), §5 and §9: a simulated PEER organisation for development and tests
// (DEVELOPMENT ONLY; started with SIMULATORS=true). It is a complete, minimal message service of its own — the
// same SDK core with the peer's own keys — behind its own loopback access point: it judges what we send it,
// answers with signed receipts (ACCEPTED, or REJECTED with reasons, e.g. BV/not-found for an unknown function
// address), and can send messages to us. It keeps its state in memory only.
import type { SdkMessage } from '../../domain/sdk/message.js';
import { withAttachmentTexts } from '../../domain/sdk/attachments-in-payload.js';
import type { ReceiptVerdict, ReceivedReceipt } from '../../domain/sdk/receipt.js';
import type { Logger } from '../../lib/logger.js';
import type { AccessPoint, AccessPointRouting, InboundLookups } from '../../ports/sdk.port.js';
import type { SdkMessageServicePort } from './sdk-deps.js';

export interface PeerReceivedMessage {
  xheId: string;
  from: string;
  functionAddress: string | undefined;
  verdict: ReceiptVerdict;
  /** The message as the peer read it (only when ACCEPTED). */
  message?: SdkMessage;
}

export interface SimulatedPeer {
  participant: string;
  functionAddress: string;
  /** Every message envelope the peer judged, in arrival order. */
  received: PeerReceivedMessage[];
  /** Receipts the peer received for messages it sent (verified ones only). */
  receipts: ReceivedReceipt[];
  /** Seal a message as the peer and send it through the peer's access point. Returns the exact bytes sent. */
  send(message: SdkMessage): Promise<{ envelope: Uint8Array; routing: AccessPointRouting }>;
  /** Hand the same envelope bytes to the access point again (a retransmission: tests of duplicate handling). */
  resend(envelope: Uint8Array, routing: AccessPointRouting): Promise<void>;
}

export interface SimulatedPeerOptions {
  participant: string;
  functionAddress: string;
  accessPoint: AccessPoint;
  /** Builds the peer's message service around the peer's look-ups (so the core judges with the peer's state). */
  makeService(lookups: InboundLookups): SdkMessageServicePort;
  logger: Logger;
}

export function createSimulatedPeer(opts: SimulatedPeerOptions): SimulatedPeer {
  const accepted = new Set<string>();
  const known = new Set<string>();
  const lookups: InboundLookups = {
    isKnownFunctionAddress: async (a) => a === opts.functionAddress,
    isDuplicateMessage: async (sender, id) => accepted.has(`${sender.toLowerCase()}|${id.toLowerCase()}`),
    referencedMessageState: async (id) => (known.has(id.toLowerCase()) ? 'known' : 'unknown'),
    isSupportedContentType: (ct) => /^(application\/pdf|text\/plain|image\/(png|jpeg))\b/i.test(ct),
  };
  const service = opts.makeService(lookups);
  const peer: SimulatedPeer = {
    participant: opts.participant,
    functionAddress: opts.functionAddress,
    received: [],
    receipts: [],
    async send(message) {
      const sealed = await service.seal(message);
      known.add(message.messageId.toLowerCase());
      await opts.accessPoint.send(sealed.envelope, sealed.routing);
      return { envelope: sealed.envelope, routing: sealed.routing };
    },
    async resend(envelope, routing) {
      await opts.accessPoint.send(envelope, routing);
    },
  };
  opts.accessPoint.onInbound(async (inbound) => {
    const result = await service.receive(inbound.envelope, { originalSender: inbound.routing.originalSender, finalRecipient: inbound.routing.finalRecipient });
    if (result.kind === 'receipt') {
      if (result.ok) peer.receipts.push(result.receipt);
      return;
    }
    const record: PeerReceivedMessage = { xheId: result.envelope?.id ?? inbound.routing.xheId, from: result.envelope?.from ?? inbound.routing.originalSender, functionAddress: result.envelope?.handlingServiceId, verdict: result.verdict };
    if (result.verdict.status === 'ACCEPTED' && result.message !== undefined) {
      // The peer keeps what it received readable: big attachments come as ranges of the payload.
      record.message = result.payloadBytes !== undefined ? withAttachmentTexts(result.message, result.payloadBytes) : result.message;
      accepted.add(`${result.message.sender.id.toLowerCase()}|${result.message.messageId.toLowerCase()}`);
      known.add(result.message.messageId.toLowerCase());
    }
    peer.received.push(record);
    const receipt = service.receiptFor(result);
    opts.logger.info({ event: 'SDK_PEER_RECEIVED', xheId: record.xheId, verdict: result.verdict.status, receipt: receipt !== null }, 'simulated peer organisation judged a message');
    if (receipt !== null) await opts.accessPoint.send(receipt.envelope, receipt.routing);
  });
  return peer;
}
