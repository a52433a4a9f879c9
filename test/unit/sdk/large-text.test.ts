// Issue 7 memory work (docs/sdk.md "Memory"): the big base64 text of an envelope (CipherValue) or a payload
// (attachment content) stays a byte range (adapters/sdk/xml/large-text.ts) while everything else runs on a small
// skeleton. These tests show that the skeleton path gives exactly the verdicts of the whole-document path —
// signature, XSD, rules, decryption — and that every security rule still bites on the cut-out bytes:
// a changed byte inside the large text fails the signature; a DOCTYPE is still refused before parsing; a
// token outside its place falls back to the whole document.
import { withAttachmentTexts } from '../../../src/domain/sdk/attachments-in-payload.js';
import { createSdkMessageService } from '../../../adapters/sdk/index.js';
import { processInboundMessage } from '../../../adapters/sdk/validation/inbound.pipeline.js';
import { safeParse, validateEnvelope, validatePayload } from '../../../adapters/sdk/validation/document.validators.js';
import { buildMessagePayload, buildMessagePayloadBytes } from '../../../adapters/sdk/xhe/message.mapper.js';
import { sealMessage } from '../../../adapters/sdk/xhe/seal.js';
import { verifyEnvelopeSignature } from '../../../adapters/sdk/xhe/xml-dsig.js';
import { decryptEncryptedData, encryptPayload, encryptPayloadParts } from '../../../adapters/sdk/xhe/xml-enc.js';
import {
  base64BinaryProblem, base64Chunks, decodeBase64Chunks, findLargeRuns, isLargeRunText, LARGE_TEXT_MIN_BYTES,
} from '../../../adapters/sdk/xml/large-text.js';
import { parseUntrustedXml, parseUntrustedXmlSparse, UnsafeXmlError } from '../../../adapters/sdk/xml/safe-xml.js';
import { childElements, findElements, stringValue } from '../../../adapters/sdk/xml/dom.js';
import { NS } from '../../../src/domain/sdk/constants.js';
import type { SdkMessage } from '../../../src/domain/sdk/message.js';
import { directory, peerMessage, loadPki, LOOKUPS, OURS, PEER1, receiverContext, type Pki } from './sdk-test-kit.js';

let k: Pki;
beforeAll(async () => {
  k = await loadPki();
});

/** An attachment of `bytes` bytes whose base64 is far above the cut-out threshold. */
function bigMessage(bytes = 300_000, overrides: Partial<SdkMessage> = {}): SdkMessage {
  const pdf = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) pdf[i] = (i * 7919) & 0xff;
  const content = Buffer.concat([Buffer.from('%PDF-1.7\n'), pdf]).toString('base64');
  return peerMessage({ label: 'Stor bilaga', files: [{ fileName: 'stor.pdf', contentType: 'application/pdf', content }], texts: ['Se bilagan.'] }, overrides);
}

async function sealAsPeer1(msg: SdkMessage): Promise<Buffer> {
  const sealed = await sealMessage({ message: msg, recipientEncryptionCertificatePem: k.cert('org-enc'), recipientOrganizationNumber: OURS.orgnr, signingKey: k.key('peer1-sign'), trust: { anchors: [k.caBundle], crls: [k.orgCrl] } });
  return sealed.envelope;
}

/** The byte range of the (only) large CipherValue text of an envelope. */
function cipherValueRange(env: Buffer): [number, number] {
  const runs = findLargeRuns(env);
  expect(runs).toHaveLength(1);
  return runs[0]!;
}

describe('finding the runs that may be cut out', () => {
  const pad = 'A'.repeat(LARGE_TEXT_MIN_BYTES);
  it('cuts only a whole text of base64 characters between two tags, starting with a base64 character', () => {
    const doc = Buffer.from(`<r><a>${pad}==\n</a><b x="${pad}">t</b><c>\n${pad}</c><d>${pad}&amp;</d><e>${pad}\r\n</e><f>${pad.slice(1)}</f></r>`);
    const runs = findLargeRuns(doc).map(([s, e]) => doc.toString('latin1', s - 3, e + 4));
    // <a> only: <b>'s is an attribute, <c> starts with a newline, <d> has an entity, <e> a CR, <f> is too short.
    expect(runs).toEqual([`<a>${pad}==\n</a>`]);
  });

  it('accepts as a run what findLargeRuns accepts, for text we write', () => {
    expect(isLargeRunText(`${pad}+/=\n\t `)).toBe(true);
    expect(isLargeRunText(` ${pad}`)).toBe(false);
    expect(isLargeRunText(`${pad}é`)).toBe(false);
    expect(isLargeRunText(pad.slice(1))).toBe(false);
  });
});

describe('the skeleton stands in for the whole envelope exactly', () => {
  it('cuts the CipherValue out, keeps it as a view of the received bytes, and the skeleton is small', async () => {
    const env = await sealAsPeer1(bigMessage());
    const [s, e] = cipherValueRange(env);
    const sparse = parseUntrustedXmlSparse(env);
    expect(sparse.large.size).toBe(1);
    expect(sparse.text.length).toBeLessThan(20_000);
    const cv = findElements(sparse.doc.documentElement!, NS.xenc, 'CipherValue').find((el) => sparse.large.isToken(stringValue(el)));
    expect(cv).toBeDefined();
    const token = stringValue(cv);
    expect(sparse.large.bytes(token).buffer).toBe(env.buffer);
    expect(sparse.large.text(token)).toBe(env.toString('latin1', s, e));
    // Put back, the skeleton is the document byte for byte.
    expect(sparse.large.assemble(sparse.text).equals(env)).toBe(true);
  });

  it('verifies the signature on the skeleton exactly when the whole document verifies, and gives the same signed content', async () => {
    const env = await sealAsPeer1(bigMessage());
    const full = parseUntrustedXml(env);
    const sparse = parseUntrustedXmlSparse(env);
    const whole = verifyEnvelopeSignature(full.text, full.doc, k.cert('peer1-sign'));
    const cut = verifyEnvelopeSignature(sparse.text, sparse.doc, k.cert('peer1-sign'), sparse.large);
    expect(whole.ok).toBe(true);
    expect(cut.ok).toBe(true);
    if (!whole.ok || !cut.ok) return;
    expect(sparse.large.resolve(cut.signedXml)).toBe(whole.signedXml);
  });

  it('a changed byte inside the large CipherValue fails the signature (and nothing is decrypted)', async () => {
    const env = await sealAsPeer1(bigMessage());
    const [s, e] = cipherValueRange(env);
    for (const at of [s, Math.floor((s + e) / 2), e - 3]) {
      const tampered = Buffer.from(env);
      tampered[at] = tampered[at] === 0x41 ? 0x42 : 0x41;
      const sparse = parseUntrustedXmlSparse(tampered);
      expect(sparse.large.size).toBe(1);
      expect(verifyEnvelopeSignature(sparse.text, sparse.doc, k.cert('peer1-sign'), sparse.large)).toMatchObject({ ok: false, problem: 'the signature does not verify' });
      const r = await processInboundMessage(tampered, receiverContext(k));
      expect(r.verdict).toMatchObject({ status: 'REJECTED', reasons: [{ code: 'SIG', text: expect.stringContaining('signature could not be verified') }] });
      expect(r.payloadBytes).toBeUndefined();
    }
  });

  it('a line break added inside the large CipherValue (still valid base64) fails the signature too', async () => {
    const env = await sealAsPeer1(bigMessage());
    const [s, e] = cipherValueRange(env);
    const mid = Math.floor((s + e) / 2);
    const tampered = Buffer.concat([env.subarray(0, mid), Buffer.from('\n'), env.subarray(mid)]);
    const r = await processInboundMessage(tampered, receiverContext(k));
    expect(r.verdict).toMatchObject({ status: 'REJECTED', reasons: [{ code: 'SIG', text: expect.stringContaining('signature could not be verified') }] });
  });

  it('judges a large envelope exactly as the whole-document path does (verdict, payload, message)', async () => {
    const msg = bigMessage();
    const env = await sealAsPeer1(msg);
    const cut = await processInboundMessage(env, receiverContext(k));
    const whole = await processInboundMessage(env, receiverContext(k), safeParse(env));
    expect(cut.verdict).toEqual({ status: 'ACCEPTED' });
    expect(whole.verdict).toEqual(cut.verdict);
    expect(cut.payloadBytes!.equals(whole.payloadBytes!)).toBe(true);
    // The cut path leaves the big attachment in the payload (a range, never a string: issue 7 memory); with
    // its text put back it is the message that was sent. Both paths decrypt to the same payload, so they agree.
    const file = cut.message!.documents[0]!.files[0]!;
    expect(file.content).toBe('');
    expect(file.contentInPayload!.length).toBe(msg.documents[0]!.files[0]!.content.length);
    expect(withAttachmentTexts(cut.message!, cut.payloadBytes!)).toEqual(msg);
    expect(whole.message).toEqual(cut.message);
  });

  it('refuses a DOCTYPE before parsing although the big text was cut out', async () => {
    const env = await sealAsPeer1(bigMessage());
    const withDtd = Buffer.concat([Buffer.from('<!DOCTYPE x [<!ENTITY e "x">]>'), env]);
    expect(findLargeRuns(withDtd)).toHaveLength(1);
    expect(() => parseUntrustedXmlSparse(withDtd)).toThrow(UnsafeXmlError);
    const r = await processInboundMessage(withDtd, receiverContext(k));
    expect(r).toMatchObject({ sendReceipt: false, noReceiptReason: 'not-xml' });
  });

  it('refuses nesting beyond the depth limit, and a comment or processing instruction in the signed content', async () => {
    const env = await sealAsPeer1(bigMessage());
    const deep = Buffer.from(env.toString('latin1').replace('<xha:Header>', `<xha:Header>${'<x>'.repeat(120)}${'</x>'.repeat(120)}`), 'latin1');
    expect(() => parseUntrustedXmlSparse(deep)).toThrow(UnsafeXmlError);
    for (const odd of ['<!-- note -->', '<?pi x?>']) {
      const withOdd = Buffer.from(env.toString('latin1').replace('<xha:Header>', `<xha:Header>${odd}`), 'latin1');
      expect(parseUntrustedXmlSparse(withOdd).large.size).toBe(1);
      const r = await processInboundMessage(withOdd, receiverContext(k));
      expect(r.verdict).toMatchObject({ status: 'REJECTED', reasons: [{ code: 'SIG', text: expect.stringContaining('comments and processing instructions') }] });
    }
  });

  it('refuses invalid UTF-8 next to the big text, as the whole document would be', async () => {
    const env = await sealAsPeer1(bigMessage());
    const header = Buffer.from(env.toString('latin1').replace(PEER1.participant, `${PEER1.participant}\xff`), 'latin1');
    expect(findLargeRuns(header)).toHaveLength(1);
    expect(() => parseUntrustedXmlSparse(header)).toThrow(UnsafeXmlError);
  });

  it('falls back to the whole document when a token would not be a text of a known element', () => {
    const run = 'A'.repeat(LARGE_TEXT_MIN_BYTES + 4);
    for (const doc of [
      `<r><label>${run}</label></r>`,
      `<r><!-- x>${run}<y --></r>`,
      `<r><![CDATA[>${run}<]]></r>`,
    ]) {
      const sparse = parseUntrustedXmlSparse(Buffer.from(doc));
      expect(sparse.large.size).toBe(0);
      expect(sparse.text).toBe(doc);
    }
    const known = parseUntrustedXmlSparse(Buffer.from(`<x:r xmlns:x="${NS.xenc}"><x:CipherValue>${run}</x:CipherValue></x:r>`));
    expect(known.large.size).toBe(1);
  });
});

describe('the XSD check of a cut-out CipherValue', () => {
  it('agrees with libxml2 (the whole-document XSD) on valid and invalid xs:base64Binary values', async () => {
    const env = (await sealAsPeer1(bigMessage(64))).toString('utf8');
    const m = /(<xenc:CipherData><xenc:CipherValue>)([^<]*)(<\/xenc:CipherValue><\/xenc:CipherData><\/xenc:EncryptedData>)/.exec(env)!;
    const values = ['AAAA', 'AAA=', 'AA==', 'AB==', 'ABC=', 'A===', 'AAAAA', 'AA AA', ' AAAA ', 'AA\nAA', 'AA=A', '', '=', 'AA= =', 'AA =A', 'AAAA====', 'A+/A', 'A-_A', 'AA\tAA'];
    for (const v of values) {
      const bytes = Buffer.from(env.replace(m[0], `${m[1]}${v}${m[3]}`));
      const p = safeParse(bytes);
      if (!p.ok) throw new Error('not parsed');
      const libxml2 = validateEnvelope(bytes, p.parsed.doc).some((r) => /EncryptedData\/xenc:CipherData\/xenc:CipherValue$/.test(r.path));
      expect([v, base64BinaryProblem([Buffer.from(v, 'latin1')]) !== null]).toEqual([v, libxml2]);
    }
  });

  it('reports an invalid large CipherValue as the XSD would, on the skeleton path', async () => {
    const env = await sealAsPeer1(bigMessage());
    const [, e] = cipherValueRange(env);
    const broken = Buffer.concat([env.subarray(0, e), Buffer.from('A'), env.subarray(e)]);
    const p = safeParse(broken, { largeText: true });
    if (!p.ok) throw new Error('not parsed');
    expect(p.parsed.large.size).toBe(1);
    const reasons = validateEnvelope(broken, p.parsed.doc, p.parsed.doc, undefined, p.parsed);
    expect(reasons).toEqual([expect.objectContaining({ code: 'SV', detail: 'structure', path: expect.stringMatching(/xenc:CipherData\/xenc:CipherValue$/) })]);
    const whole = safeParse(broken);
    if (!whole.ok) throw new Error('not parsed');
    expect(validateEnvelope(broken, whole.parsed.doc).map((r) => [r.code, r.detail, r.path])).toEqual(reasons.map((r) => [r.code, r.detail, r.path]));
  });
});

describe('decrypting a cut-out CipherValue chunk by chunk', () => {
  it('gives the bytes the whole-text decryption gives', () => {
    const plain = Buffer.from(`<a>${'x'.repeat(500_000)}</a>`);
    const enc = encryptPayload(plain, k.cert('org-enc'));
    const xml = `<r xmlns:xenc="${NS.xenc}" xmlns:ds="${NS.ds}"><xenc:EncryptedData Type="http://www.w3.org/2001/04/xmlenc#Element"><xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes256-cbc"/><ds:KeyInfo><xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"><ds:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/></xenc:EncryptionMethod><xenc:CipherData><xenc:CipherValue>${enc.encryptedKeyValue}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo><xenc:CipherData><xenc:CipherValue>${enc.cipherValue}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData></r>`;
    const sparse = parseUntrustedXmlSparse(Buffer.from(xml));
    expect(sparse.large.size).toBe(1);
    const ed = childElements(sparse.doc.documentElement!, NS.xenc, 'EncryptedData')[0]!;
    expect(decryptEncryptedData(ed, [k.decryptionKey('org-enc')], sparse.large).equals(plain)).toBe(true);
    const full = parseUntrustedXml(Buffer.from(xml));
    expect(decryptEncryptedData(childElements(full.doc.documentElement!, NS.xenc, 'EncryptedData')[0]!, [k.decryptionKey('org-enc')]).equals(plain)).toBe(true);
  });

  it('decodes base64 in windows exactly as Buffer.from does, across window borders and whitespace', () => {
    const data = Buffer.alloc(200_003);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    const text = data.toString('base64').replace(/(.{76})/g, '$1\n');
    const out: Buffer[] = [];
    decodeBase64Chunks([Buffer.from(text.slice(0, 1001)), Buffer.from(text.slice(1001))], (c) => out.push(c), 4096);
    expect(Buffer.concat(out).equals(data)).toBe(true);
  });

  it('produces the same base64 text every time it is asked (the digest and the output read the same bytes)', () => {
    const parts = encryptPayloadParts(Buffer.alloc(300_000, 7), k.cert('org-enc'));
    const once = Buffer.concat([...parts.cipherText.produce()]);
    const twice = Buffer.concat([...parts.cipherText.produce()]);
    expect(once.length).toBe(parts.cipherText.length);
    expect(once.equals(twice)).toBe(true);
    expect(base64BinaryProblem([once])).toBeNull();
    parts.dispose();
    expect(() => [...parts.cipherText.produce()]).toThrow('disposed');
    expect(Buffer.concat([...base64Chunks(() => [Buffer.from('ab'), Buffer.from('cdefg')])()]).toString()).toBe(Buffer.from('abcdefg').toString('base64'));
  });

  it('base64Chunks encodes any split of the bytes exactly as one base64 of the whole (carries across chunks)', () => {
    // A seeded split generator: chunk sizes 0..40, and the 16-byte IV + 48 KiB pieces of the real producer.
    let seed = 12345;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let round = 0; round < 300; round++) {
      const data = Buffer.alloc(next(200));
      for (let i = 0; i < data.length; i++) data[i] = next(256);
      const chunks: Buffer[] = [];
      for (let at = 0; at < data.length;) {
        const n = Math.min(next(41), data.length - at);
        chunks.push(data.subarray(at, at + n));
        at += n;
      }
      expect(Buffer.concat([...base64Chunks(() => chunks, data.length)()]).toString('latin1')).toBe(data.toString('base64'));
    }
    const big = Buffer.alloc(16 + 3 * 49_152 + 7, 0x5a);
    const pieces = [big.subarray(0, 16), big.subarray(16, 16 + 49_152), big.subarray(16 + 49_152, 16 + 2 * 49_152), big.subarray(16 + 2 * 49_152)];
    expect(Buffer.concat([...base64Chunks(() => pieces, big.length)()]).toString('latin1')).toBe(big.toString('base64'));
  });
});

describe('payloads with large attachments', () => {
  it('are written byte for byte as before, without xmlbuilder2 seeing the attachment', () => {
    const msg = bigMessage();
    expect(buildMessagePayloadBytes(msg).equals(Buffer.from(buildMessagePayload(msg), 'utf8'))).toBe(true);
    const odd = bigMessage(300_000, {});
    odd.documents[0]!.files[0]!.content = `${odd.documents[0]!.files[0]!.content.slice(0, 70_000)}&<é`;
    expect(buildMessagePayloadBytes(odd).equals(Buffer.from(buildMessagePayload(odd), 'utf8'))).toBe(true);
  });

  it('are validated on the skeleton with the verdicts of the whole document', () => {
    const msg = bigMessage();
    const payload = buildMessagePayloadBytes(msg);
    const v = validatePayload(payload);
    expect(v.reasons).toEqual([]);
    expect(v.large?.size).toBe(1);
    expect(v.message).toEqual(msg);
    // An attachment that does not start with a base64 character breaks rule contentFiles on both paths.
    const bad = Buffer.from(payload.toString('latin1').replace('<tns:content>', '<tns:content>='), 'latin1');
    const reasons = validatePayload(bad).reasons;
    expect(reasons).toEqual([expect.objectContaining({ code: 'BV', path: expect.stringMatching(/tns:content$/) })]);
    expect(findLargeRuns(bad)).toEqual([]);
  });

  it('seal and receive end to end through the message service (sealing splices the CipherValue into the signed skeleton)', async () => {
    const peer1 = createSdkMessageService({
      ownParticipants: [PEER1.participant], signingKey: k.key('peer1-sign'), decryptionKeys: [k.decryptionKey('peer1-enc')],
      certificates: directory({ [OURS.participant]: { signing: [{ pem: k.cert('org-sign'), organizationNumber: OURS.orgnr }], encryption: { pem: k.cert('org-enc'), organizationNumber: OURS.orgnr } } }),
      lookups: LOOKUPS, trust: { anchors: [k.caBundle], crls: [k.orgCrl] },
    });
    const us = createSdkMessageService({
      ownParticipants: [OURS.participant], signingKey: k.key('org-sign'), decryptionKeys: [k.decryptionKey('org-enc')],
      certificates: directory({ [PEER1.participant]: { signing: [{ pem: k.cert('peer1-sign'), organizationNumber: PEER1.orgnr }] } }),
      lookups: LOOKUPS, trust: { anchors: [k.caBundle], crls: [k.orgCrl] },
    });
    for (const canonicalization of ['exclusive', 'inclusive'] as const) {
      const msg = bigMessage(400_000);
      const sealed = await (canonicalization === 'inclusive'
        ? sealMessage({ message: msg, recipientEncryptionCertificatePem: k.cert('org-enc'), recipientOrganizationNumber: OURS.orgnr, signingKey: k.key('peer1-sign'), canonicalization })
        : peer1.seal(msg));
      const r = await us.receive(sealed.envelope);
      expect(r).toMatchObject({ kind: 'message', verdict: { status: 'ACCEPTED' } });
      if (r.kind === 'message') expect(withAttachmentTexts(r.message!, r.payloadBytes!)).toEqual(msg);
      // xml-crypto on the whole document agrees with the signature we made on the skeleton.
      const full = parseUntrustedXml(sealed.envelope);
      expect(verifyEnvelopeSignature(full.text, full.doc, k.cert('peer1-sign')).ok).toBe(true);
    }
  });
});
