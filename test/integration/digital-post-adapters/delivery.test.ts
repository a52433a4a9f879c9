// deliverSecure end to end over real sockets with mutual TLS: FaR lookup → signed and sealed delivery → operator
// simulator that validates against our XSD and verifies both signatures (../shared/specs/digital-post.md §6;
// checklist §11 #10, #19, #27–#34, #37).
import { createDigitalPostAdapters, type DigitalPostAdapters } from '../../../adapters/digital-post/index.js';
import {
  startFarSimulator,
  startMailboxOperatorSimulator,
  TEST_RECIPIENTS as T,
  type FarSimulator,
  type MailboxOperatorSimulator,
} from '../../../adapters/digital-post/simulator/index.js';
import { classifyDeliveryFailure, classifyDeliveryResult, type OrganisationNumber, type RecipientId } from '../../../src/domain/digital-post.js';
import type { PreparedDelivery } from '../../../src/ports/digital-post.port.js';
import { loadTestPki, OUR_ORG, strangerPki, targetFor, testLetter, type TestPki } from './fixtures.js';

let pki: TestPki;
let far: FarSimulator;
let opA: MailboxOperatorSimulator;
let opB: MailboxOperatorSimulator;
let dp: DigitalPostAdapters;

function adapters(over: Partial<Parameters<typeof createDigitalPostAdapters>[0]> = {}): DigitalPostAdapters {
  return createDigitalPostAdapters({
    tls: pki.tls('org-tls-client'),
    far: { url: far.url, cacheTtlMs: 0 },
    signing: { seal: pki.cred('org-seal'), senders: { [OUR_ORG]: pki.cred('org-sign') }, pool: dp?.signerPool ?? { size: 2 } },
    readTimeoutMs: 5000,
    ...over,
  });
}

beforeAll(async () => {
  pki = await loadTestPki();
  const opts = { port: 0, signatureTrust: pki.caBundle, slowMs: 2500 };
  opA = await startMailboxOperatorSimulator({ ...opts, tls: pki.tls('mailbox-a-tls'), name: 'A' });
  opB = await startMailboxOperatorSimulator({ ...opts, tls: pki.tls('mailbox-b-tls'), name: 'B' });
  far = await startFarSimulator({ port: 0, tls: pki.tls('far-tls'), operators: { A: { serviceAddress: opA.serviceAddress }, B: { serviceAddress: opB.serviceAddress } } });
  dp = adapters();
});
afterAll(async () => {
  await dp.close();
  await Promise.all([far.close(), opA.close(), opB.close()]);
});

async function lookupTarget(id: string) {
  const o = (await dp.recipientRegistry.isReachable([id as RecipientId], OUR_ORG)).get(id as RecipientId)!;
  if (!o.reachable) throw new Error(`expected ${id} to be reachable, got ${o.reason}`);
  return { serviceAddress: o.operator.serviceAddress, operator: { id: o.operator.id, name: o.operator.name } };
}

function tamper(p: PreparedDelivery, from: string, to: string): PreparedDelivery {
  const s = p.soapRequest.toString('utf8');
  if (!s.includes(from)) throw new Error(`cannot tamper: ${from} not found`);
  return { ...p, soapRequest: Buffer.from(s.replace(from, to), 'utf8') };
}

describe('a delivery the operator accepts', () => {
  it('looks the recipient up, signs, seals and delivers to exactly the ServiceAdress FaR named (§11 #10, #29)', async () => {
    const target = await lookupTarget(T.REACHABLE_B);
    expect(target.operator.id).toBe('165560000019');
    const letter = testLetter(T.REACHABLE_B);
    const receipt = await dp.mailbox.deliverSecure(letter, target);
    expect(receipt).toMatchObject({ deliveryId: letter.deliveryId, delivered: true, operatorId: '165560000019', transId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(classifyDeliveryResult(receipt.delivered)).toEqual({ kind: 'delivered', reason: 'DELIVERED' });
    const got = opB.deliveries.find((d) => d.deliveryId === letter.deliveryId);
    expect(got).toMatchObject({
      recipient: T.REACHABLE_B,
      senderId: '162120000000',
      subject: 'Beslut om hemtjänst',
      transId: receipt.transId,
      attachments: [{ filename: 'beslut.pdf', contentType: 'application/pdf', bytes: letter.attachments[0]!.content.length }],
    });
    expect(got!.senderCertificateSubject).toContain('signing');
    expect(got!.sealCertificateSubject).toContain('seal');
    expect(got!.requestSha256).toBe(receipt.requestSha256);
    expect(opA.deliveries.some((d) => d.deliveryId === letter.deliveryId)).toBe(false);
  });

  it('delivers to an organisation and to a samordningsnummer', async () => {
    for (const id of [T.REACHABLE_B_ORGANISATION, T.REACHABLE_A_SAMORDNINGSNUMMER]) {
      const receipt = await dp.mailbox.deliverSecure(testLetter(id), await lookupTarget(id));
      expect(receipt.delivered).toBe(true);
    }
  });

  it('is idempotent by delivery id: a second deliverSecure returns the stored receipt without sending again', async () => {
    const letter = testLetter(T.REACHABLE_A);
    const target = await lookupTarget(T.REACHABLE_A);
    const before = opA.calls.length;
    const [r1, r2] = await Promise.all([dp.mailbox.deliverSecure(letter, target), dp.mailbox.deliverSecure(letter, target)]);
    const r3 = await dp.mailbox.deliverSecure(letter, target);
    expect(r2).toBe(r1);
    expect(r3).toBe(r1);
    expect(opA.calls.length - before).toBe(1);
  });

  it('resends identical bytes on a retry, and the operator answers the duplicate with the first TransId (§11 #27–#28)', async () => {
    const letter = testLetter(T.REACHABLE_A);
    const target = await lookupTarget(T.REACHABLE_A);
    const p1 = await dp.mailbox.prepare(letter);
    const other = adapters(); // another process re-signing after a crash
    const p2 = await other.mailbox.prepare(letter);
    await other.close();
    expect(p2.soapRequest.equals(p1.soapRequest)).toBe(true);
    const first = await dp.mailbox.send(p1, target);
    const again = await dp.mailbox.send(p1, target);
    expect(again.transId).toBe(first.transId);
    const calls = opA.calls.filter((c) => c.deliveryId === letter.deliveryId);
    expect(calls.map((c) => c.result)).toEqual(['accepted', 'duplicate']);
    expect(new Set(calls.map((c) => c.requestSha256)).size).toBe(1);
    expect(opA.deliveries.filter((d) => d.deliveryId === letter.deliveryId)).toHaveLength(1);
  });

  it('seals with our certificate a letter signed with a hosted sender\'s own certificate (§2, §10 #12)', async () => {
    const peer1 = '2321000016' as OrganisationNumber;
    const hosted = adapters({ signing: { seal: pki.cred('org-seal'), senders: { [OUR_ORG]: pki.cred('org-sign'), [peer1]: pki.cred('peer1-sign') }, pool: dp.signerPool } });
    try {
      const letter = testLetter(T.REACHABLE_A, { sender: { organisationNumber: peer1, name: 'Region Dev' } });
      const receipt = await hosted.mailbox.deliverSecure(letter, await lookupTarget(T.REACHABLE_A));
      expect(receipt.delivered).toBe(true);
      const got = opA.deliveries.find((d) => d.deliveryId === letter.deliveryId)!;
      expect(got.senderId).toBe('162321000016');
      expect(got.senderCertificateSubject).toContain('Region Dev');
      expect(got.sealCertificateSubject).toContain('Sändebuds kommun (dev) seal');
    } finally {
      await hosted.close();
    }
  });
});

describe('signatures the operator refuses with fault 5002 "Access denied" (§10 #19, §11 #37)', () => {
  it('rejects a SignedDelivery changed after signing', async () => {
    const target = await lookupTarget(T.REACHABLE_A);
    const p = await dp.mailbox.prepare(testLetter(T.REACHABLE_A, { subject: 'Original subject' }));
    const err = await dp.mailbox.send(tamper(p, 'Original subject', 'Changed subject!'), target).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OPERATOR_FAULT', details: { faultCode: 5002, callId: expect.stringMatching(/^SIM-/) } });
    expect(classifyDeliveryFailure(err)).toMatchObject({ kind: 'paper', reason: 'OPERATOR_REJECTED', faultCode: 5002, alert: true });
    expect(opA.calls.at(-1)).toMatchObject({ result: 'fault', faultCode: 5002, reason: 'INVALID_SIGNATURE' });
  });

  it('rejects a Seal changed after sealing', async () => {
    const target = await lookupTarget(T.REACHABLE_A);
    const p = await dp.mailbox.prepare(testLetter(T.REACHABLE_A, { receivedAt: new Date('2026-03-10T10:00:00Z') }));
    await expect(dp.mailbox.send(tamper(p, '<ReceivedTime xmlns="http://minameddelanden.gov.se/schema/Message">2026-03-10<', '<ReceivedTime xmlns="http://minameddelanden.gov.se/schema/Message">2026-03-11<'), target)).rejects.toMatchObject({
      code: 'OPERATOR_FAULT',
      details: { faultCode: 5002 },
    });
  });

  it('accepts the untouched delivery (the control for the two above)', async () => {
    const target = await lookupTarget(T.REACHABLE_A);
    const p = await dp.mailbox.prepare(testLetter(T.REACHABLE_A, { receivedAt: new Date('2026-03-10T10:00:00Z') }));
    await expect(dp.mailbox.send(p, target)).resolves.toMatchObject({ delivered: true });
  });

  it('rejects a signature by a certificate from a CA the operator does not trust', async () => {
    const s = strangerPki();
    const rogue = adapters({ signing: { seal: { keyPem: s.keyPem, certPem: s.certPem }, pool: dp.signerPool } });
    try {
      const err = await rogue.mailbox.deliverSecure(testLetter(T.REACHABLE_A), await lookupTarget(T.REACHABLE_A)).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'OPERATOR_FAULT', details: { faultCode: 5002 } });
      expect(opA.calls.at(-1)).toMatchObject({ reason: 'UNTRUSTED_CERTIFICATE' });
    } finally {
      await rogue.close();
    }
  });

  it('rejects an expired signing certificate and a sender certificate of another organisation', async () => {
    for (const [sender, why] of [
      ['expired-sign', 'UNTRUSTED_CERTIFICATE'],
      ['peer2-sign', 'SENDER_CERTIFICATE_MISMATCH'],
    ] as const) {
      const bad = adapters({ signing: { seal: pki.cred('org-seal'), senders: { [OUR_ORG]: pki.cred(sender) }, pool: dp.signerPool } });
      try {
        await expect(bad.mailbox.deliverSecure(testLetter(T.REACHABLE_A), await lookupTarget(T.REACHABLE_A))).rejects.toMatchObject({ details: { faultCode: 5002 } });
        expect(opA.calls.at(-1)).toMatchObject({ reason: why });
      } finally {
        await bad.close();
      }
    }
  });

  it('answers a request that does not match the contract with a Client fault (our bug → paper + alert)', async () => {
    const target = await lookupTarget(T.REACHABLE_A);
    const p = await dp.mailbox.prepare(testLetter(T.REACHABLE_A));
    const err = await dp.mailbox.send(tamper(p, '<Language>svSE</Language>', ''), target).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OPERATOR_CLIENT_FAULT' });
    expect(classifyDeliveryFailure(err)).toEqual({ kind: 'paper', reason: 'OPERATOR_REJECTED', alert: true });
  });
});

describe('operator answers other than delivered', () => {
  it('Delivered=false → paper NOT_DELIVERED, and the lookup is invalidated (§11 #30)', async () => {
    const receipt = await dp.mailbox.deliverSecure(testLetter(T.OPERATOR_NOT_DELIVERED), await lookupTarget(T.OPERATOR_NOT_DELIVERED));
    expect(receipt.delivered).toBe(false);
    expect(classifyDeliveryResult(receipt.delivered)).toEqual({ kind: 'paper', reason: 'NOT_DELIVERED', invalidateLookup: true });
  });

  it('fault 5003 → one fresh lookup first; fault 5000 → retry (§11 #32–#33)', async () => {
    const e5003 = await dp.mailbox.deliverSecure(testLetter(T.OPERATOR_FAULT_5003), await lookupTarget(T.OPERATOR_FAULT_5003)).catch((e: unknown) => e);
    expect(classifyDeliveryFailure(e5003)).toMatchObject({ kind: 'paper', relookupFirst: true, invalidateLookup: true, faultCode: 5003 });
    const e5000 = await dp.mailbox.deliverSecure(testLetter(T.OPERATOR_FAULT_5000), await lookupTarget(T.OPERATOR_FAULT_5000)).catch((e: unknown) => e);
    expect(e5000).toMatchObject({ code: 'OPERATOR_FAULT', retryable: true });
    expect(classifyDeliveryFailure(e5000)).toMatchObject({ kind: 'retry', reason: 'OPERATOR_UNAVAILABLE', whenExhausted: 'paper' });
  });

  it('a status for another recipient is a protocol error, held and never treated as delivered (§11 #31)', async () => {
    const err = await dp.mailbox.deliverSecure(testLetter(T.OPERATOR_FOREIGN_STATUS), await lookupTarget(T.OPERATOR_FOREIGN_STATUS)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OPERATOR_PROTOCOL_ERROR' });
    expect(classifyDeliveryFailure(err)).toEqual({ kind: 'hold', reason: 'OUTCOME_UNKNOWN', alert: true });
  });

  it('a read timeout after sending is OUTCOME_UNKNOWN; the retry with the same bytes gets the first TransId (§11 #34)', async () => {
    const impatient = adapters({ readTimeoutMs: 300, signing: { seal: pki.cred('org-seal'), senders: { [OUR_ORG]: pki.cred('org-sign') }, pool: dp.signerPool } });
    try {
      const letter = testLetter(T.OPERATOR_SLOW);
      const target = await lookupTarget(T.OPERATOR_SLOW);
      const err = await impatient.mailbox.deliverSecure(letter, target).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'OUTCOME_UNKNOWN' });
      expect(classifyDeliveryFailure(err)).toEqual({ kind: 'retry', reason: 'OUTCOME_UNKNOWN', whenExhausted: 'hold' });
      // The operator did record it; the retry (patient client, same bytes) is recognised as a duplicate.
      const recorded = opA.deliveries.find((d) => d.deliveryId === letter.deliveryId)!;
      const retry = await dp.mailbox.send(await impatient.mailbox.prepare(letter), target);
      expect(retry.transId).toBe(recorded.transId);
      expect(opA.calls.filter((c) => c.deliveryId === letter.deliveryId).map((c) => c.result)).toEqual(['accepted', 'duplicate']);
    } finally {
      await impatient.close();
    }
  });

  it('a refused connection is OPERATOR_UNAVAILABLE: retry, then paper after the budget (§11 #33)', async () => {
    const err = await dp.mailbox.deliverSecure(testLetter(T.REACHABLE_A), targetFor('https://127.0.0.1:9/service/v3')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OPERATOR_UNAVAILABLE', retryable: true });
    expect(classifyDeliveryFailure(err)).toEqual({ kind: 'retry', reason: 'OPERATOR_UNAVAILABLE', whenExhausted: 'paper' });
  });
});
