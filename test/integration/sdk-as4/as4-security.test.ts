// adapters/sdk/as4 inbound checks (sdk.md §8; dependencies.md XML rules 4–10) over real sockets with mutual
// TLS: duplicate elimination by ebMS MessageId, a certificate of the wrong organisation, an untrusted CA (in
// WS-Security and in TLS), tampered attachment and header, missing signature coverage, routing checks. In
// every refusal the inbound handler is never called.
import { MESSAGE_DOCUMENT_ID, RECEIPT_DOCUMENT_ID } from '../../../src/domain/sdk/constants.js';
import type { AccessPointEvent, InboundEnvelope } from '../../../src/ports/sdk.port.js';
import type { As4AccessPoint } from '../../../adapters/sdk/as4/index.js';
import {
  AP_PARTY,
  craftUserMessage,
  ebmsErrorCode,
  ebmsErrorDetail,
  loadKit,
  messageService,
  OURS,
  PEER1,
  PEER2,
  PeerTable,
  postRaw,
  rogueAccessPointCertificate,
  sdkMessage,
  startAp,
  waitFor,
  type Kit,
} from '../../unit/sdk-as4/as4-test-kit.js';

let kit: Kit;
let peers: PeerTable;
let ours: As4AccessPoint;
let received: InboundEnvelope[];
let xheFromPeer1: Uint8Array;
const extra: As4AccessPoint[] = [];

beforeAll(async () => {
  kit = await loadKit();
  peers = new PeerTable(kit);
  // We serve our participant and (for the routing test) peer2's, as an operator AP would.
  ours = await startAp(kit, 'ours', peers, { servedParticipants: [OURS.participant, PEER2.participant] });
  received = [];
  ours.onInbound(async (i) => {
    received.push(i);
  });
  // Peer1's AP is registered (its certificate is what we accept for peer1's messages); its URL is unused here.
  peers.set('peer1', 'https://127.0.0.1:9/as4');
  xheFromPeer1 = (await messageService(kit, 'peer1').seal(sdkMessage('peer1', 'ours'))).envelope;
});
afterAll(async () => {
  await ours.close();
});
afterEach(async () => {
  await Promise.all(extra.splice(0).map((ap) => ap.close()));
  received.length = 0;
});

/** A correct request from peer1's AP, optionally changed. */
function fromPeer1(over: Partial<Parameters<typeof craftUserMessage>[0]> = {}): ReturnType<typeof craftUserMessage> {
  return craftUserMessage({
    xhe: xheFromPeer1,
    documentId: MESSAGE_DOCUMENT_ID,
    originalSender: PEER1.participant,
    finalRecipient: OURS.participant,
    fromParty: AP_PARTY.peer1,
    toParty: AP_PARTY.ours,
    signer: { keyPem: kit.key('peer1-tls'), certPem: kit.cert('peer1-tls') },
    ...over,
  });
}

describe('duplicate elimination by ebMS MessageId', () => {
  it('delivers a replayed message once and answers both copies with a signed receipt', async () => {
    const req = fromPeer1();
    const first = await postRaw(kit, ours.url!, 'peer1-tls', req);
    const second = await postRaw(kit, ours.url!, 'peer1-tls', req);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    for (const r of [first, second]) {
      expect(r.body).toContain(`<eb:RefToMessageId>${req.messageId}</eb:RefToMessageId>`);
      expect(r.body).toContain('ebbp:NonRepudiationInformation');
      expect(r.body).toContain('<ds:SignatureValue>');
    }
    expect(received).toHaveLength(1);
    expect(Buffer.from(received[0]!.envelope).equals(Buffer.from(xheFromPeer1))).toBe(true);
  });

  it('a retransmission after a lost AS4 receipt is acknowledged but not delivered twice', async () => {
    // Peer1's own AP sends to a slow receiver: the first attempt times out waiting for the receipt, the
    // retransmission (same MessageId) meets the delivery in progress (503), a later one gets the receipt.
    const slowPeers = new PeerTable(kit);
    const receiver = await startAp(kit, 'ours', slowPeers);
    extra.push(receiver);
    const got: InboundEnvelope[] = [];
    receiver.onInbound(async (i) => {
      got.push(i);
      await new Promise((r) => setTimeout(r, 1200));
    });
    const sender = await startAp(kit, 'peer1', slowPeers, { responseTimeoutMs: 400, retry: { nextDelayMs: (n) => (n < 12 ? 300 : null) } });
    extra.push(sender);
    const events: AccessPointEvent[] = [];
    sender.onStatus((e) => events.push(e));
    const sealed = await messageService(kit, 'peer1').seal(sdkMessage('peer1', 'ours'));
    await sender.send(sealed.envelope, sealed.routing);
    await waitFor(() => events.some((e) => e.type === 'ACKNOWLEDGED' || e.type === 'SEND_FAILED'), 'the outcome', 20_000);
    expect(events.filter((e) => e.type === 'RETRY_SCHEDULED').length).toBeGreaterThanOrEqual(1);
    expect(events[events.length - 1]).toMatchObject({ type: 'ACKNOWLEDGED', xheId: sealed.xheId });
    expect(got).toHaveLength(1);
  });
});

describe('who may send: the certificate must be the sending organisation’s registered AP certificate', () => {
  it('refuses (EBMS:0101) another organisation’s AP sending in peer1’s name, even with a trusted certificate', async () => {
    const other = await startAp(kit, 'peer2', peers);
    extra.push(other);
    const events: AccessPointEvent[] = [];
    other.onStatus((e) => events.push(e));
    const sealed = await messageService(kit, 'peer1').seal(sdkMessage('peer1', 'ours'));
    await other.send(sealed.envelope, sealed.routing);
    await other.idle();
    expect(events).toEqual([expect.objectContaining({ type: 'SEND_FAILED', errorCode: 'EBMS:0101', retryable: false })]);
    expect(received).toHaveLength(0);
  });

  it('refuses a From party that is not the sender’s AP', async () => {
    const r = await postRaw(kit, ours.url!, 'peer1-tls', fromPeer1({ fromParty: AP_PARTY.peer2 }));
    expect(r.status).toBe(500);
    expect(ebmsErrorCode(r.body)).toBe('EBMS:0101');
    expect(ebmsErrorDetail(r.body)).toBe('FROM_PARTY_IS_NOT_THE_SENDERS_ACCESS_POINT');
    expect(received).toHaveLength(0);
  });

  it('refuses a WS-Security certificate from a CA nobody configured (TLS itself is fine)', async () => {
    const rogue = await rogueAccessPointCertificate();
    const r = await postRaw(kit, ours.url!, 'peer1-tls', fromPeer1({ signer: { keyPem: rogue.keyPem, certPem: rogue.certPem } }));
    expect(r.status).toBe(500);
    expect(ebmsErrorCode(r.body)).toBe('EBMS:0101');
    expect(ebmsErrorDetail(r.body)).toBe('WSS_UNTRUSTED_CERTIFICATE');
    expect(received).toHaveLength(0);
  });

  it('refuses a TLS client certificate from an untrusted CA at the handshake; the sender gives up after its retries', async () => {
    const rogue = await rogueAccessPointCertificate();
    const sender = await startAp(kit, 'peer1', peers, {
      tls: { keyPem: rogue.keyPem, certPem: rogue.certPem, caPem: kit.caBundle },
      signing: { privateKeyPem: kit.key('peer1-tls'), certificatePem: kit.cert('peer1-tls') },
      listen: undefined,
      retry: { nextDelayMs: (n) => (n < 2 ? 50 : null) },
    });
    extra.push(sender);
    const events: AccessPointEvent[] = [];
    sender.onStatus((e) => events.push(e));
    const sealed = await messageService(kit, 'peer1').seal(sdkMessage('peer1', 'ours'));
    await sender.send(sealed.envelope, sealed.routing);
    await sender.idle();
    expect(events.map((e) => e.type)).toEqual(['RETRY_SCHEDULED', 'SEND_FAILED']);
    expect(events[1]).toMatchObject({ errorCode: 'EBMS:0005' });
    expect(received).toHaveLength(0);
  });

  it('refuses a sender that is not registered at all', async () => {
    const r = await postRaw(kit, ours.url!, 'peer2-tls', craftUserMessage({
      xhe: xheFromPeer1,
      documentId: MESSAGE_DOCUMENT_ID,
      originalSender: '0203:unknown.example',
      finalRecipient: OURS.participant,
      fromParty: AP_PARTY.peer2,
      toParty: AP_PARTY.ours,
      signer: { keyPem: kit.key('peer2-tls'), certPem: kit.cert('peer2-tls') },
    }));
    expect(ebmsErrorDetail(r.body)).toBe('SENDER_NOT_REGISTERED');
    expect(received).toHaveLength(0);
  });
});

describe('integrity: what was signed is what is delivered', () => {
  it('refuses a tampered attachment (EBMS:0101, digest mismatch)', async () => {
    const r = await postRaw(kit, ours.url!, 'peer1-tls', fromPeer1({ tamperAttachment: (gz) => {
      const copy = Buffer.from(gz);
      copy[copy.length - 9] = copy[copy.length - 9]! ^ 0x01;
      return copy;
    } }));
    expect(r.status).toBe(500);
    expect(ebmsErrorCode(r.body)).toBe('EBMS:0101');
    expect(ebmsErrorDetail(r.body)).toBe('WSS_DIGEST_MISMATCH');
    expect(received).toHaveLength(0);
  });

  it('refuses a changed eb:Messaging header (finalRecipient rewritten after signing)', async () => {
    const r = await postRaw(kit, ours.url!, 'peer1-tls', fromPeer1({ tamperSoap: (s) => s.replace(`>${OURS.participant}<`, `>${PEER2.participant}<`) }));
    expect(ebmsErrorDetail(r.body)).toBe('WSS_DIGEST_MISMATCH');
    expect(received).toHaveLength(0);
  });

  it('refuses an attachment the signature does not cover', async () => {
    const r = await postRaw(kit, ours.url!, 'peer1-tls', fromPeer1({ unsignedAttachment: true }));
    expect(ebmsErrorDetail(r.body)).toBe('WSS_REFERENCE');
    expect(received).toHaveLength(0);
  });

  it('refuses an unsigned message', async () => {
    const r = await postRaw(kit, ours.url!, 'peer1-tls', fromPeer1({ tamperSoap: (s) => s.replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '') }));
    expect(ebmsErrorDetail(r.body)).toBe('WSS_SIGNATURE_COUNT');
    expect(received).toHaveLength(0);
  });

  it('refuses an expired Timestamp', async () => {
    const r = await postRaw(kit, ours.url!, 'peer1-tls', fromPeer1({ now: new Date(Date.now() - 3_600_000) }));
    expect(ebmsErrorDetail(r.body)).toBe('WSS_TIMESTAMP');
    expect(received).toHaveLength(0);
  });

  it('refuses a DOCTYPE in the SOAP part before parsing', async () => {
    const r = await postRaw(kit, ours.url!, 'peer1-tls', fromPeer1({ tamperSoap: (s) => `<!DOCTYPE x [<!ENTITY e "x">]>${s}` }));
    expect(ebmsErrorCode(r.body)).toBe('EBMS:0009');
    expect(ebmsErrorDetail(r.body)).toBe('WSS_UNSAFE_XML');
    expect(received).toHaveLength(0);
  });
});

describe('routing and P-mode checks of the receiving AP', () => {
  it('refuses a participant it does not serve with EBMS:0004 NOT_SERVICED', async () => {
    const r = await postRaw(kit, ours.url!, 'peer1-tls', fromPeer1({ finalRecipient: '0203:elsewhere.example' }));
    expect(ebmsErrorCode(r.body)).toBe('EBMS:0004');
    expect(ebmsErrorDetail(r.body)).toBe('NOT_SERVICED');
    expect(received).toHaveLength(0);
  });

  it('refuses an ebMS finalRecipient that differs from the XHE ToParty (EBMS:0003)', async () => {
    const r = await postRaw(kit, ours.url!, 'peer1-tls', fromPeer1({ finalRecipient: PEER2.participant }));
    expect(ebmsErrorCode(r.body)).toBe('EBMS:0003');
    expect(ebmsErrorDetail(r.body)).toBe('ROUTING_DOES_NOT_MATCH_THE_XHE');
    expect(received).toHaveLength(0);
  });

  it('refuses an action whose document id differs from the XHE (receipt action for a message)', async () => {
    const r = await postRaw(kit, ours.url!, 'peer1-tls', fromPeer1({ documentId: RECEIPT_DOCUMENT_ID }));
    expect(ebmsErrorCode(r.body)).toBe('EBMS:0003');
    expect(received).toHaveLength(0);
  });

  it('refuses a message addressed to another AS4 party (EBMS:0010)', async () => {
    const r = await postRaw(kit, ours.url!, 'peer1-tls', fromPeer1({ toParty: AP_PARTY.peer2 }));
    expect(ebmsErrorCode(r.body)).toBe('EBMS:0010');
    expect(received).toHaveLength(0);
  });

  it('answers 503 (retry later) while no inbound handler is registered, then delivers', async () => {
    const bare = await startAp(kit, 'ours', new PeerTable(kit), { peers: peers.resolver });
    extra.push(bare);
    const req = fromPeer1();
    const r = await postRaw(kit, bare.url!, 'peer1-tls', req);
    expect(r.status).toBe(503);
    const got: InboundEnvelope[] = [];
    bare.onInbound(async (i) => {
      got.push(i);
    });
    const again = await postRaw(kit, bare.url!, 'peer1-tls', req);
    expect(again.status).toBe(200);
    expect(got).toHaveLength(1);
  });
});
