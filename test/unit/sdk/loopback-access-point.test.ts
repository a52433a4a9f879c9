// sdk.md §1 (interface C), §8, §10 status flow and §13: two organisations in one process exchange a message
// and its receipt through the loopback access point, with status events as a real AP would report them.
import { createLoopbackNetwork } from '../../../adapters/sdk/loopback/index.js';
import { buildReceiptEnvelope, processInboundReceipt } from '../../../adapters/sdk/receipt/receipt.envelope.js';
import { processInboundMessage } from '../../../adapters/sdk/validation/inbound.pipeline.js';
import { sealMessage } from '../../../adapters/sdk/xhe/seal.js';
import { MESSAGE_DOCUMENT_ID, PROCESS_ID, RECEIPT_DOCUMENT_ID } from '../../../src/domain/sdk/constants.js';
import type { MessageId, ParticipantId } from '../../../src/domain/sdk/identifiers.js';
import { canTransition, type MessageStatus } from '../../../src/domain/sdk/status.js';
import type { AccessPointEvent, InboundEnvelope } from '../../../src/ports/sdk.port.js';
import { directory, peerMessage, loadPki, OURS, PEER1, receiverContext, type Pki } from './sdk-test-kit.js';

let k: Pki;
beforeAll(async () => {
  k = await loadPki();
});

function routingFor(xheId: string, from: ParticipantId, to: ParticipantId, documentId = MESSAGE_DOCUMENT_ID): Parameters<ReturnType<ReturnType<typeof createLoopbackNetwork>['accessPoint']>['send']>[1] {
  return { originalSender: from, finalRecipient: to, documentId, processId: PROCESS_ID, xheId };
}

async function sealedFromPeer1(): Promise<{ envelope: Buffer; id: MessageId }> {
  const message = peerMessage({ label: 'Loopback', confidentiality: false, documentId: 'd', texts: ['Hej från Region Dev'] });
  const id = message.messageId;
  const sealed = await sealMessage({
    message,
    recipientEncryptionCertificatePem: k.cert('org-enc'),
    signingKey: k.key('peer1-sign'),
  });
  return { envelope: sealed.envelope, id };
}

describe('loopback access point', () => {
  it('carries a message peer1 → us and our receipt us → peer1, with status events on both sides', async () => {
    const net = createLoopbackNetwork();
    const peerAp = net.accessPoint([PEER1.participant]);
    const ourAp = net.accessPoint([OURS.participant]);
    const peerEvents: AccessPointEvent[] = [];
    const ourEvents: AccessPointEvent[] = [];
    peerAp.onStatus((e) => peerEvents.push(e));
    ourAp.onStatus((e) => ourEvents.push(e));

    // Our MT: judge the inbound message and answer with a signed receipt through our AP.
    let inboundStatus: MessageStatus = 'RETRIEVED';
    ourAp.onInbound(async (inbound: InboundEnvelope) => {
      const r = await processInboundMessage(inbound.envelope, receiverContext(k, { transport: { originalSender: inbound.routing.originalSender, finalRecipient: inbound.routing.finalRecipient } }));
      if (!r.sendReceipt || r.envelope === undefined) throw new Error('expected a receipt to be due');
      const receipt = buildReceiptEnvelope({
        issuer: OURS.participant,
        receiver: r.envelope.from as ParticipantId,
        acknowledgedXheId: r.envelope.id as MessageId,
        verdict: r.verdict,
        handlingServiceId: r.envelope.handlingServiceId ?? OURS.inbox,
        signingKey: k.key('org-sign'),
      });
      await ourAp.send(receipt.envelope, routingFor(receipt.xheId, OURS.participant, r.envelope.from as ParticipantId, RECEIPT_DOCUMENT_ID));
    });

    // Peer1's MT: apply the receipt to its outbound message status.
    let outboundStatus: MessageStatus = 'SCHEDULED';
    const move = (to: MessageStatus): void => {
      expect(canTransition(outboundStatus, to)).toBe(true);
      outboundStatus = to;
    };
    peerAp.onInbound(async (inbound) => {
      const r = await processInboundReceipt(inbound.envelope, {
        certificates: directory({ [OURS.participant]: { signing: [{ pem: k.cert('org-sign'), organizationNumber: OURS.orgnr }] } }),
        ownParticipants: [PEER1.participant],
      });
      if (!r.ok) throw new Error('receipt refused');
      move(r.receipt.status);
    });

    const { envelope, id } = await sealedFromPeer1();
    const submission = await peerAp.send(envelope, routingFor(id, PEER1.participant, OURS.participant));
    move('SUBMITTED');
    expect(submission.transportMessageId).toMatch(/@loopback\.sandebud$/);
    await net.idle();

    expect(outboundStatus).toBe('ACCEPTED');
    expect(peerEvents).toEqual([expect.objectContaining({ type: 'ACKNOWLEDGED', xheId: id, transportMessageId: submission.transportMessageId })]);
    expect(ourEvents).toEqual([expect.objectContaining({ type: 'ACKNOWLEDGED' })]);
    inboundStatus = 'RECEIPT_SENT';
    expect(canTransition(inboundStatus, 'NEW')).toBe(true);
    await net.close();
  });

  it('delivers the exact bytes that were sent, as a copy', async () => {
    const net = createLoopbackNetwork();
    const a = net.accessPoint([PEER1.participant]);
    const b = net.accessPoint([OURS.participant]);
    const got: Uint8Array[] = [];
    b.onInbound(async (i) => {
      got.push(i.envelope);
    });
    const { envelope, id } = await sealedFromPeer1();
    const original = Buffer.from(envelope);
    await a.send(envelope, routingFor(id, PEER1.participant, OURS.participant));
    envelope.fill(0);
    await net.idle();
    expect(Buffer.from(got[0] ?? []).equals(original)).toBe(true);
    await net.close();
  });

  it('reports SEND_FAILED EBMS:0004 NOT_SERVICED for a participant no access point serves', async () => {
    const net = createLoopbackNetwork();
    const a = net.accessPoint([PEER1.participant]);
    const events: AccessPointEvent[] = [];
    a.onStatus((e) => events.push(e));
    const { envelope, id } = await sealedFromPeer1();
    await a.send(envelope, routingFor(id, PEER1.participant, '0203:nobody.example' as ParticipantId));
    await net.idle();
    expect(events).toEqual([expect.objectContaining({ type: 'SEND_FAILED', errorCode: 'EBMS:0004', detail: 'NOT_SERVICED', retryable: false })]);
    await net.close();
  });

  it('refuses routing that does not match the XHE, as a receiving access point does', async () => {
    const net = createLoopbackNetwork();
    const a = net.accessPoint([PEER1.participant]);
    net.accessPoint([OURS.participant]).onInbound(async () => undefined);
    const events: AccessPointEvent[] = [];
    a.onStatus((e) => events.push(e));
    const { envelope, id } = await sealedFromPeer1();
    await a.send(envelope, { ...routingFor(id, PEER1.participant, OURS.participant), originalSender: '0203:impostor.example' as ParticipantId });
    await net.idle();
    expect(events).toEqual([expect.objectContaining({ type: 'SEND_FAILED', errorCode: 'EBMS:0003' })]);
    await net.close();
  });

  it('retries a receiver whose handler fails, then acknowledges', async () => {
    const net = createLoopbackNetwork({ maxAttempts: 3, retryDelayMs: 1 });
    const a = net.accessPoint([PEER1.participant]);
    const b = net.accessPoint([OURS.participant]);
    let calls = 0;
    b.onInbound(async () => {
      calls++;
      if (calls < 2) throw new Error('database busy');
    });
    const events: AccessPointEvent[] = [];
    a.onStatus((e) => events.push(e));
    const { envelope, id } = await sealedFromPeer1();
    await a.send(envelope, routingFor(id, PEER1.participant, OURS.participant));
    await net.idle();
    expect(events.map((e) => e.type)).toEqual(['RETRY_SCHEDULED', 'ACKNOWLEDGED']);
    await net.close();
  });

  it('gives up after the configured attempts with a retryable SEND_FAILED', async () => {
    const net = createLoopbackNetwork({ maxAttempts: 2, retryDelayMs: 1 });
    const a = net.accessPoint([PEER1.participant]);
    net.accessPoint([OURS.participant]).onInbound(async () => {
      throw new Error('down');
    });
    const events: AccessPointEvent[] = [];
    a.onStatus((e) => events.push(e));
    const { envelope, id } = await sealedFromPeer1();
    await a.send(envelope, routingFor(id, PEER1.participant, OURS.participant));
    await net.idle();
    expect(events.map((e) => e.type)).toEqual(['RETRY_SCHEDULED', 'SEND_FAILED']);
    expect(events[1]).toMatchObject({ retryable: true });
    await net.close();
    await expect(a.send(envelope, routingFor(id, PEER1.participant, OURS.participant))).rejects.toThrow(/closed/);
  });
});
