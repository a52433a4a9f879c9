// sdk.md §5 table and §16.17/§16.18/§16.21: each receipt code the receiving MT can produce, each triggered by
// one crafted fixture (test/fixtures/sdk/payloads) sealed as peer1 → us with the dev PKI.
import { processInboundMessage, type InboundMessageResult } from '../../../adapters/sdk/validation/inbound.pipeline.js';
import { SDK_LIMITS } from '../../../src/domain/sdk/constants.js';
import { fixture, loadPki, OURS, PEER1, receiverContext, sealRaw, type Pki } from './sdk-test-kit.js';

let k: Pki;
beforeAll(async () => {
  k = await loadPki();
});

async function judge(name: string, overrides: Parameters<typeof receiverContext>[1] = {}): Promise<InboundMessageResult> {
  return processInboundMessage(sealRaw(k, fixture(`payloads/${name}`)), receiverContext(k, overrides));
}

function onlyReason(r: InboundMessageResult): { code: string; detail: string; path: string; text: string } {
  expect(r.verdict.status).toBe('REJECTED');
  if (r.verdict.status !== 'REJECTED') throw new Error('not rejected');
  expect(r.verdict.reasons).toHaveLength(1);
  return r.verdict.reasons[0];
}

describe('§5 receipt codes, one fixture each', () => {
  it('row 1: a valid, signed, encrypted message to a known function address is ACCEPTED with a receipt', async () => {
    const r = await judge('accepted.xml');
    expect(r.verdict).toEqual({ status: 'ACCEPTED' });
    expect(r.sendReceipt).toBe(true);
    expect(r.message?.messageId).toBe('5b0b9f4e-2f0a-4c55-9d6c-3f1d2a7e8b01');
    expect(r.message?.confidentiality).toBe(true);
    expect(r.envelope).toMatchObject({ from: PEER1.participant, to: OURS.participant, handlingServiceId: OURS.inbox, signed: true });
    // the decrypted payload is the exact element that was encrypted
    expect(r.payloadBytes?.toString('utf8')).toContain('<tns:messagePayload xmlns:tns=');
  });

  it('row 2: a payload violating the XSD (sender before recipient) → REJECTED SV/structure with the XPath', async () => {
    const reason = onlyReason(await judge('sv-structure.xml'));
    expect(reason).toMatchObject({ code: 'SV', detail: 'structure', path: '/tns:messagePayload/tns:message/tns:messageHeader/tns:sender' });
  });

  it('row 3: malware in an attachment → REJECTED BV/forbidden', async () => {
    const reason = onlyReason(await judge('bv-forbidden-malware.xml'));
    expect(reason).toMatchObject({ code: 'BV', detail: 'forbidden' });
    expect(reason.path).toBe('/tns:messagePayload/tns:message/tns:messageBody/tns:documents/tns:ContentFiles/tns:content');
  });

  it('row 4: a decrypted payload above the federation limit → REJECTED BV/too-long', async () => {
    // The limit itself is exercised with 32 MB in size-guard.test.ts; here the pipeline's own check is shown
    // with a lowered limit so the test stays fast.
    const r = await judge('accepted.xml', { limits: { maxPayloadBytes: 1000 } });
    expect(onlyReason(r)).toMatchObject({ code: 'BV', detail: 'too-long', path: '/x:XHE/xha:Payloads/xha:Payload/xha:PayloadContent' });
    expect(r.sendReceipt).toBe(true);
  });

  it('row 5: a schematron violation (creationDateTime without fraction) → REJECTED BV/invariant naming the rule', async () => {
    const reason = onlyReason(await judge('bv-invariant-schematron.xml'));
    expect(reason).toMatchObject({ code: 'BV', detail: 'invariant', path: '/tns:messagePayload/tns:message/tns:messageHeader/tns:creationDateTime' });
    expect(reason.text).toMatch(/^creationDateTime: /);
  });

  it('row 6: a messageId already received → REJECTED BV/duplicate', async () => {
    expect(onlyReason(await judge('bv-duplicate.xml'))).toMatchObject({ code: 'BV', detail: 'duplicate', path: '/tns:messagePayload/tns:message/tns:messageHeader/tns:messageId' });
  });

  it('row 7: an unknown refToMessageId is ACCEPTED', async () => {
    const r = await judge('accepted-unknown-ref.xml');
    expect(r.verdict).toEqual({ status: 'ACCEPTED' });
    expect(r.message?.refToMessageId).toBe('0f0f0f0f-0000-4000-8000-000000000007');
  });

  it('row 8: an attachment MIME type we do not support → REJECTED BV/not-supported', async () => {
    const reason = onlyReason(await judge('bv-not-supported-mime.xml'));
    expect(reason).toMatchObject({ code: 'BV', detail: 'not-supported', path: '/tns:messagePayload/tns:message/tns:messageBody/tns:documents/tns:ContentFiles/tns:contentType' });
  });

  it('row 9: an unknown recipient function address → REJECTED BV/not-found', async () => {
    const reason = onlyReason(await judge('bv-not-found-function-address.xml'));
    expect(reason).toMatchObject({ code: 'BV', detail: 'not-found' });
    expect(reason.path).toMatch(/tns:subOrganization\/tns:organizationId\/tns:extension$/);
  });

  it('row 9: an envelope without HandlingServiceID → REJECTED BV/not-found', async () => {
    const payload = fixture('payloads/accepted.xml');
    const env = sealRaw(k, payload, { header: { handlingServiceId: undefined } });
    const r = await processInboundMessage(env, receiverContext(k));
    expect(onlyReason(r)).toMatchObject({ code: 'BV', detail: 'not-found', path: '/x:XHE/xha:Payloads/xha:Payload' });
  });

  it('row 11: refToMessageId pointing at a message we rejected → REJECTED BV/not-supported', async () => {
    expect(onlyReason(await judge('bv-not-supported-ref.xml'))).toMatchObject({ code: 'BV', detail: 'not-supported', path: '/tns:messagePayload/tns:message/tns:messageHeader/tns:refToMessageId' });
  });

  it('row 12: an envelope signed by someone else than the sender → REJECTED SIG/security, the decryption key is never touched', async () => {
    const env = sealRaw(k, fixture('payloads/accepted.xml'), { signer: 'peer2-sign' });
    const real = k.decryptionKey('org-enc');
    let keyReads = 0;
    const watched = {
      certificatePem: real.certificatePem,
      get privateKeyPem(): string {
        keyReads++;
        return real.privateKeyPem;
      },
    };
    const r = await processInboundMessage(env, receiverContext(k, { decryptionKeys: [watched] }));
    expect(keyReads).toBe(0);
    expect(onlyReason(r)).toMatchObject({ code: 'SIG', detail: 'security', path: '/x:XHE/ds:Signature' });
    expect(r.sendReceipt).toBe(true);
    expect(r.payloadBytes).toBeUndefined();
  });

  it('row 13: senderID differing from the envelope FromParty → REJECTED BV/security', async () => {
    const reason = onlyReason(await judge('bv-security-sender.xml'));
    expect(reason).toMatchObject({ code: 'BV', detail: 'security', path: '/tns:messagePayload/tns:message/tns:messageHeader/tns:sender/tns:senderID/tns:extension' });
  });

  it('row 13: AS4 originalSender differing from the envelope → REJECTED BV/security', async () => {
    const r = await judge('accepted.xml', { transport: { originalSender: '0203:someone.else.example', finalRecipient: OURS.participant } });
    expect(onlyReason(r)).toMatchObject({ code: 'BV', detail: 'security' });
  });

  it('row 14: a signed but unencrypted payload → REJECTED SIG/security', async () => {
    const env = sealRaw(k, fixture('payloads/accepted.xml'), { clear: true });
    const r = await processInboundMessage(env, receiverContext(k));
    expect(onlyReason(r)).toMatchObject({ code: 'SIG', detail: 'security', path: '/x:XHE/xha:Payloads/xha:Payload/xha:PayloadContent' });
  });

  it('row –: recipientID differing from the envelope ToParty → REJECTED BV/security', async () => {
    expect(onlyReason(await judge('bv-security-recipient.xml'))).toMatchObject({ code: 'BV', detail: 'security', path: '/tns:messagePayload/tns:message/tns:messageHeader/tns:recipient/tns:recipientID/tns:extension' });
  });

  it('row –: recipient function address differing from HandlingServiceID → REJECTED BV/security', async () => {
    const env = sealRaw(k, fixture('payloads/accepted.xml'), { header: { handlingServiceId: 'sdk:annan:0203:sandebud.dev.example' } });
    const r = await processInboundMessage(env, receiverContext(k));
    expect(onlyReason(r)).toMatchObject({ code: 'BV', detail: 'security' });
  });

  it('row –: senderID/root other than iso6523-actorid-upis → REJECTED BV/invariant (rule senderIdvalue)', async () => {
    const reason = onlyReason(await judge('bv-invariant-id-root.xml'));
    expect(reason).toMatchObject({ code: 'BV', detail: 'invariant', path: '/tns:messagePayload/tns:message/tns:messageHeader/tns:sender/tns:senderID/tns:root' });
    expect(reason.text).toMatch(/^senderIdvalue: /);
  });

  it('an envelope violating the XHE profile (XHE XSD) → REJECTED SV/structure, nothing decrypted', async () => {
    const payload = fixture('payloads/accepted.xml');
    const env = sealRaw(k, payload, { header: { creationDateTime: 'not a date' } });
    const r = await processInboundMessage(env, receiverContext(k));
    expect(onlyReason(r)).toMatchObject({ code: 'SV', detail: 'structure', path: '/x:XHE/xha:Header/xhb:CreationDateTime' });
    expect(r.payloadBytes).toBeUndefined();
  });

  it('an envelope violating an XHE profile rule (R8-XHE, federation id) → REJECTED BV/invariant', async () => {
    const payload = fixture('payloads/accepted.xml');
    const env = Buffer.from(
      sealRaw(k, payload)
        .toString('utf8')
        .replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, ''),
    );
    // Removing the signature must fail as SIG first; the profile rule is shown on a re-signed variant:
    expect(onlyReason(await processInboundMessage(env, receiverContext(k)))).toMatchObject({ code: 'SIG', detail: 'security' });
    const { signEnvelope } = await import('../../../adapters/sdk/xhe/xml-dsig.js');
    const unsigned = env.toString('utf8').replace('>FEDERATIONID<', '>FEDERATION<');
    const resigned = Buffer.from(signEnvelope(unsigned, k.key('peer1-sign')), 'utf8');
    const reason = onlyReason(await processInboundMessage(resigned, receiverContext(k)));
    expect(reason).toMatchObject({ code: 'BV', detail: 'invariant', path: '/x:XHE' });
    expect(reason.text).toMatch(/^R8-XHE: /);
  });

  it('uses 30 000 000 bytes as the outbound and 30 MiB as the inbound payload limit (sdk.md §11)', () => {
    expect(SDK_LIMITS.maxInboundPayloadBytes).toBe(31_457_280);
    expect(SDK_LIMITS.maxOutboundPayloadBytes).toBe(30_000_000);
  });
});

describe('§5 "no receipt" cases', () => {
  it('a payload that is not well-formed after decryption is rejected without a receipt', async () => {
    const r = await judge('not-well-formed.xml');
    expect(r.verdict.status).toBe('REJECTED');
    expect(r.sendReceipt).toBe(false);
    expect(r.noReceiptReason).toBe('not-xml');
  });

  it('a payload with a DOCTYPE/entity is refused before parsing, without a receipt', async () => {
    const r = await judge('doctype-entity.xml');
    expect(r.sendReceipt).toBe(false);
    expect(r.noReceiptReason).toBe('not-xml');
    if (r.verdict.status !== 'REJECTED') throw new Error('expected REJECTED');
    expect(r.verdict.reasons[0]?.text).toMatch(/document type declarations/);
  });

  it('an envelope with a DOCTYPE is refused before parsing, without a receipt', async () => {
    const env = sealRaw(k, fixture('payloads/accepted.xml'));
    const evil = Buffer.concat([Buffer.from('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]>'), env]);
    const r = await processInboundMessage(evil, receiverContext(k));
    expect(r).toMatchObject({ sendReceipt: false, noReceiptReason: 'not-xml' });
  });

  it('a sender without a registered signing certificate gets no receipt', async () => {
    const env = sealRaw(k, fixture('payloads/accepted.xml'), { header: { from: '0203:unregistered.example' } });
    const r = await processInboundMessage(env, receiverContext(k));
    expect(r).toMatchObject({ sendReceipt: false, noReceiptReason: 'sender-not-registered' });
  });

  it('a payload encrypted for somebody else cannot be decrypted: no receipt, nothing revealed', async () => {
    const env = sealRaw(k, fixture('payloads/accepted.xml'), { encryptTo: 'peer2-enc' });
    const r = await processInboundMessage(env, receiverContext(k));
    expect(r).toMatchObject({ sendReceipt: false, noReceiptReason: 'undecryptable' });
    expect(r.payloadBytes).toBeUndefined();
  });

  it('an envelope for another participant is not for us: no receipt', async () => {
    const env = sealRaw(k, fixture('payloads/accepted.xml'), { header: { to: '0203:annan.example' } });
    expect(await processInboundMessage(env, receiverContext(k))).toMatchObject({ sendReceipt: false, noReceiptReason: 'not-for-us' });
  });

  it('an envelope above the envelope limit is refused unread', async () => {
    const env = sealRaw(k, fixture('payloads/accepted.xml'));
    const r = await processInboundMessage(env, receiverContext(k, { limits: { maxEnvelopeBytes: 100 } }));
    expect(r).toMatchObject({ sendReceipt: false, noReceiptReason: 'too-large-to-read' });
    if (r.verdict.status !== 'REJECTED') throw new Error('expected REJECTED');
    expect(r.verdict.reasons[0]).toMatchObject({ code: 'BV', detail: 'too-long' });
  });
});
