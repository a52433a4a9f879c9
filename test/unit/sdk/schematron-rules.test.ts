// sdk.md §4, §6, §9 and §15: the three schematrons ported to one function per rule id. Each rule is shown
// passing on a valid document and firing — alone — on a document that breaks exactly that rule.
import type { Document as XDocument } from '@xmldom/xmldom';
import { MESSAGE_RULES, runMessageRules } from '../../../adapters/sdk/validation/message.rules.js';
import { RECEIPT_RULES, runReceiptRules } from '../../../adapters/sdk/validation/receipt.rules.js';
import { runXheRules, XHE_RULES } from '../../../adapters/sdk/validation/xhe.rules.js';
import { buildReceiptXml } from '../../../adapters/sdk/receipt/receipt.mapper.js';
import { buildXhe } from '../../../adapters/sdk/xhe/xhe.mapper.js';
import { encryptPayload } from '../../../adapters/sdk/xhe/xml-enc.js';
import { parseXmlText } from '../../../adapters/sdk/xml/safe-xml.js';
import { MESSAGE_DOCUMENT_ID, MESSAGE_DOCUMENT_TYPE_CODE } from '../../../src/domain/sdk/constants.js';
import type { MessageId, ParticipantId } from '../../../src/domain/sdk/identifiers.js';
import { fixture, loadPki, OURS, PEER1, type Pki } from './sdk-test-kit.js';

const parse = (s: string): XDocument => parseXmlText(s);
const ruleIds = (vs: { ruleId: string }[]): string[] => vs.map((v) => v.ruleId);

describe('MessageConstraints.xml port (one function per pattern id)', () => {
  const valid = fixture('payloads/accepted.xml').toString('utf8');
  const mutate = (from: string | RegExp, to: string): XDocument => {
    const out = valid.replace(from, to);
    expect(out).not.toBe(valid);
    return parse(out);
  };

  it('has exactly the pattern ids of the published schematron', () => {
    expect(Object.keys(MESSAGE_RULES)).toEqual([
      'verifyNonEmptyElements', 'conversationIdMustExist', 'recipientIdvalue', 'senderIdvalue', 'creationDateTime',
      'MessageId', 'conversationId', 'refToMessageId', 'subjectlabel', 'contentFiles', 'subOrgRoot',
    ]);
  });

  it('passes the valid fixture', () => {
    expect(runMessageRules(parse(valid))).toEqual([]);
  });

  const cases: [string, string | RegExp, string, string][] = [
    ['verifyNonEmptyElements', '<tns:documentName>Kallelse</tns:documentName>', '<tns:documentName>  </tns:documentName>', '/tns:messagePayload/tns:message/tns:messageBody/tns:documents/tns:documentName'],
    ['conversationIdMustExist', /<tns:conversationId>[^<]*<\/tns:conversationId>/, '', '/tns:messagePayload/tns:message/tns:messageHeader'],
    ['recipientIdvalue', /(<tns:recipientID>\s*<tns:root>)iso6523-actorid-upis/, '$1ISO6523-ACTORID-UPIS', '/tns:messagePayload/tns:message/tns:messageHeader/tns:recipient/tns:recipientID/tns:root'],
    ['senderIdvalue', /(<tns:senderID>\s*<tns:root>)iso6523-actorid-upis/, '$1 iso6523-actorid-upis', '/tns:messagePayload/tns:message/tns:messageHeader/tns:sender/tns:senderID/tns:root'],
    ['creationDateTime', '2026-11-20T10:00:00.000Z', '2026-11-20T11:00:00.000+01:00', '/tns:messagePayload/tns:message/tns:messageHeader/tns:creationDateTime'],
    ['MessageId', /<tns:messageId>[^<]*</, '<tns:messageId>not-a-uuid<', '/tns:messagePayload/tns:message/tns:messageHeader/tns:messageId'],
    ['conversationId', /<tns:conversationId>[^<]*</, '<tns:conversationId>{5b0b9f4e-2f0a-4c55-9d6c-3f1d2a7e8b01}<', '/tns:messagePayload/tns:message/tns:messageHeader/tns:conversationId'],
    ['refToMessageId', '<tns:label>', '<tns:refToMessageId>5b0b9f4e2f0a4c559d6c3f1d2a7e8b01</tns:refToMessageId><tns:label>', '/tns:messagePayload/tns:message/tns:messageHeader/tns:refToMessageId'],
    ['subjectlabel', /<tns:label>Kallelse till samverkansmöte<\/tns:label>/, `<tns:label>${'x'.repeat(257)}</tns:label>`, '/tns:messagePayload/tns:message/tns:messageHeader/tns:label'],
    ['contentFiles', '<tns:content>', '<tns:content>\n  ', '/tns:messagePayload/tns:message/tns:messageBody/tns:documents/tns:ContentFiles/tns:content'],
    ['subOrgRoot', /(<tns:organizationId>\s*<tns:root>)urn:riv:infrastructure:messaging:functionalAddress/, '$1urn:riv:infrastructure:messaging:functionalAdress', '/tns:messagePayload/tns:message/tns:messageHeader/tns:recipient/tns:attention/tns:subOrganization/tns:organizationId/tns:root'],
  ];
  it.each(cases)('%s fires alone, at the offending node', (rule, from, to, path) => {
    const vs = runMessageRules(mutate(from, to));
    expect(vs).toEqual([expect.objectContaining({ ruleId: rule, path })]);
  });

  it('counts characters, not UTF-16 units or bytes, for the 256-character subject limit', () => {
    expect(runMessageRules(mutate(/<tns:label>Kallelse till samverkansmöte<\/tns:label>/, `<tns:label>${'å'.repeat(256)}</tns:label>`))).toEqual([]);
    expect(ruleIds(runMessageRules(mutate(/<tns:label>Kallelse till samverkansmöte<\/tns:label>/, `<tns:label>${'😀'.repeat(257)}</tns:label>`)))).toEqual(['subjectlabel']);
  });

  it('never echoes document values in its texts (receipts travel unencrypted)', () => {
    const vs = runMessageRules(mutate(/<tns:messageId>[^<]*</, '<tns:messageId>196401011234<'));
    expect(vs[0]?.text).not.toContain('196401011234');
  });

  it('ports the published timestamp pattern faithfully (its unescaped "." matches any character)', () => {
    expect(runMessageRules(mutate('2026-11-20T10:00:00.000Z', '2026-11-20T10:00:00,000Z'))).toEqual([]);
  });
});

describe('DIGG-XHE-Business-Rules port (R1-XHE … R14-XHE)', () => {
  let k: Pki;
  let clear: string;
  let encrypted: string;
  beforeAll(async () => {
    k = await loadPki();
    const header = {
      id: '5b0b9f4e-2f0a-4c55-9d6c-3f1d2a7e8b01',
      creationDateTime: '2026-11-20T10:00:01.000Z',
      documentId: MESSAGE_DOCUMENT_ID,
      from: PEER1.participant,
      to: OURS.participant,
      documentTypeCode: MESSAGE_DOCUMENT_TYPE_CODE,
      handlingServiceId: OURS.inbox,
    };
    clear = buildXhe(header, { kind: 'xml', xml: '<tns:messagePayload xmlns:tns="urn:riv:infrastructure:messaging:MessageWithAttachments:3"><tns:x>1</tns:x></tns:messagePayload>' });
    encrypted = buildXhe(header, { kind: 'encrypted', encrypted: encryptPayload(Buffer.from('<a/>'), k.cert('org-enc')) });
  });

  it('has the fourteen assert ids of the published schematron', () => {
    expect(Object.keys(XHE_RULES)).toEqual(Array.from({ length: 14 }, (_v, i) => `R${i + 1}-XHE`));
  });

  it('passes our clear and encrypted envelopes', () => {
    expect(runXheRules(parse(clear))).toEqual([]);
    expect(runXheRules(parse(encrypted))).toEqual([]);
  });

  const cases: [string, 'clear' | 'encrypted', string | RegExp, string][] = [
    ['R1-XHE', 'clear', '</xhb:CustomizationID>', '</xhb:CustomizationID><xhb:ProfileID>p</xhb:ProfileID>'],
    ['R2-XHE', 'clear', /<xhb:HandlingServiceID>[^<]*<\/xhb:HandlingServiceID>/, '<xhb:HandlingServiceID> </xhb:HandlingServiceID>'],
    ['R3-XHE', 'clear', 'urn:fdc:digg.se:edelivery:xhe:1', 'urn:fdc:digg.se:edelivery:xhe:2'],
    ['R4-XHE', 'clear', '>DOCUMENTID<', '>DOCUMENT_ID<'],
    ['R5-XHE', 'clear', '>DOCUMENTID_SCHEME<', '>DOCUMENTIDSCHEME<'],
    ['R6-XHE', 'clear', '>PROCESSID<', '>PROCESS<'],
    ['R7-XHE', 'clear', '>PROCESSID_SCHEME<', '>PROCESS_SCHEME<'],
    ['R8-XHE', 'clear', '>FEDERATIONID<', '>FEDERATION<'],
    ['R9-XHE', 'clear', '<xhb:XHEVersionID>1.0<', '<xhb:XHEVersionID>1.1<'],
    ['R10-XHE', 'clear', /(<xha:FromParty><xha:PartyIdentification><xhb:ID) schemeID="iso6523-actorid-upis"/, '$1 schemeID="iso6523"'],
    ['R11-XHE', 'clear', /(<xha:ToParty><xha:PartyIdentification><xhb:ID) schemeID="iso6523-actorid-upis"/, '$1'],
    ['R12-XHE', 'clear', '<xhb:InstanceEncryptionIndicator>false<', '<xhb:InstanceEncryptionIndicator>true<'],
    ['R13-XHE', 'encrypted', '<xhb:InstanceEncryptionIndicator>true<', '<xhb:InstanceEncryptionIndicator>0<'],
    ['R14-XHE', 'clear', /<xha:FromParty>[\s\S]*?<\/xha:FromParty>/, ''],
  ];
  it.each(cases)('%s fires alone', (rule, base, from, to) => {
    const src = base === 'clear' ? clear : encrypted;
    const out = src.replace(from, to);
    expect(out).not.toBe(src);
    expect(ruleIds(runXheRules(parse(out)))).toEqual(rule === 'R14-XHE' ? ['R14-XHE', 'R14-XHE'] : [rule]);
  });

  it('R11-XHE checks ToParty (the published rule re-tests FromParty; sdk.md §6)', () => {
    const out = clear.replace(/(<xha:ToParty><xha:PartyIdentification><xhb:ID) schemeID="iso6523-actorid-upis"/, '$1 schemeID="0203"');
    expect(runXheRules(parse(out))).toEqual([expect.objectContaining({ ruleId: 'R11-XHE', path: '/x:XHE/xha:Header/xha:ToParty/xha:PartyIdentification/xhb:ID' })]);
  });

  it('R2-XHE does not apply inside PayloadContent nor to xenc/ds elements', () => {
    const out = clear.replace('<tns:x>1</tns:x>', '<tns:x/>');
    expect(runXheRules(parse(out))).toEqual([]);
  });
});

describe('DIGG-AppRes-Business-Rules port (R1-APP … R9-APP)', () => {
  const base = {
    receiptId: 'b6d3a1c2-7f1e-4d3a-9c1b-2a3b4c5d6e7f',
    issuedAt: new Date('2026-11-20T10:05:00Z'),
    issuer: OURS.participant as ParticipantId,
    receiver: PEER1.participant as ParticipantId,
    documentReference: '5b0b9f4e-2f0a-4c55-9d6c-3f1d2a7e8b01' as MessageId,
  };
  const rejected = buildReceiptXml({ ...base, verdict: { status: 'REJECTED', reasons: [{ code: 'BV', detail: 'invariant', path: '/tns:messagePayload', text: 'rule' }] } });
  const accepted = buildReceiptXml({ ...base, verdict: { status: 'ACCEPTED' } });

  it('has the nine assert ids of the published schematron', () => {
    expect(Object.keys(RECEIPT_RULES)).toEqual(Array.from({ length: 9 }, (_v, i) => `R${i + 1}-APP`));
  });

  it('passes our ACCEPTED and REJECTED receipts', () => {
    expect(runReceiptRules(parse(accepted))).toEqual([]);
    expect(runReceiptRules(parse(rejected))).toEqual([]);
  });

  const cases: [string, string, string | RegExp, string][] = [
    ['R1-APP', 'rejected', '</cbc:IssueTime>', '</cbc:IssueTime><cbc:Note>n</cbc:Note>'],
    ['R1-APP', 'rejected', '<cbc:EndpointID schemeID="iso6523-actorid-upis">0203:sandebud', '<cbc:EndpointID schemeID="iso6523-actorid-upis" schemeName="x">0203:sandebud'],
    ['R2-APP', 'rejected', /<cbc:StatusReason>[^<]*</, '<cbc:StatusReason> <'],
    ['R3-APP', 'rejected', 'urn:fdc:digg.se:edelivery:messagetype:response:1', 'urn:fdc:digg.se:edelivery:messagetype:response:2'],
    ['R4-APP', 'rejected', '<cbc:ProfileID>bdx:noprocess<', '<cbc:ProfileID>bdx:process<'],
    ['R5-APP', 'accepted', '>ACCEPTED<', '>OK<'],
    ['R6-APP', 'rejected', '<cbc:ResponseCode>BV<', '<cbc:ResponseCode>XSD<'],
    ['R7-APP', 'accepted', '</cac:DocumentReference>', '</cac:DocumentReference><cac:LineResponse><cac:LineReference><cbc:LineID>NA</cbc:LineID></cac:LineReference><cac:Response><cbc:ResponseCode>BV</cbc:ResponseCode><cac:Status><cbc:StatusReason>x</cbc:StatusReason></cac:Status></cac:Response></cac:LineResponse>'],
    ['R8-APP', 'accepted', '>ACCEPTED<', '>REJECTED<'],
    ['R9-APP', 'rejected', /<cbc:IssueTime>[^<]*<\/cbc:IssueTime>/, ''],
  ];
  it.each(cases)('%s fires alone', (rule, which, from, to) => {
    const src = which === 'accepted' ? accepted : rejected;
    const out = src.replace(from, to);
    expect(out).not.toBe(src);
    expect(ruleIds(runReceiptRules(parse(out)))).toEqual([rule]);
  });
});
