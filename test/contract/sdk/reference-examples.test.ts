// ../shared/reference/sdk/README.md: every published SDK example judged as that README says, with our own
// contracts and rule ports (sdk.md §15, §16.12). Read from ../shared; skipped visibly when it is absent.
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { readReceipt } from '../../../adapters/sdk/receipt/receipt.mapper.js';
import { safeParse, validateEnvelope, validatePayload, validateReceiptDocument } from '../../../adapters/sdk/validation/document.validators.js';
import { processInboundMessage, type InboundMessageContext } from '../../../adapters/sdk/validation/inbound.pipeline.js';
import { MESSAGE_RULES } from '../../../adapters/sdk/validation/message.rules.js';
import { RECEIPT_RULES } from '../../../adapters/sdk/validation/receipt.rules.js';
import { XHE_RULES } from '../../../adapters/sdk/validation/xhe.rules.js';
import { parseUntrustedXml, stripBom, UnsafeXmlError } from '../../../adapters/sdk/xml/safe-xml.js';
import { MESSAGE_STATUSES } from '../../../src/domain/sdk/status.js';
import { embeddedXheOf, keyInfoCertificateOf, REFERENCE, referenceAvailable, skipNotice } from '../../unit/sdk/sdk-test-kit.js';

const describeRef = referenceAvailable ? describe : describe.skip;
if (!referenceAvailable) skipNotice('reference example tests (test/contract/sdk/reference-examples.test.ts)');

const ref = (p: string): Buffer => fs.readFileSync(path.join(REFERENCE, p));
/** The Inera test certificates expired 2023-05-03: pin the validation time before that (README). */
const BEFORE_EXPIRY = new Date('2023-01-01T00:00:00Z');

/** CertPub stand-in for a reference vector: the signer's own certificate, registered for its From party. */
function contextFor(xhe: Buffer, extra: Partial<InboundMessageContext> = {}): InboundMessageContext {
  const pem = keyInfoCertificateOf(xhe);
  return { certificates: { signingCertificates: async () => [{ pem }] }, now: BEFORE_EXPIRY, ...extra };
}

function envelopeReasons(bytes: Buffer): unknown[] {
  const p = safeParse(bytes);
  if (!p.ok) throw new Error('not parsed');
  return validateEnvelope(bytes, p.parsed.doc);
}

describeRef('message-v3.1 examples', () => {
  it('messageWithAttachments3.xml is a valid plain message (our XSD + MessageConstraints port)', () => {
    const r = validatePayload(ref('message-v3.1/example/messageWithAttachments3.xml'));
    expect(r.reasons).toEqual([]);
    expect(r.message).toMatchObject({ messageId: '7bc5576a-3f87-4cf5-a0c5-277da06fcacb', confidentiality: false, documents: [{ documentId: 'SDK-Meddelande', texts: ['Anslut till SDK!'] }] });
  });

  it('xhe_unencrypted.xml: the embedded signed XHE verifies and carries a valid clear payload', async () => {
    const xhe = embeddedXheOf(ref('message-v3.1/example/xhe_unencrypted.xml'));
    const clear = await processInboundMessage(xhe, contextFor(xhe, { requireEncryption: false, decryptionKeys: [] }));
    expect(clear.verdict).toEqual({ status: 'ACCEPTED' });
    expect(clear.message?.messageId).toBe('7bc5576a-3f87-4cf5-a0c5-277da06fcacb');
    // In the SDK federation the payload must be encrypted (Utökad Bas): row 14.
    const sdk = await processInboundMessage(xhe, contextFor(xhe, { decryptionKeys: [] }));
    expect(sdk.verdict).toEqual({ status: 'REJECTED', reasons: [expect.objectContaining({ code: 'SIG', detail: 'security' })] });
  });

  it('as4_xhe_encrypted.xml: the embedded signed + encrypted XHE verifies (validation time pinned) and fails after one changed byte (§16.12)', async () => {
    const xhe = embeddedXheOf(ref('message-v3.1/example/as4_xhe_encrypted.xml'));
    const ok = await processInboundMessage(xhe, contextFor(xhe));
    expect(ok).toMatchObject({ verdict: { status: 'ACCEPTED' }, payloadValidated: false, envelope: { id: '70c5ea37-f4a9-4771-b0c7-09becd024bda', from: '0203:testb.testbed.inera.se', to: '0203:testa.testbed.inera.se', signed: true } });
    const text = xhe.toString('utf8');
    const i = text.indexOf('0203:testa.testbed.inera.se');
    const changed = Buffer.from(text.slice(0, i) + '0203:testc' + text.slice(i + '0203:testa'.length));
    expect(changed.length).toBe(xhe.length);
    const bad = await processInboundMessage(changed, contextFor(xhe));
    expect(bad.verdict).toEqual({ status: 'REJECTED', reasons: [expect.objectContaining({ code: 'SIG', detail: 'security', path: '/x:XHE/ds:Signature' })] });
  });

  it('as4_xhe_encrypted.xml: without pinning the time, the expired signer is refused', async () => {
    const xhe = embeddedXheOf(ref('message-v3.1/example/as4_xhe_encrypted.xml'));
    const r = await processInboundMessage(xhe, contextFor(xhe, { now: new Date() }));
    expect(r.verdict).toEqual({ status: 'REJECTED', reasons: [expect.objectContaining({ code: 'SIG', text: expect.stringMatching(/not valid at the validation time/) })] });
  });

  it.each(['xhe_unencrypted_payload.xml', 'xhe_encrypted_payload.xml'])('%s is structurally valid but its signature no longer verifies', async (f) => {
    const xhe = ref(`message-v3.1/example/${f}`);
    expect(envelopeReasons(xhe)).toEqual([]);
    const r = await processInboundMessage(xhe, contextFor(xhe));
    expect(r.verdict).toEqual({ status: 'REJECTED', reasons: [expect.objectContaining({ code: 'SIG', text: expect.stringMatching(/does not verify/) })] });
  });
});

describeRef('xhe-1.0 examples', () => {
  it.each(['XHE-tm-base.xml', 'XHE-NonXML-tm-base.xml', 'XHE-tm-base-ext-sigenc.xml'])('%s is a valid XHE (our XHE XSD + R1–R14 port)', (f) => {
    expect(envelopeReasons(Buffer.from(stripBom(ref(`xhe-1.0/example/${f}`))))).toEqual([]);
  });

  it('XHE-tm-base.xml is unsigned, so an SDK message service refuses it (SIG)', async () => {
    const xhe = ref('xhe-1.0/example/XHE-tm-base.xml');
    const r = await processInboundMessage(xhe, { certificates: { signingCertificates: async () => [] } });
    expect(r.verdict).toEqual({ status: 'REJECTED', reasons: [expect.objectContaining({ code: 'SIG', text: expect.stringMatching(/not signed/) })] });
  });

  it('XHE-tm-base-ext-sigenc.xml starts with a BOM and verifies once it is stripped (self-signed SendOrg2 pinned)', async () => {
    const raw = ref('xhe-1.0/example/XHE-tm-base-ext-sigenc.xml');
    expect([...raw.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const pem = keyInfoCertificateOf(Buffer.from(stripBom(raw)));
    const r = await processInboundMessage(raw, { certificates: { signingCertificates: async () => [{ pem }] }, trust: { anchors: [pem], requireChain: true } });
    expect(r).toMatchObject({ verdict: { status: 'ACCEPTED' }, envelope: { from: '0203:myndighetA.org', signed: true } });
  });
});

describeRef('receipt-1.0 examples', () => {
  const expected: Record<string, { status: string; lines: { code: string; path: string; detail?: string }[] }> = {
    'Kvittens_AP-Accepterat.xml': { status: 'ACCEPTED', lines: [] },
    'Kvittens_RE-XSDFel.xml': { status: 'REJECTED', lines: [{ code: 'SV', path: 'NA' }] },
    'Kvittens_RE-SIG.xml': { status: 'REJECTED', lines: [{ code: 'SIG', path: 'NA' }] },
    'Kvittens_RE-SCHFel.xml': { status: 'REJECTED', lines: [{ code: 'BV', path: '/Nyttolast/Typkod', detail: 'RegelID-123' }, { code: 'BV', path: '/Nyttolast/Rad[4]/Datum', detail: 'RegelID-678' }] },
    'Kvittens_RE-AnnatFel.xml': { status: 'REJECTED', lines: [{ code: 'BV', path: '/Nyttolast/Typkod', detail: 'RegelID-123' }, { code: 'BV', path: '/Nyttolast/Referens', detail: 'RegelID-111' }] },
  };
  it.each(Object.keys(expected))('%s validates (our receipt XSD + R1–R9 port) and reads as labelled', (f) => {
    const bytes = ref(`receipt-1.0/example/${f}`);
    const p = safeParse(bytes);
    if (!p.ok) throw new Error('not parsed');
    expect(validateReceiptDocument(bytes, p.parsed.doc)).toEqual([]);
    const r = readReceipt(p.parsed.doc);
    expect(r.status).toBe(expected[f]?.status);
    expect(r.documentReference).toBe('ID-FROM-XHE-12354689');
    expect(r.lines).toEqual((expected[f]?.lines ?? []).map((l) => expect.objectContaining(l)));
  });
});

describeRef('rule ports are complete', () => {
  const ids = (file: string, re: RegExp): string[] => [...new Set([...ref(file).toString('utf8').matchAll(re)].map((m) => m[1] as string))];

  it('MessageConstraints.xml: every concrete pattern has a function', () => {
    const concrete = ids('message-v3.1/schematron/MessageConstraints.xml', /<iso:pattern id="([^"]+)"(?![^>]*abstract="true")/g);
    expect(concrete.sort()).toEqual(Object.keys(MESSAGE_RULES).sort());
  });
  it('DIGG-XHE-Business-Rules.scmt: every assert id has a function', () => {
    expect(ids('xhe-1.0/schematron/DIGG-XHE-Business-Rules.scmt', /assert id="([^"]+)"/g).sort()).toEqual(Object.keys(XHE_RULES).sort());
  });
  it('DIGG-AppRes-Business-Rules.scmt: every assert id has a function', () => {
    expect(ids('receipt-1.0/schematron/DIGG-AppRes-Business-Rules.scmt', /assert id="([^"]+)"/g).sort()).toEqual(Object.keys(RECEIPT_RULES).sort());
  });
});

describeRef('api-mt-mk and domibus', () => {
  it('the OpenAPI messageStatusDef enum is exactly our status set', () => {
    const api = parseYaml(ref('api-mt-mk/sdk-api-restful.yml').toString('utf8')) as { components: { schemas: { messageStatusDef: { enum: string[] } } } };
    expect(api.components.schemas.messageStatusDef.enum).toHaveLength(MESSAGE_STATUSES.length);
    expect(new Set(api.components.schemas.messageStatusDef.enum)).toEqual(new Set(MESSAGE_STATUSES));
  });
  it('p-mode.xml begins with a comment before the XML declaration, so a strict parser refuses it as shipped', () => {
    expect(() => parseUntrustedXml(ref('domibus/p-mode.xml'))).toThrow(UnsafeXmlError);
  });
});
