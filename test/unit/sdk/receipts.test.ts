// sdk.md §9, §13 and §16.19/§16.20/§16.33: building our signed receipts (ACCEPTED / REJECTED) and verifying
// and reading received ones.
import { buildReceiptEnvelope, processInboundReceipt } from '../../../adapters/sdk/receipt/receipt.envelope.js';
import { buildReceiptXml, issueDateTime, readReceipt } from '../../../adapters/sdk/receipt/receipt.mapper.js';
import { safeParse, validateReceiptDocument } from '../../../adapters/sdk/validation/document.validators.js';
import { processInboundMessage } from '../../../adapters/sdk/validation/inbound.pipeline.js';
import { signEnvelope } from '../../../adapters/sdk/xhe/xml-dsig.js';
import { RECEIPT_DOCUMENT_ID } from '../../../src/domain/sdk/constants.js';
import type { MessageId } from '../../../src/domain/sdk/identifiers.js';
import { reason } from '../../../src/domain/sdk/receipt.js';
import { directory, fixture, loadPki, OURS, PEER1, receiverContext, sealRaw, type Pki } from './sdk-test-kit.js';

let k: Pki;
beforeAll(async () => {
  k = await loadPki();
});

const MESSAGE_ID = '5b0b9f4e-2f0a-4c55-9d6c-3f1d2a7e8b01' as MessageId;

/** Peer1 (the original sender) verifies receipts we (the original recipient) issue. */
const senderSide = (): Parameters<typeof processInboundReceipt>[1] => ({
  certificates: directory({ [OURS.participant]: { signing: [{ pem: k.cert('org-sign'), organizationNumber: OURS.orgnr }] } }),
  trust: { anchors: [k.caBundle], crls: [k.orgCrl] },
  ownParticipants: [PEER1.participant],
});

describe('receipt document', () => {
  it('writes IssueDate as YYYY-MM-DD and IssueTime with zone, in UTC', () => {
    expect(issueDateTime(new Date('2026-01-02T03:04:05.678+01:00'))).toEqual({ date: '2026-01-02', time: '02:04:05Z' });
  });

  it('an ACCEPTED receipt has no LineResponse and validates against our receipt XSD and R1–R9', () => {
    const xml = buildReceiptXml({ receiptId: 'r-1', issuedAt: new Date(), issuer: OURS.participant, receiver: PEER1.participant, documentReference: MESSAGE_ID, verdict: { status: 'ACCEPTED' } });
    expect(xml).not.toContain('LineResponse');
    const bytes = Buffer.from(xml);
    const p = safeParse(bytes);
    if (!p.ok) throw new Error('not parsed');
    expect(validateReceiptDocument(bytes, p.parsed.doc)).toEqual([]);
  });

  it('a REJECTED receipt carries one line per reason (LineID XPath, code, detail, text) and reads back', () => {
    const reasons = [reason('schema', 'NA', 'Schema violation.'), reason('duplicate', '/tns:messagePayload/tns:message/tns:messageHeader/tns:messageId', 'Duplicate.')] as const;
    const xml = buildReceiptXml({ receiptId: 'r-2', issuedAt: new Date(), issuer: OURS.participant, receiver: PEER1.participant, documentReference: MESSAGE_ID, verdict: { status: 'REJECTED', reasons: [...reasons] as [typeof reasons[0], typeof reasons[1]] } });
    const p = safeParse(Buffer.from(xml));
    if (!p.ok) throw new Error('not parsed');
    expect(validateReceiptDocument(Buffer.from(xml), p.parsed.doc)).toEqual([]);
    expect(readReceipt(p.parsed.doc)).toMatchObject({
      status: 'REJECTED',
      documentReference: MESSAGE_ID,
      issuer: OURS.participant,
      receiver: PEER1.participant,
      lines: [
        { code: 'SV', detail: 'structure', path: 'NA', text: 'Schema violation.' },
        { code: 'BV', detail: 'duplicate', path: '/tns:messagePayload/tns:message/tns:messageHeader/tns:messageId', text: 'Duplicate.' },
      ],
    });
  });

  it('never lets a personnummer through a StatusReason (§16.20)', () => {
    const xml = buildReceiptXml({
      receiptId: 'r-3', issuedAt: new Date(), issuer: OURS.participant, receiver: PEER1.participant, documentReference: MESSAGE_ID,
      verdict: { status: 'REJECTED', reasons: [reason('schematron', 'NA', 'value 19640101-1234 is wrong')] },
    });
    expect(xml).not.toContain('19640101-1234');
  });
});

describe('receipt envelope (signed, not encrypted, §16.19)', () => {
  it('turns an inbound verdict into a signed receipt XHE that the original sender verifies and reads', async () => {
    const inbound = await processInboundMessage(sealRaw(k, fixture('payloads/bv-duplicate.xml')), receiverContext(k));
    expect(inbound.sendReceipt).toBe(true);
    if (inbound.envelope === undefined) throw new Error('no envelope');
    const built = buildReceiptEnvelope({
      issuer: OURS.participant,
      receiver: inbound.envelope.from as typeof PEER1.participant,
      acknowledgedXheId: inbound.envelope.id as MessageId,
      verdict: inbound.verdict,
      handlingServiceId: inbound.envelope.handlingServiceId ?? OURS.inbox,
      signingKey: k.key('org-sign'),
    });
    const text = built.envelope.toString('utf8');
    expect(text).toContain(RECEIPT_DOCUMENT_ID);
    expect(text).toContain('<xhb:InstanceEncryptionIndicator>false</xhb:InstanceEncryptionIndicator>');
    expect(text).not.toContain('Kallelse');
    const r = await processInboundReceipt(built.envelope, senderSide());
    expect(r).toMatchObject({ ok: true, receipt: { status: 'REJECTED', documentReference: 'd0d0d0d0-0000-4000-8000-00000000dddd', lines: [{ code: 'BV', detail: 'duplicate' }] } });
  });

  it('an ACCEPTED receipt envelope round-trips', async () => {
    const built = buildReceiptEnvelope({ issuer: OURS.participant, receiver: PEER1.participant, acknowledgedXheId: MESSAGE_ID, verdict: { status: 'ACCEPTED' }, signingKey: k.key('org-sign') });
    const r = await processInboundReceipt(built.envelope, senderSide());
    expect(r).toMatchObject({ ok: true, receipt: { status: 'ACCEPTED', lines: [], documentReference: MESSAGE_ID }, envelope: { from: OURS.participant, signed: true } });
  });

  it('a received receipt with one changed byte is refused (log and ignore, never answered)', async () => {
    const built = buildReceiptEnvelope({ issuer: OURS.participant, receiver: PEER1.participant, acknowledgedXheId: MESSAGE_ID, verdict: { status: 'ACCEPTED' }, signingKey: k.key('org-sign') });
    const tampered = Buffer.from(built.envelope.toString('utf8').replace('>ACCEPTED<', '>REJECTED<'));
    const r = await processInboundReceipt(tampered, senderSide());
    expect(r).toMatchObject({ ok: false, problems: [{ code: 'SIG' }] });
  });

  it('a receipt signed by another organisation than its issuer is refused', async () => {
    const built = buildReceiptEnvelope({ issuer: OURS.participant, receiver: PEER1.participant, acknowledgedXheId: MESSAGE_ID, verdict: { status: 'ACCEPTED' }, signingKey: k.key('peer2-sign') });
    expect(await processInboundReceipt(built.envelope, senderSide())).toMatchObject({ ok: false, problems: [{ code: 'SIG' }] });
  });

  it('a receipt whose SenderParty differs from the envelope FromParty is refused', async () => {
    const built = buildReceiptEnvelope({ issuer: OURS.participant, receiver: PEER1.participant, acknowledgedXheId: MESSAGE_ID, verdict: { status: 'ACCEPTED' }, signingKey: k.key('org-sign') });
    const swapped = built.envelope
      .toString('utf8')
      .replace(/(<cac:SenderParty><cbc:EndpointID schemeID="iso6523-actorid-upis">)[^<]*/, '$10203:someone.else.example')
      .replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '');
    const resigned = Buffer.from(signEnvelope(swapped, k.key('org-sign')));
    expect(await processInboundReceipt(resigned, senderSide())).toMatchObject({ ok: false, problems: [{ code: 'BV', detail: 'security' }] });
  });

  it('a receipt that fails the receipt rules (R5-APP) is refused', async () => {
    const built = buildReceiptEnvelope({ issuer: OURS.participant, receiver: PEER1.participant, acknowledgedXheId: MESSAGE_ID, verdict: { status: 'ACCEPTED' }, signingKey: k.key('org-sign') });
    const changed = built.envelope.toString('utf8').replace('>ACCEPTED<', '>OK<').replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '');
    const resigned = Buffer.from(signEnvelope(changed, k.key('org-sign')));
    const r = await processInboundReceipt(resigned, senderSide());
    expect(r).toMatchObject({ ok: false, problems: [{ code: 'BV', detail: 'invariant', text: expect.stringMatching(/^R5-APP/) }] });
  });

  it('an SDK message is not accepted as a receipt', async () => {
    const r = await processInboundReceipt(sealRaw(k, fixture('payloads/accepted.xml')), senderSide());
    expect(r).toMatchObject({ ok: false, problems: [{ detail: 'not-supported' }] });
  });
});
