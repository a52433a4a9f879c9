// adapters/sdk/as4 building blocks (sdk.md §8): our P-mode agrees with the SDK identifiers and with Digg's
// Domibus P-mode; MIME packaging round-trips and refuses ambiguity; the ebMS header we write validates
// against our schema subset and reads back; retry policies; the duplicate store; the header-only XHE reader.
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { MESSAGE_DOCUMENT_ID, PROCESS_ID, PROCESS_ID_SCHEME, RECEIPT_DOCUMENT_ID } from '../../../src/domain/sdk/constants.js';
import { loadXsdValidator } from '../../../adapters/shared/xsd-validator.js';
import { DEFAULT_EBMS_HEADER_XSD } from '../../../adapters/sdk/as4/index.js';
import { errorEnvelope, messagingOfEnvelope, readMessaging, readMessagingXml, receiptMessagingXml, userMessagingXml } from '../../../adapters/sdk/as4/ebms.mapper.js';
import { createMemoryDuplicateStore } from '../../../adapters/sdk/as4/duplicate-store.js';
import { buildMultipart, MimeError, parseContentType, parseMultipart } from '../../../adapters/sdk/as4/mime.js';
import { actionForDocument, defaultPmode, documentForAction, legForAction, loadPmode } from '../../../adapters/sdk/as4/pmode.js';
import { createBackoffPolicy, parseDomibusRetry } from '../../../adapters/sdk/as4/retry-policy.js';
import { acknowledgedXheId, readXheRouting, routingProblem } from '../../../adapters/sdk/as4/xhe-routing.js';
import { loadKit, messageService, OURS, PEER1, sdkMessage, type Kit } from './as4-test-kit.js';

const REFERENCE_PMODE = path.resolve(process.cwd(), '../shared/reference/sdk/domibus/p-mode.xml');

let kit: Kit;
beforeAll(async () => {
  kit = await loadKit();
});

describe('P-mode (contracts/sdk/as4/pmode.yaml)', () => {
  const pmode = defaultPmode();

  it('carries the SDK service and the actions of the message and receipt document ids', () => {
    expect(pmode.service).toEqual({ value: PROCESS_ID, type: PROCESS_ID_SCHEME });
    expect(legForAction(pmode, actionForDocument(MESSAGE_DOCUMENT_ID))?.name).toBe('message');
    expect(legForAction(pmode, actionForDocument(RECEIPT_DOCUMENT_ID))?.name).toBe('receipt');
    expect(documentForAction(actionForDocument(RECEIPT_DOCUMENT_ID))).toBe(RECEIPT_DOCUMENT_ID);
    expect(documentForAction('other::x')).toBeUndefined();
  });

  it('agrees with Digg’s Domibus P-mode for SDK on every shared value', () => {
    if (!fs.existsSync(REFERENCE_PMODE)) {
      console.warn('SKIPPED: Domibus P-mode comparison — ../shared/reference/sdk is not available');
      return;
    }
    const ref = fs.readFileSync(REFERENCE_PMODE, 'utf8');
    const attr = (name: string): string[] => [...ref.matchAll(new RegExp(`${name}="([^"]*)"`, 'g'))].map((m) => m[1]!);
    for (const v of [pmode.mep, pmode.binding, pmode.roles.initiator, pmode.roles.responder, pmode.partyIdType, pmode.mpc, pmode.service.value, pmode.service.type, ...pmode.legs.map((l) => l.action)]) {
      expect([...attr('value'), ...attr('qualifiedName'), ...attr('type')]).toContain(v);
    }
    expect(attr('cid')).toContain(`cid:${pmode.payload.cid}`);
    expect(attr('mimeType')).toContain(pmode.payload.mimeType);
    expect(ref).toContain(`compressPayloads="${String(pmode.payload.compress)}"`);
    expect(ref).toContain('replyPattern="response" nonRepudiation="true"');
  });

  it('is validated on load, naming the offending path', () => {
    const dir = fs.mkdtempSync(path.join(process.cwd(), 'var-pmode-'));
    try {
      const bad = path.join(dir, 'p.yaml');
      fs.writeFileSync(bad, fs.readFileSync(path.resolve('contracts/sdk/as4/pmode.yaml'), 'utf8').replace('xmlenc#sha256', 'xmldsig#sha1'));
      expect(() => loadPmode(bad)).toThrow(/security\.digestMethod/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('MIME multipart/related', () => {
  it('round-trips the SOAP part and a binary attachment exactly', () => {
    const bin = Buffer.from([0, 13, 10, 45, 45, 255, 1, 2]);
    const mp = buildMultipart({ contentId: 'root@x', body: Buffer.from('<env/>') }, [{ contentId: 'message', contentType: 'application/gzip', body: bin }]);
    const parsed = parseMultipart(parseContentType(mp.contentType), Buffer.concat(mp.chunks));
    expect(parsed.root.body.toString()).toBe('<env/>');
    expect(parsed.root.contentType).toMatch(/^application\/soap\+xml/);
    expect(parsed.attachments).toHaveLength(1);
    expect(parsed.attachments[0]).toMatchObject({ contentId: 'message', contentType: 'application/gzip' });
    expect(parsed.attachments[0]!.body.equals(bin)).toBe(true);
    expect(mp.length).toBe(Buffer.concat(mp.chunks).length);
  });

  it('decodes base64 parts and refuses other transfer encodings, duplicate Content-IDs and a missing start part', () => {
    const ct = parseContentType('multipart/related; boundary="b"; start="<r>"');
    const part = (cid: string, cte: string, body: string): string => `--b\r\nContent-ID: <${cid}>\r\nContent-Transfer-Encoding: ${cte}\r\n\r\n${body}\r\n`;
    const ok = parseMultipart(ct, Buffer.from(part('r', 'binary', '<e/>') + part('a', 'base64', Buffer.from('hi').toString('base64')) + '--b--\r\n'));
    expect(ok.attachments[0]!.body.toString()).toBe('hi');
    expect(() => parseMultipart(ct, Buffer.from(part('r', 'quoted-printable', 'x') + '--b--'))).toThrow(MimeError);
    expect(() => parseMultipart(ct, Buffer.from(part('r', 'binary', 'x') + part('r', 'binary', 'y') + '--b--'))).toThrow(/duplicate/);
    expect(() => parseMultipart(parseContentType('multipart/related; boundary=b; start="<zz>"'), Buffer.from(part('r', 'binary', 'x') + '--b--'))).toThrow(/start part/);
    expect(() => parseMultipart(ct, Buffer.from(part('r', 'binary', 'x')))).toThrow(/unterminated/);
  });
});

describe('ebMS header mapper', () => {
  const pmode = defaultPmode();
  const validator = (): ReturnType<typeof loadXsdValidator> => loadXsdValidator(DEFAULT_EBMS_HEADER_XSD);

  it('writes a user message that validates against our subset schema and reads back', () => {
    const xml = userMessagingXml(pmode, {
      messageId: 'a@b', timestamp: new Date('2026-01-02T03:04:05.000Z'), fromPartyId: 'AP & 1', toPartyId: 'AP2', action: actionForDocument(MESSAGE_DOCUMENT_ID),
      conversationId: 'c-1', originalSender: PEER1.participant, finalRecipient: OURS.participant, payloadCid: 'message', payloadMimeType: 'text/xml', compressed: true,
    }, '_m');
    const v = validator();
    expect(v.validate(xml)).toEqual({ valid: true });
    v.dispose();
    const m = readMessagingXml(xml);
    expect(m).toMatchObject({
      kind: 'user', messageId: 'a@b', mpc: pmode.mpc, action: actionForDocument(MESSAGE_DOCUMENT_ID), conversationId: 'c-1',
      from: { partyIds: [{ value: 'AP & 1', type: pmode.partyIdType }], role: pmode.roles.initiator },
      service: { value: PROCESS_ID, type: PROCESS_ID_SCHEME },
      properties: [{ name: 'originalSender', type: 'iso6523-actorid-upis', value: PEER1.participant }, { name: 'finalRecipient', type: 'iso6523-actorid-upis', value: OURS.participant }],
      parts: [{ href: 'cid:message', properties: [{ name: 'MimeType', value: 'text/xml' }, { name: 'CompressionType', value: 'application/gzip' }] }],
    });
  });

  it('writes a receipt signal with NonRepudiationInformation and an error signal that validate and read back', () => {
    const refs = [{ uri: '#_m', transforms: ['http://www.w3.org/2001/10/xml-exc-c14n#'], digestMethod: 'http://www.w3.org/2001/04/xmlenc#sha256', digestValue: 'AAAA' }];
    const receipt = receiptMessagingXml({ messageId: 'r@b', timestamp: new Date(), refToMessageId: 'a@b', references: refs }, '_r');
    const v = validator();
    expect(v.validate(receipt)).toEqual({ valid: true });
    expect(readMessagingXml(receipt)).toEqual({ kind: 'receipt', messageId: 'r@b', refToMessageId: 'a@b', references: [{ uri: '#_m', digestMethod: refs[0]!.digestMethod, digestValue: 'AAAA' }] });
    const err = errorEnvelope({ kind: 'other', detail: 'NOT_SERVICED', messageId: 'e@b', timestamp: new Date(), refToMessageId: 'a@b' });
    const messaging = messagingOfEnvelope(err)!;
    expect(v.validate(messaging.toString())).toEqual({ valid: true });
    expect(readMessaging(messaging)).toEqual({ kind: 'error', messageId: 'e@b', refToMessageId: 'a@b', errors: [{ errorCode: 'EBMS:0004', severity: 'failure', shortDescription: 'Other', detail: 'NOT_SERVICED' }] });
    v.dispose();
  });

  it('the schema refuses a user message without Action', () => {
    const v = validator();
    const xml = userMessagingXml(pmode, { messageId: 'a@b', timestamp: new Date(), fromPartyId: 'A', toPartyId: 'B', action: 'x', conversationId: 'c', originalSender: 's', finalRecipient: 'r', payloadCid: 'message', payloadMimeType: 'text/xml', compressed: false }, '_m');
    expect(v.validate(xml.replace('<eb:Action>x</eb:Action>', '')).valid).toBe(false);
    v.dispose();
  });
});

describe('retry policies', () => {
  it('exponential backoff with a cap, and a last attempt', () => {
    const p = createBackoffPolicy({ attempts: 5, initialDelayMs: 100, factor: 2, maxDelayMs: 300 });
    expect([1, 2, 3, 4, 5].map((n) => p.nextDelayMs(n))).toEqual([100, 200, 300, 300, null]);
  });
  it('Domibus notation', () => {
    const c = parseDomibusRetry('12;4;CONSTANT');
    expect([1, 2, 3, 4, 5].map((n) => c.nextDelayMs(n))).toEqual([180_000, 180_000, 180_000, 180_000, null]);
    const p = parseDomibusRetry('15;4;PROGRESSIVE');
    expect([1, 2, 3, 4, 5].map((n) => p.nextDelayMs(n))).toEqual([60_000, 120_000, 240_000, 480_000, null]);
    expect(() => parseDomibusRetry('12;4')).toThrow();
  });
});

describe('in-memory duplicate store', () => {
  it('claims once, reports in-progress and delivered, releases on failure, forgets after the retention', async () => {
    let t = 0;
    const s = createMemoryDuplicateStore({ retentionMs: 1000, clock: () => t });
    expect(await s.claim('m1', 'A')).toBe('new');
    expect(await s.claim('m1', 'A')).toBe('in-progress');
    await s.release('m1', 'A');
    expect(await s.claim('m1', 'A')).toBe('new');
    await s.complete('m1', 'A');
    expect(await s.claim('m1', 'A')).toBe('delivered');
    // Another AP's message with the same id is not a duplicate of this one.
    expect(await s.claim('m1', 'B')).toBe('new');
    t = 5000;
    expect(await s.claim('m1', 'A')).toBe('new');
  });
});

describe('header-only XHE reader', () => {
  it('reads the routing of a sealed XHE without parsing its payload, and spots mismatches', async () => {
    const sealed = await messageService(kit, 'peer1').seal(sdkMessage('peer1', 'ours'));
    const r = readXheRouting(sealed.envelope);
    expect(r).toEqual({ id: sealed.xheId, from: PEER1.participant, to: OURS.participant, documentId: MESSAGE_DOCUMENT_ID, processId: PROCESS_ID });
    expect(routingProblem(r, sealed.routing)).toBeNull();
    expect(routingProblem(r, { ...sealed.routing, finalRecipient: PEER1.participant })).toMatch(/finalRecipient/);
    expect(routingProblem(r, { ...sealed.routing, documentId: RECEIPT_DOCUMENT_ID })).toMatch(/document id/);
    expect(readXheRouting(Buffer.from('<x><Payloads></Payloads></x>'))).toBeNull();
    expect(readXheRouting(Buffer.from(`<!DOCTYPE x><XHE><Payloads/></XHE>`))).toBeNull();
  });

  it('reads the acknowledged XHE id of a receipt envelope', async () => {
    const us = messageService(kit, 'ours');
    const sealed = await messageService(kit, 'peer1').seal(sdkMessage('peer1', 'ours'));
    const verdict = await us.receive(sealed.envelope);
    if (verdict.kind !== 'message') throw new Error('expected a message');
    const receipt = us.receiptFor(verdict)!;
    expect(acknowledgedXheId(receipt.envelope)).toBe(sealed.xheId);
    expect(acknowledgedXheId(sealed.envelope)).toBeUndefined();
    expect(acknowledgedXheId(Buffer.from(randomUUID()))).toBeUndefined();
  });
});
