// adapters/sdk/as4 (sdk.md §8): two AS4 access points (ours and peer1's) on real sockets with mutual TLS and
// the dev PKI exchange an XHE sealed by the real message-service core and the SDK receipt coming back; the
// receipt watchdog; retries while the receiver is down.
import https from 'node:https';
import net from 'node:net';
import express from 'express';
import type { AccessPointEvent, InboundEnvelope } from '../../../src/ports/sdk.port.js';
import type { As4AccessPoint } from '../../../adapters/sdk/as4/index.js';
import { as4RequestHandler, MESSAGE_EXCHANGE_ERROR } from '../../../adapters/sdk/as4/index.js';
import { loadKit, messageService, messageToPeer1, PeerTable, startAp, waitFor, type Kit, OURS, PEER1 } from '../../unit/sdk-as4/as4-test-kit.js';

let kit: Kit;
const open: As4AccessPoint[] = [];
beforeAll(async () => {
  kit = await loadKit();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((ap) => ap.close()));
});

function track(ap: As4AccessPoint): As4AccessPoint {
  open.push(ap);
  return ap;
}

function collect(ap: As4AccessPoint): AccessPointEvent[] {
  const events: AccessPointEvent[] = [];
  ap.onStatus((e) => events.push(e));
  return events;
}

describe('AS4 access point: one message and its SDK receipt', () => {
  it('delivers the exact XHE once, with a verified signed AS4 receipt, and carries the SDK receipt back', async () => {
    const peers = new PeerTable(kit);
    const ours = track(await startAp(kit, 'ours', peers, { sdkReceiptTimeoutMs: 20_000 }));
    const peer1 = track(await startAp(kit, 'peer1', peers));
    const us = messageService(kit, 'ours');
    const them = messageService(kit, 'peer1');
    const ourEvents = collect(ours);
    const peerEvents = collect(peer1);

    const atPeer: InboundEnvelope[] = [];
    peer1.onInbound(async (i) => {
      atPeer.push(i);
      const verdict = await them.receive(i.envelope, { originalSender: i.routing.originalSender, finalRecipient: i.routing.finalRecipient });
      if (verdict.kind !== 'message') throw new Error('expected a message');
      const receipt = them.receiptFor(verdict);
      if (receipt === null) throw new Error('expected a receipt to send');
      await peer1.send(receipt.envelope, receipt.routing);
    });
    const atUs: Array<Awaited<ReturnType<typeof us.receive>>> = [];
    ours.onInbound(async (i) => {
      atUs.push(await us.receive(i.envelope));
    });

    const msg = messageToPeer1();
    const sealed = await us.seal(msg);
    const submission = await ours.send(sealed.envelope, sealed.routing);
    expect(submission.transportMessageId).toMatch(/^[0-9a-f-]{36}@sandebud\.as4$/);

    await waitFor(() => atUs.length === 1 && ourEvents.some((e) => e.type === 'ACKNOWLEDGED') && peerEvents.some((e) => e.type === 'ACKNOWLEDGED'), 'the receipt round trip');
    // Delivered once, byte for byte, with the routing the receiving AP read from the signed ebMS header.
    expect(atPeer).toHaveLength(1);
    expect(Buffer.from(atPeer[0]!.envelope).equals(Buffer.from(sealed.envelope))).toBe(true);
    expect(atPeer[0]!.transportMessageId).toBe(submission.transportMessageId);
    expect(atPeer[0]!.routing).toEqual({ ...sealed.routing, conversationId: msg.conversationId });
    // The AS4 receipt was verified by our AP (ACKNOWLEDGED), and peer1's SDK receipt reached our core.
    expect(ourEvents).toEqual([{ type: 'ACKNOWLEDGED', transportMessageId: submission.transportMessageId, xheId: msg.messageId, at: expect.any(Date) }]);
    expect(atUs[0]).toMatchObject({ kind: 'receipt', ok: true, receipt: { status: 'ACCEPTED', documentReference: msg.messageId, issuer: PEER1.participant } });
    // The SDK receipt stopped the watchdog: no MESSAGE_EXCHANGE_ERROR later.
    await ours.idle();
    expect(ourEvents.filter((e) => e.type === 'SEND_FAILED')).toEqual([]);
  });

  it('raises SEND_FAILED with MESSAGE_EXCHANGE_ERROR when the SDK message receipt does not arrive in time', async () => {
    const peers = new PeerTable(kit);
    const ours = track(await startAp(kit, 'ours', peers, { sdkReceiptTimeoutMs: 400 }));
    const peer1 = track(await startAp(kit, 'peer1', peers));
    const events = collect(ours);
    let delivered = 0;
    // Peer1 takes the message but never answers with an SDK receipt.
    peer1.onInbound(async () => {
      delivered++;
    });
    const sealed = await messageService(kit, 'ours').seal(messageToPeer1());
    const { transportMessageId } = await ours.send(sealed.envelope, sealed.routing);
    await waitFor(() => events.some((e) => e.type === 'SEND_FAILED'), 'the receipt timeout');
    expect(delivered).toBe(1);
    expect(events.map((e) => e.type)).toEqual(['ACKNOWLEDGED', 'SEND_FAILED']);
    expect(events[1]).toMatchObject({ type: 'SEND_FAILED', transportMessageId, xheId: sealed.xheId, errorCode: MESSAGE_EXCHANGE_ERROR, retryable: false });
  });
});

describe('AS4 access point mounted on an existing HTTPS server', () => {
  it('receives through as4RequestHandler on an Express route with mutual TLS', async () => {
    const peers = new PeerTable(kit);
    const ours = track(await startAp(kit, 'ours', peers));
    const peer1 = track(await startAp(kit, 'peer1', peers, { listen: undefined }));
    expect(peer1.url).toBeUndefined();
    const app = express();
    app.post('/sdk/as4', as4RequestHandler(peer1));
    const server = https.createServer({ key: kit.key('peer1-tls'), cert: kit.cert('peer1-tls'), ca: kit.caBundle, requestCert: true, rejectUnauthorized: true }, app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      peers.set('peer1', `https://127.0.0.1:${(server.address() as net.AddressInfo).port}/sdk/as4`);
      const received: InboundEnvelope[] = [];
      peer1.onInbound(async (i) => {
        received.push(i);
      });
      const events = collect(ours);
      const sealed = await messageService(kit, 'ours').seal(messageToPeer1());
      await ours.send(sealed.envelope, sealed.routing);
      await ours.idle();
      expect(events.map((e) => e.type)).toEqual(['ACKNOWLEDGED']);
      expect(received).toHaveLength(1);
    } finally {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  });
});

describe('AS4 access point: the receiving AP is down', () => {
  it('retries with backoff and delivers once when the receiver comes up', async () => {
    // Reserve a port, and start nothing on it yet.
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const peers = new PeerTable(kit);
    peers.set('peer1', `https://127.0.0.1:${port}/as4`);
    const ours = track(await startAp(kit, 'ours', peers, { retry: { nextDelayMs: (n) => (n < 8 ? 250 : null) } }));
    const events = collect(ours);
    const sealed = await messageService(kit, 'ours').seal(messageToPeer1());
    await ours.send(sealed.envelope, sealed.routing);
    await waitFor(() => events.filter((e) => e.type === 'RETRY_SCHEDULED').length >= 2, 'two scheduled retries');

    const received: InboundEnvelope[] = [];
    const peer1 = track(await startAp(kit, 'peer1', peers, { listen: { host: '127.0.0.1', port } }));
    peer1.onInbound(async (i) => {
      received.push(i);
    });
    await waitFor(() => events.some((e) => e.type === 'ACKNOWLEDGED'), 'delivery after the receiver came up');
    await ours.idle();
    expect(received).toHaveLength(1);
    expect(Buffer.from(received[0]!.envelope).equals(Buffer.from(sealed.envelope))).toBe(true);
    const retries = events.filter((e) => e.type === 'RETRY_SCHEDULED');
    expect(retries.length).toBeGreaterThanOrEqual(2);
    expect(retries[0]).toMatchObject({ xheId: sealed.xheId, nextAttemptAt: expect.any(Date) });
    expect(events[events.length - 1]).toMatchObject({ type: 'ACKNOWLEDGED', xheId: sealed.xheId });
    expect(events.some((e) => e.type === 'SEND_FAILED')).toBe(false);
  });

  it('gives up with SEND_FAILED (retryable) when the policy has no attempts left', async () => {
    const peers = new PeerTable(kit);
    peers.set('peer1', 'https://127.0.0.1:1/as4');
    const ours = track(await startAp(kit, 'ours', peers, { retry: { nextDelayMs: (n) => (n < 2 ? 50 : null) } }));
    const events = collect(ours);
    const sealed = await messageService(kit, 'ours').seal(messageToPeer1());
    await ours.send(sealed.envelope, sealed.routing);
    await ours.idle();
    expect(events.map((e) => e.type)).toEqual(['RETRY_SCHEDULED', 'SEND_FAILED']);
    expect(events[1]).toMatchObject({ errorCode: 'EBMS:0005', retryable: true });
  });

  it('refuses a participant nobody serves with SEND_FAILED EBMS:0004 NOT_SERVICED, without retrying', async () => {
    const peers = new PeerTable(kit);
    const ours = track(await startAp(kit, 'ours', peers));
    const events = collect(ours);
    const sealed = await messageService(kit, 'ours').seal(messageToPeer1());
    await ours.send(sealed.envelope, sealed.routing);
    await ours.idle();
    expect(events).toEqual([expect.objectContaining({ type: 'SEND_FAILED', errorCode: 'EBMS:0004', retryable: false })]);
    expect(OURS.participant).not.toBe(PEER1.participant);
  });
});
