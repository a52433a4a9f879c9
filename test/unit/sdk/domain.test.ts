// sdk.md §2 (identifiers), §4/§14.6/§14.7 (outbound rules), §5 (receipt vocabulary), §10 (status set and
// transitions) and §13 (threads): the pure domain of the SDK message service.
import {
  asMessageId,
  checkOutboundMessage,
  DETAIL_CODES,
  FUNCTION_ADDRESS_ROOT,
  isDeletable,
  isFinal,
  MESSAGE_STATUSES,
  parseFunctionAddress,
  parseMessageId,
  parseParticipantId,
  RECEIPT_CONDITIONS,
  REASON_CODES,
  replyTo,
  sameFunctionAddress,
  sameMessageId,
  sameParticipant,
  startConversation,
  STATUS_INFO,
  canTransition,
  attachmentsMetadata,
  verdictOf,
  reason,
  type SdkMessage,
  type MessageId,
  type ParticipantId,
} from '../../../src/domain/sdk/index.js';

describe('FunctionAddress (opaque, §14.14)', () => {
  it.each(['sdk:inkorg:0203:digg.se', 'sdk.testbed.0203:testa.testbed.inera.se', 'ABC', 'Funktion med mellanslag'])('accepts %s', (v) => {
    expect(parseFunctionAddress(v)).toEqual({ ok: true, value: v });
  });
  it.each([
    ['', 'empty'],
    ['x'.repeat(257), 'longer than 256'],
    [' sdk:inkorg', 'whitespace'],
    ['sdk:inkorg\n', 'control'],
    ['sdk:inkorg ', 'whitespace'],
    ['sdk:\u0007bell', 'control'],
  ])('rejects %j (%s)', (v, why) => {
    const r = parseFunctionAddress(v);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(new RegExp(why));
  });
  it('allows exactly 256 characters, counted as characters', () => {
    expect(parseFunctionAddress('å'.repeat(256)).ok).toBe(true);
  });
  it('compares exactly', () => {
    expect(sameFunctionAddress('sdk:Inkorg', 'sdk:inkorg')).toBe(false);
  });
});

describe('ParticipantId and MessageId', () => {
  it.each(['0203:digg.se', '0203:habo.se', '0007:2021006883', '0088:7300010000001'])('accepts %s', (v) => expect(parseParticipantId(v).ok).toBe(true));
  it.each(['digg.se', '0203:', '0203:-bad-.se', '0007:12345', '0088:123', '9999:x'])('rejects %s', (v) => expect(parseParticipantId(v).ok).toBe(false));
  it('compares participants case-insensitively and UUIDs case-insensitively', () => {
    expect(sameParticipant('0203:Digg.se', '0203:digg.se')).toBe(true);
    expect(sameMessageId('7BC5576A-3F87-4CF5-A0C5-277DA06FCACB', '7bc5576a-3f87-4cf5-a0c5-277da06fcacb')).toBe(true);
    expect(parseMessageId('7bc5576a3f874cf5a0c5277da06fcacb').ok).toBe(false);
  });
});

describe('threads (§13)', () => {
  it('a new conversation uses the messageId; a reply keeps the conversation and points at its parent', () => {
    const first = startConversation(asMessageId('7bc5576a-3f87-4cf5-a0c5-277da06fcacb'));
    expect(first.conversationId).toBe(first.messageId);
    const reply = replyTo(first, asMessageId('11111111-2222-4333-8444-555555555555'));
    expect(reply).toEqual({ messageId: '11111111-2222-4333-8444-555555555555', conversationId: first.messageId, refToMessageId: first.messageId });
  });
});

describe('receipt vocabulary (§5, §9)', () => {
  it('uses exactly the wire codes', () => {
    expect(REASON_CODES).toEqual(['SV', 'BV', 'SIG']);
    expect(DETAIL_CODES).toEqual(['structure', 'invariant', 'security', 'not-found', 'not-supported', 'too-long', 'forbidden', 'duplicate', 'multiple-matches']);
  });
  it('maps every §5 row this MT detects to its code and detail', () => {
    const table = Object.fromEntries(Object.entries(RECEIPT_CONDITIONS).map(([k, v]) => [k, `${v.row} ${v.code}/${v.detail}`]));
    expect(table).toMatchObject({
      schema: '2 SV/structure',
      malware: '3 BV/forbidden',
      tooLong: '4 BV/too-long',
      schematron: '5 BV/invariant',
      duplicate: '6 BV/duplicate',
      mimeNotSupported: '8 BV/not-supported',
      functionAddressNotFound: '9 BV/not-found',
      refToRejected: '11 BV/not-supported',
      signature: '12 SIG/security',
      senderInconsistent: '13 BV/security',
      notEncrypted: '14 SIG/security',
      recipientMismatch: '-recipient BV/security',
      functionAddressMismatch: '-function-address BV/security',
      idRoot: '-id-root BV/invariant',
    });
  });
  it('a verdict without reasons is ACCEPTED, with reasons REJECTED', () => {
    expect(verdictOf([])).toEqual({ status: 'ACCEPTED' });
    expect(verdictOf([reason('duplicate', 'NA', 'x')])).toEqual({ status: 'REJECTED', reasons: [{ code: 'BV', detail: 'duplicate', path: 'NA', text: 'x' }] });
  });
});

describe('message status (§10)', () => {
  it('has the twelve statuses of the code list, with the mandatory and final flags of the table', () => {
    expect(MESSAGE_STATUSES).toHaveLength(12);
    expect(MESSAGE_STATUSES.filter((s) => STATUS_INFO[s].mandatory)).toEqual(['WAITING_FOR_RECEIPT', 'ACCEPTED', 'REJECTED', 'MESSAGE_EXCHANGE_ERROR', 'NEW', 'ERROR']);
    expect(MESSAGE_STATUSES.filter(isFinal)).toEqual(['ACCEPTED', 'MESSAGE_EXCHANGE_ERROR', 'NEW']);
  });
  it('allows DELETE only in NEW, ACCEPTED and MESSAGE_EXCHANGE_ERROR', () => {
    expect(MESSAGE_STATUSES.filter(isDeletable)).toEqual(['ACCEPTED', 'MESSAGE_EXCHANGE_ERROR', 'NEW']);
  });
  it('walks the outbound and inbound paths in order', () => {
    const out: string[] = ['SCHEDULED', 'SUBMITTED', 'SCHEDULED_FOR_RESEND', 'SCHEDULED_FOR_RESEND', 'SUBMITTED', 'ACKNOWLEDGE', 'WAITING_FOR_RECEIPT', 'REJECTED', 'MESSAGE_EXCHANGE_ERROR'];
    for (let i = 0; i + 1 < out.length; i++) expect(canTransition(out[i] as never, out[i + 1] as never)).toBe(true);
    expect(canTransition('RETRIEVED', 'RECEIPT_SENT')).toBe(true);
    expect(canTransition('RECEIPT_SENT', 'NEW')).toBe(true);
    expect(canTransition('WAITING_FOR_RECEIPT', 'MESSAGE_EXCHANGE_ERROR')).toBe(true);
  });
  it('never leaves a final status (a late receipt does not change ACCEPTED, §16.32)', () => {
    expect(canTransition('ACCEPTED', 'REJECTED')).toBe(false);
    expect(canTransition('MESSAGE_EXCHANGE_ERROR', 'ACCEPTED')).toBe(false);
    expect(canTransition('NEW', 'ERROR')).toBe(false);
    expect(canTransition('REJECTED', 'ACCEPTED')).toBe(false);
  });
});

describe('outbound message rules (§14.6, §14.7, §16.2, §16.7)', () => {
  const id = asMessageId('7bc5576a-3f87-4cf5-a0c5-277da06fcacb');
  const valid: SdkMessage = {
    creationDateTime: '2026-11-20T10:00:00.000Z',
    messageId: id,
    conversationId: id,
    label: 'Ämne',
    confidentiality: false,
    recipient: { id: '0203:digg.se' as ParticipantId, attention: { persons: [], references: [], subOrganization: { organizationId: { root: FUNCTION_ADDRESS_ROOT, extension: 'sdk:inkorg:0203:digg.se' } } } },
    sender: { id: '0203:habo.se' as ParticipantId, attention: { persons: [], references: [], subOrganization: { organizationId: { root: FUNCTION_ADDRESS_ROOT, extension: 'sdk:utkorg:0203:habo.se' } } } },
    documents: [{ documentId: 'd', files: [{ fileName: 'a.pdf', contentType: 'application/pdf', content: 'QUJD' }], texts: [] }],
  };
  it('accepts a complete message', () => {
    expect(checkOutboundMessage(valid)).toEqual([]);
  });
  it('requires label and sender attention, a text or a file per document, UUIDs and a toISOString timestamp', () => {
    const { label: _l, ...noLabel } = valid;
    const { attention: _a, ...senderNoAttention } = valid.sender;
    const bad: SdkMessage = { ...noLabel, creationDateTime: '2026-11-20T10:00:00Z', conversationId: 'x' as MessageId, sender: senderNoAttention, documents: [{ documentId: 'd', files: [], texts: [] }] };
    expect(checkOutboundMessage(bad).map((e) => e.field).sort()).toEqual(['/conversationId', '/creationDateTime', '/digitalDocument/0', '/label', '/senderAttention']);
  });
  it('computes attachment metadata without decoding', () => {
    expect(attachmentsMetadata(valid)).toEqual([{ documentId: 'd', fileName: 'a.pdf', contentType: 'application/pdf', sizeBytes: 3 }]);
  });
});
