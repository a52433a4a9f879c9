// adapters/sdk/index.ts: the message-service factory the lead wires to ports. Two organisations (peer1 and
// us) exchange a message and its receipt end to end over the loopback access point.
import { createLoopbackNetwork, createSdkMessageService, type InboundMessageResult, type InboundReceiptResult } from '../../../adapters/sdk/index.js';
import type { SdkMessage } from '../../../src/domain/sdk/message.js';
import { directory, peerMessage, loadPki, LOOKUPS, OURS, PEER1, type Pki } from './sdk-test-kit.js';

let k: Pki;
beforeAll(async () => {
  k = await loadPki();
});

function message(): SdkMessage {
  return peerMessage({ label: 'Tjänsteutlåtande', documentId: 'd', files: [{ fileName: 'u.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF').toString('base64') }] });
}

describe('createSdkMessageService', () => {
  it('peer1 seals and sends, we judge and receipt, peer1 verifies the receipt', async () => {
    const certs = directory({
      [OURS.participant]: { signing: [{ pem: k.cert('org-sign'), organizationNumber: OURS.orgnr }], encryption: { pem: k.cert('org-enc'), organizationNumber: OURS.orgnr } },
      [PEER1.participant]: { signing: [{ pem: k.cert('peer1-sign'), organizationNumber: PEER1.orgnr }], encryption: { pem: k.cert('peer1-enc'), organizationNumber: PEER1.orgnr } },
    });
    const trust = { anchors: [k.caBundle], crls: [k.orgCrl] };
    const peer = createSdkMessageService({ ownParticipants: [PEER1.participant], signingKey: k.key('peer1-sign'), decryptionKeys: [k.decryptionKey('peer1-enc')], certificates: certs, lookups: LOOKUPS, trust });
    const us = createSdkMessageService({ ownParticipants: [OURS.participant], signingKey: k.key('org-sign'), decryptionKeys: [k.decryptionKey('org-enc')], certificates: certs, lookups: LOOKUPS, trust });

    const net = createLoopbackNetwork();
    const peerAp = net.accessPoint([PEER1.participant]);
    const ourAp = net.accessPoint([OURS.participant]);
    const judged: InboundMessageResult[] = [];
    const receipts: InboundReceiptResult[] = [];
    ourAp.onInbound(async (i) => {
      const r = await us.receive(i.envelope, { originalSender: i.routing.originalSender, finalRecipient: i.routing.finalRecipient });
      if (r.kind !== 'message') throw new Error('expected a message');
      judged.push(r);
      const receipt = us.receiptFor(r);
      if (receipt) await ourAp.send(receipt.envelope, receipt.routing);
    });
    peerAp.onInbound(async (i) => {
      const r = await peer.receive(i.envelope);
      if (r.kind !== 'receipt') throw new Error('expected a receipt');
      receipts.push(r);
    });

    const msg = message();
    const out = await peer.seal(msg);
    expect(out.routing).toMatchObject({ originalSender: PEER1.participant, finalRecipient: OURS.participant, xheId: msg.messageId, conversationId: msg.conversationId });
    await peerAp.send(out.envelope, out.routing);
    await net.idle();

    expect(judged).toHaveLength(1);
    expect(judged[0]?.verdict).toEqual({ status: 'ACCEPTED' });
    expect(judged[0]?.message).toEqual(msg);
    expect(receipts).toEqual([expect.objectContaining({ ok: true, receipt: expect.objectContaining({ status: 'ACCEPTED', documentReference: msg.messageId, issuer: OURS.participant }) })]);
    await net.close();
  });

  it('refuses to seal for a recipient without an encryption certificate', async () => {
    const svc = createSdkMessageService({ ownParticipants: [PEER1.participant], signingKey: k.key('peer1-sign'), decryptionKeys: [], certificates: directory({}), lookups: LOOKUPS });
    await expect(svc.seal(message())).rejects.toMatchObject({ code: 'SDK_RECIPIENT_NOT_REGISTERED', status: 422 });
  });

  it('owes no receipt when the verdict may not be receipted', async () => {
    const svc = createSdkMessageService({ ownParticipants: [OURS.participant], signingKey: k.key('org-sign'), decryptionKeys: [], certificates: directory({}), lookups: LOOKUPS });
    const r = await svc.receive(Buffer.from('<not-xml'));
    expect(r.kind).toBe('message');
    if (r.kind !== 'message') return;
    expect(r).toMatchObject({ sendReceipt: false, noReceiptReason: 'not-xml' });
    expect(svc.receiptFor(r)).toBeNull();
  });
});
