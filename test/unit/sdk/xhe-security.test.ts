// sdk.md §7, §15, §16.8–16.14 and dependencies.md XML rules 4–8: the outbound seal (encrypt → sign) and the
// inbound verification (verify first, on the exact bytes, with the configured certificate) including one
// negative test per security check.
import { randomUUID } from 'node:crypto';
import { DOMParser } from '@xmldom/xmldom';
import { processInboundMessage } from '../../../adapters/sdk/validation/inbound.pipeline.js';
import { sealMessage } from '../../../adapters/sdk/xhe/seal.js';
import { evaluateCertificate } from '../../../adapters/sdk/xhe/trust.js';
import { checkSignatureShape, signEnvelope } from '../../../adapters/sdk/xhe/xml-dsig.js';
import { decryptEncryptedData, encryptPayload, PayloadDecryptionError } from '../../../adapters/sdk/xhe/xml-enc.js';
import { parseXmlText } from '../../../adapters/sdk/xml/safe-xml.js';
import { ALG, NS } from '../../../src/domain/sdk/constants.js';
import type { MessageId } from '../../../src/domain/sdk/identifiers.js';
import type { SdkMessage } from '../../../src/domain/sdk/message.js';
import { directory, peerMessage, fixture, loadPki, OURS, PEER1, PEER2, receiverContext, sealRaw, type Pki } from './sdk-test-kit.js';

let k: Pki;
beforeAll(async () => {
  k = await loadPki();
});

function outboundMessage(overrides: Partial<SdkMessage> = {}): SdkMessage {
  return peerMessage({ label: 'Svar på kallelse', files: [{ fileName: 'svar.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF-1.7 svar').toString('base64') }], texts: ['Vi kommer.'] }, overrides);
}

async function sealAsPeer1(msg: SdkMessage): Promise<Buffer> {
  const sealed = await sealMessage({
    message: msg,
    recipientEncryptionCertificatePem: k.cert('org-enc'),
    recipientOrganizationNumber: OURS.orgnr,
    signingKey: k.key('peer1-sign'),
    trust: { anchors: [k.caBundle], crls: [k.orgCrl] },
  });
  return sealed.envelope;
}

function reasonsOf(r: Awaited<ReturnType<typeof processInboundMessage>>): { code: string; detail: string; path: string; text: string }[] {
  return r.verdict.status === 'REJECTED' ? r.verdict.reasons : [];
}

describe('encrypt → sign → verify → decrypt round trip (dev PKI: peer1-sign, org-enc)', () => {
  it('a sealed message is accepted by the receiver and every field survives, including confidentiality', async () => {
    const msg = outboundMessage({ refToMessageId: randomUUID() as MessageId, generatingSystem: { root: 'urn:example', extension: 'ärendesystem' } });
    const env = await sealAsPeer1(msg);
    const r = await processInboundMessage(env, receiverContext(k));
    expect(r.verdict).toEqual({ status: 'ACCEPTED' });
    expect(r.message).toEqual(msg);
  });

  it('the envelope has one payload, five business scope criteria, the message id, parties and function address (§16.8)', async () => {
    const msg = outboundMessage();
    const text = (await sealAsPeer1(msg)).toString('utf8');
    const doc = new DOMParser().parseFromString(text, 'text/xml');
    const criteria = doc.getElementsByTagNameNS(NS.xha, 'BusinessScopeCriterion');
    expect(criteria.length).toBe(5);
    expect(doc.getElementsByTagNameNS(NS.xha, 'Payload').length).toBe(1);
    expect(text).toContain(`<xhb:ID>${msg.messageId}</xhb:ID>`);
    expect(text).toContain(`<xhb:ID schemeID="iso6523-actorid-upis">${PEER1.participant}</xhb:ID>`);
    expect(text).toContain(`<xhb:HandlingServiceID>${OURS.inbox}</xhb:HandlingServiceID>`);
    expect(text).toContain('<xhb:InstanceEncryptionIndicator>true</xhb:InstanceEncryptionIndicator>');
    expect(text).toContain(`Algorithm="${ALG.aes256cbc}"`);
    expect(text).toContain(`Algorithm="${ALG.rsaOaepMgf1p}"`);
    expect(text).not.toContain('Svar på kallelse');
  });

  it('uses a fresh content key and IV per message (§16.9)', () => {
    const a = encryptPayload(Buffer.from('<a/>'), k.cert('org-enc'));
    const b = encryptPayload(Buffer.from('<a/>'), k.cert('org-enc'));
    expect(a.cipherValue).not.toBe(b.cipherValue);
    expect(a.encryptedKeyValue).not.toBe(b.encryptedKeyValue);
  });

  it('decrypts XML-Enc padding with arbitrary filler bytes (last byte = pad length, §15)', async () => {
    const { createCipheriv, publicEncrypt, constants, randomBytes, X509Certificate } = await import('node:crypto');
    const plain = Buffer.from('<tns:x xmlns:tns="urn:x">hej</tns:x>');
    const padLen = 16 - (plain.length % 16);
    const padded = Buffer.concat([plain, randomBytes(padLen - 1), Buffer.from([padLen])]);
    const key = randomBytes(32);
    const iv = randomBytes(16);
    const c = createCipheriv('aes-256-cbc', key, iv).setAutoPadding(false);
    const ct = Buffer.concat([iv, c.update(padded), c.final()]);
    const wrapped = publicEncrypt({ key: new X509Certificate(k.cert('org-enc').split('-----END CERTIFICATE-----')[0] + '-----END CERTIFICATE-----').publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, key);
    const xml = `<xenc:EncryptedData xmlns:xenc="${NS.xenc}" xmlns:ds="${NS.ds}" Type="${ALG.encTypeElement}"><xenc:EncryptionMethod Algorithm="${ALG.aes256cbc}"/><ds:KeyInfo><xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="${ALG.rsaOaepMgf1p}"/><xenc:CipherData><xenc:CipherValue>${wrapped.toString('base64')}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo><xenc:CipherData><xenc:CipherValue>${ct.toString('base64')}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData>`;
    const el = parseXmlText(xml).documentElement;
    if (el === null) throw new Error('no element');
    expect(decryptEncryptedData(el, [k.decryptionKey('org-enc')]).equals(plain)).toBe(true);
  });

  it('refuses every decryption problem with the same opaque error', () => {
    const enc = encryptPayload(Buffer.from('<a/>'), k.cert('peer2-enc'));
    const xml = `<r xmlns:xenc="${NS.xenc}" xmlns:ds="${NS.ds}"><xenc:EncryptedData Type="${ALG.encTypeElement}"><xenc:EncryptionMethod Algorithm="${ALG.aes256cbc}"/><ds:KeyInfo><xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="${ALG.rsaOaepMgf1p}"/><xenc:CipherData><xenc:CipherValue>${enc.encryptedKeyValue}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo><xenc:CipherData><xenc:CipherValue>${enc.cipherValue}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData></r>`;
    const el = parseXmlText(xml).documentElement?.firstChild;
    expect(() => decryptEncryptedData(el as never, [k.decryptionKey('org-enc')])).toThrow(PayloadDecryptionError);
    const withSha256Digest = xml.replace(`Algorithm="${ALG.rsaOaepMgf1p}"/>`, `Algorithm="${ALG.rsaOaepMgf1p}"><ds:DigestMethod Algorithm="${ALG.sha256}"/></xenc:EncryptionMethod>`);
    const el2 = parseXmlText(withSha256Digest).documentElement?.firstChild;
    expect(() => decryptEncryptedData(el2 as never, [k.decryptionKey('peer2-enc')])).toThrow('the payload could not be decrypted');
  });

  it('refuses to seal for an encryption certificate of another organisation than the recipient', async () => {
    await expect(
      sealMessage({ message: outboundMessage(), recipientEncryptionCertificatePem: k.cert('peer2-enc'), recipientOrganizationNumber: OURS.orgnr, signingKey: k.key('peer1-sign') }),
    ).rejects.toMatchObject({ code: 'SDK_RECIPIENT_CERTIFICATE_REJECTED' });
  });

  it('refuses to seal an invalid message (400 naming the field) and builds nothing', async () => {
    await expect(sealMessage({ message: outboundMessage({ label: '' }), recipientEncryptionCertificatePem: k.cert('org-enc'), signingKey: k.key('peer1-sign') })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      status: 400,
      errors: [{ field: '/label', message: 'is required' }],
    });
  });

  it('refuses to seal a payload above 30 000 000 bytes before any envelope is built (§16.6)', async () => {
    const big = 'A'.repeat(30_000_004);
    const msg = outboundMessage({ documents: [{ documentId: 'd', files: [{ fileName: 'x.pdf', contentType: 'application/pdf', content: big }], texts: [] }] });
    await expect(sealMessage({ message: msg, recipientEncryptionCertificatePem: k.cert('org-enc'), signingKey: k.key('peer1-sign') })).rejects.toMatchObject({ code: 'SDK_MESSAGE_TOO_LARGE', status: 400 });
  });
});

describe('signature verification: one negative test per check', () => {
  const accepted = (): Buffer => fixture('payloads/accepted.xml');

  it('the sealed bytes are exactly the signed bytes: pretty-printing them breaks the signature (§16.11)', async () => {
    const env = sealRaw(k, accepted());
    const prettified = Buffer.from(env.toString('utf8').replace(/<xha:Header>/, '<xha:Header>\n  '));
    const r = await processInboundMessage(prettified, receiverContext(k));
    expect(reasonsOf(r)).toEqual([expect.objectContaining({ code: 'SIG', detail: 'security' })]);
  });

  it('rejects a one-byte change in signed content (tampered routing)', async () => {
    const env = sealRaw(k, accepted()).toString('utf8');
    const tampered = Buffer.from(env.replace('>0203:region.dev.example<', '>0203:region.dev.exampla<'));
    expect(tampered.length).toBe(env.length);
    const r = await processInboundMessage(tampered, receiverContext(k, { certificates: directory({ '0203:region.dev.exampla': { signing: [{ pem: k.cert('peer1-sign') }] } }) }));
    expect(reasonsOf(r)).toEqual([expect.objectContaining({ code: 'SIG', detail: 'security', text: expect.stringMatching(/does not verify/) })]);
  });

  it('rejects a one-byte change in the encrypted payload before decrypting it', async () => {
    const env = sealRaw(k, accepted()).toString('utf8');
    const i = env.lastIndexOf('<xenc:CipherValue>') + '<xenc:CipherValue>'.length;
    const flipped = env.slice(0, i) + (env[i] === 'A' ? 'B' : 'A') + env.slice(i + 1);
    const r = await processInboundMessage(Buffer.from(flipped), receiverContext(k));
    expect(reasonsOf(r)).toEqual([expect.objectContaining({ code: 'SIG' })]);
    expect(r.payloadBytes).toBeUndefined();
  });

  it('rejects two signatures', async () => {
    const env = sealRaw(k, accepted()).toString('utf8');
    const sig = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(env)?.[0] ?? '';
    const doubled = env.replace('</xhe:XHE>', `${sig}</xhe:XHE>`);
    const r = await processInboundMessage(Buffer.from(doubled), receiverContext(k));
    expect(reasonsOf(r)).toEqual([expect.objectContaining({ code: 'SIG', text: expect.stringMatching(/more than one signature/) })]);
  });

  it('rejects a processing instruction injected into signed content even though c14n would hide it', async () => {
    const env = sealRaw(k, accepted()).toString('utf8');
    const injected = env.replace('<xhb:HandlingServiceID>', '<xhb:HandlingServiceID><?x 1964010?>');
    const r = await processInboundMessage(Buffer.from(injected), receiverContext(k));
    expect(reasonsOf(r)).toEqual([expect.objectContaining({ code: 'SIG', text: expect.stringMatching(/processing instructions/) })]);
  });

  it('rejects a comment in signed content', async () => {
    const env = sealRaw(k, accepted()).toString('utf8');
    const injected = env.replace('<xhb:HandlingServiceID>sdk:inkorg', '<xhb:HandlingServiceID><!-- x -->sdk:inkorg');
    const r = await processInboundMessage(Buffer.from(injected), receiverContext(k));
    expect(reasonsOf(r)).toEqual([expect.objectContaining({ code: 'SIG', text: expect.stringMatching(/comments/) })]);
  });

  it('rejects a wrapping attempt: a forged header hidden inside the (unsigned) signature element', async () => {
    const env = sealRaw(k, accepted()).toString('utf8');
    const forged = `<xha:Header><xhb:ID>${randomUUID()}</xhb:ID></xha:Header>`;
    // Insert into the signature's KeyInfo (the last one; the first KeyInfo belongs to the encrypted payload).
    const i = env.lastIndexOf('<ds:X509Data>');
    const wrapped = env.slice(0, i) + forged + env.slice(i);
    const r = await processInboundMessage(Buffer.from(wrapped), receiverContext(k));
    expect(reasonsOf(r)).toEqual([expect.objectContaining({ code: 'SIG', text: expect.stringMatching(/KeyInfo may only/) })]);
  });

  it('reads routing only from signed content: a signature moved into a wrapper is not at the root and is refused', async () => {
    const env = sealRaw(k, accepted()).toString('utf8');
    const sig = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(env)?.[0] ?? '';
    const moved = env.replace(sig, '').replace('</xha:Payloads>', `</xha:Payloads><xha:Payloads>${sig}</xha:Payloads>`);
    const doc = parseXmlText(moved);
    expect(checkSignatureShape(doc)).toMatchObject({ ok: false, problem: expect.stringMatching(/direct child/) });
  });

  it('rejects a reference that does not cover the whole document (URI other than "")', () => {
    const env = sealRaw(k, accepted()).toString('utf8').replace('<ds:Reference URI="">', '<ds:Reference URI="#x">');
    expect(checkSignatureShape(parseXmlText(env))).toMatchObject({ ok: false, problem: expect.stringMatching(/URI=""/) });
  });

  it('rejects transforms other than enveloped-signature + c14n', () => {
    const env = sealRaw(k, accepted())
      .toString('utf8')
      .replace(`<ds:Transform Algorithm="${ALG.excC14n}"/>`, '<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath>1</ds:XPath></ds:Transform>');
    expect(checkSignatureShape(parseXmlText(env))).toMatchObject({ ok: false, problem: expect.stringMatching(/transforms/) });
  });

  it('rejects SHA-1 digests and RSA-SHA1 signatures (algorithm allow-list)', () => {
    const env = sealRaw(k, accepted()).toString('utf8');
    expect(checkSignatureShape(parseXmlText(env.replace(`Algorithm="${ALG.sha256}"`, `Algorithm="${ALG.sha1}"`)))).toMatchObject({ ok: false, problem: expect.stringMatching(/digest/) });
    expect(checkSignatureShape(parseXmlText(env.replace(ALG.rsaSha256, 'http://www.w3.org/2000/09/xmldsig#rsa-sha1')))).toMatchObject({ ok: false, problem: expect.stringMatching(/signature algorithm/) });
  });

  it('rejects an unsigned envelope', async () => {
    const env = sealRaw(k, accepted()).toString('utf8').replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '');
    const r = await processInboundMessage(Buffer.from(env), receiverContext(k));
    expect(reasonsOf(r)).toEqual([expect.objectContaining({ code: 'SIG', text: expect.stringMatching(/not signed/) })]);
  });

  it("rejects a certificate that is only in KeyInfo (not the sender's CertPub certificate), even though it verifies", async () => {
    const env = sealRaw(k, accepted(), { signer: 'peer2-sign' });
    const r = await processInboundMessage(env, receiverContext(k));
    expect(reasonsOf(r)).toEqual([expect.objectContaining({ code: 'SIG', text: expect.stringMatching(/registered signing certificate/) })]);
  });

  it('never trusts KeyInfo: a registered certificate is used even when KeyInfo is absent', async () => {
    const signed = sealRaw(k, accepted()).toString('utf8');
    const start = signed.lastIndexOf('<ds:KeyInfo>');
    const env = signed.slice(0, start) + signed.slice(signed.indexOf('</ds:KeyInfo>', start) + '</ds:KeyInfo>'.length);
    expect(env).not.toMatch(/<\/ds:SignatureValue><ds:KeyInfo>/);
    const r = await processInboundMessage(Buffer.from(env), receiverContext(k));
    expect(r.verdict).toEqual({ status: 'ACCEPTED' });
  });

  it('rejects a revoked signer certificate (CRL of the organisation CA)', async () => {
    const env = sealRaw(k, accepted(), { signer: 'revoked-sign' });
    const r = await processInboundMessage(env, receiverContext(k, { certificates: directory({ [PEER1.participant]: { signing: [{ pem: k.cert('revoked-sign') }] } }) }));
    expect(reasonsOf(r)).toEqual([expect.objectContaining({ code: 'SIG', text: expect.stringMatching(/revoked/) })]);
  });

  it('rejects an expired signer certificate', async () => {
    const env = sealRaw(k, accepted(), { signer: 'expired-sign' });
    const r = await processInboundMessage(env, receiverContext(k, { certificates: directory({ [PEER1.participant]: { signing: [{ pem: k.cert('expired-sign') }] } }) }));
    expect(reasonsOf(r)).toEqual([expect.objectContaining({ code: 'SIG', text: expect.stringMatching(/not valid at the validation time/) })]);
  });

  it("rejects a signer certificate whose organizationIdentifier is not the sender organisation's", async () => {
    const env = sealRaw(k, accepted());
    const r = await processInboundMessage(env, receiverContext(k, { certificates: directory({ [PEER1.participant]: { signing: [{ pem: k.cert('peer1-sign'), organizationNumber: PEER2.orgnr }] } }) }));
    expect(reasonsOf(r)).toEqual([expect.objectContaining({ code: 'SIG', text: expect.stringMatching(/expected organisation/) })]);
  });

  it('rejects a signer certificate that does not chain to the configured CAs', async () => {
    const env = sealRaw(k, accepted());
    const rootOnlyOfAnotherWorld = k.cert('smp-tls').split('-----END CERTIFICATE-----')[1] + '-----END CERTIFICATE-----';
    const r = await processInboundMessage(env, receiverContext(k, { trust: { anchors: [rootOnlyOfAnotherWorld.trim()] } }));
    expect(reasonsOf(r)).toEqual([expect.objectContaining({ code: 'SIG', text: expect.stringMatching(/does not chain/) })]);
  });

  it('evaluates key usage: an encryption-only certificate cannot sign', async () => {
    const r = await evaluateCertificate(k.cert('org-enc'), { now: new Date(), usage: 'signing' });
    expect(r).toEqual({ ok: false, problem: 'the certificate is not allowed for signing' });
  });

  it('signs with inclusive c14n on request and still verifies', async () => {
    const payload = accepted();
    const env = sealRaw(k, payload).toString('utf8').replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '');
    const inclusive = Buffer.from(signEnvelope(env, k.key('peer1-sign'), { canonicalization: 'inclusive' }));
    expect(inclusive.toString('utf8')).toContain(`<ds:CanonicalizationMethod Algorithm="${ALG.c14n}"/>`);
    expect((await processInboundMessage(inclusive, receiverContext(k))).verdict).toEqual({ status: 'ACCEPTED' });
  });
});
