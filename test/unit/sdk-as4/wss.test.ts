// adapters/sdk/as4/wss.ts (sdk.md §8 WS-Security; dependencies.md XML rules 4–10): our signatures verify with
// an independent implementation (xml-crypto), and every verifier check has a failing case: tampered body and
// header, wrapped elements, PI/comment injection, DOCTYPE, two signatures, missing and extra references,
// SHA-1 and HMAC, an untrusted/expired/other certificate, a broken token reference, a stale timestamp.
import { createHash, createPrivateKey, sign as cryptoSign } from 'node:crypto';
import { SignedXml } from 'xml-crypto';
import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import { createTrustStore, type TrustStore } from '../../../adapters/shared/x509-trust.js';
import { AS4_NS, DSIG, WSS } from '../../../adapters/sdk/as4/as4.constants.js';
import { canonicalize, secureEnvelope, verifyEnvelope, WssError, type SignedAttachment } from '../../../adapters/sdk/as4/wss.js';
import { loadKit, rogueAccessPointCertificate, type Kit } from './as4-test-kit.js';

let kit: Kit;
let trust: TrustStore;
const NOW = new Date();
const messagingId = '_messaging-1';
const messagingXml = `<eb:Messaging xmlns:eb="${AS4_NS.eb}" xmlns:env="${AS4_NS.soap12}" xmlns:wsu="${AS4_NS.wsu}" env:mustUnderstand="true" wsu:Id="${messagingId}"><eb:UserMessage><eb:MessageInfo><eb:Timestamp>${NOW.toISOString()}</eb:Timestamp><eb:MessageId>m-1@test</eb:MessageId></eb:MessageInfo></eb:UserMessage></eb:Messaging>`;
const attachment: SignedAttachment = { contentId: 'message', contentType: 'application/gzip', body: Buffer.from('binary payload \x00\x01\x02', 'latin1') };

beforeAll(async () => {
  kit = await loadKit();
  trust = createTrustStore(kit.caBundle);
});

function sign(opts: { key?: string; cert?: string; attachments?: SignedAttachment[]; now?: Date; ttl?: number } = {}): string {
  return secureEnvelope({
    messagingXml,
    messagingId,
    attachments: opts.attachments ?? [attachment],
    key: { privateKey: opts.key ?? kit.key('peer1-tls'), certificatePem: opts.cert ?? kit.cert('peer1-tls') },
    now: opts.now ?? NOW,
    ttlSeconds: opts.ttl ?? 300,
  }).xml;
}

function verify(xml: string, attachments: SignedAttachment[] = [attachment], now = NOW): ReturnType<typeof verifyEnvelope> {
  return verifyEnvelope(xml, { trust, attachments: new Map(attachments.map((a) => [a.contentId, a])), now, clockSkewMs: 60_000 });
}

function reason(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof WssError) return e.reason;
    throw e;
  }
  return 'ACCEPTED';
}

/** Edit the DOM of a signed envelope and re-sign its SignedInfo with `key`: a valid signature over a bad shape. */
function editAndResign(xml: string, edit: (doc: Document) => void, key = kit.key('peer1-tls')): string {
  const doc = new DOMParser().parseFromString(xml, 'text/xml') as unknown as Document;
  edit(doc);
  const si = doc.getElementsByTagNameNS(AS4_NS.ds, 'SignedInfo')[0]!;
  const value = cryptoSign('sha256', Buffer.from(canonicalize(si as never), 'utf8'), createPrivateKey(key)).toString('base64');
  doc.getElementsByTagNameNS(AS4_NS.ds, 'SignatureValue')[0]!.textContent = value;
  return new XMLSerializer().serializeToString(doc as never);
}

describe('secureEnvelope', () => {
  it('produces a signature our verifier accepts, returning the signed (canonical) header and references', () => {
    const v = verify(sign());
    expect(v.signer.subject).toContain('CN=Region Dev access point');
    expect(v.messagingXml).toContain('<eb:MessageId>m-1@test</eb:MessageId>');
    expect(v.references.map((r) => r.uri)).toEqual([`#${messagingId}`, expect.stringMatching(/^#_body-/), expect.stringMatching(/^#TS-/), 'cid:message']);
    expect(v.signedAttachments).toEqual(['message']);
    expect(v.references[3]).toMatchObject({ transforms: [WSS.attachmentContentTransform], digestMethod: DSIG.sha256 });
  });

  it('writes SignedInfo directly in its exclusive-C14N form (the text signed equals the canonicalized element)', () => {
    const xml = sign();
    const written = /<ds:SignedInfo>[\s\S]*<\/ds:SignedInfo>/.exec(xml)![0].replace('<ds:SignedInfo>', `<ds:SignedInfo xmlns:ds="${AS4_NS.ds}">`);
    const doc = new DOMParser().parseFromString(xml, 'text/xml');
    expect(canonicalize(doc.getElementsByTagNameNS(AS4_NS.ds, 'SignedInfo')[0]! as never)).toBe(written);
  });

  it('verifies with an independent implementation (xml-crypto) for the element references', () => {
    const xml = sign({ attachments: [] });
    const doc = new DOMParser().parseFromString(xml, 'text/xml');
    const sigNode = doc.getElementsByTagNameNS(AS4_NS.ds, 'Signature')[0]!;
    const sx = new SignedXml({ publicCert: kit.cert('peer1-tls'), getCertFromKeyInfo: () => null });
    sx.loadSignature(sigNode as never);
    expect(sx.checkSignature(xml)).toBe(true);
    expect(sx.getSignedReferences()).toHaveLength(3);
  });

  it('canonicalizes an uncompressed XML attachment (SwA content transform): insignificant changes verify, content changes do not', () => {
    const xmlPart = (s: string): SignedAttachment => ({ contentId: 'message', contentType: 'text/xml', body: Buffer.from(s, 'utf8') });
    const signed = sign({ attachments: [xmlPart(`<a xmlns="urn:x" b="1"><c>d</c></a>`)] });
    expect(() => verify(signed, [xmlPart(`<?xml version="1.0"?>\n<a b='1' xmlns="urn:x"><c>d</c></a>`)])).not.toThrow();
    expect(reason(() => verify(signed, [xmlPart(`<a xmlns="urn:x" b="1"><c>e</c></a>`)]))).toBe('DIGEST_MISMATCH');
  });
});

describe('verifyEnvelope accepts', () => {
  it('InclusiveNamespaces PrefixList on a reference transform (as WSS4J/Domibus write it)', () => {
    const xml = editAndResign(sign(), (doc) => {
      const ts = doc.getElementsByTagNameNS(AS4_NS.wsu, 'Timestamp')[0]!;
      const ref = Array.from(doc.getElementsByTagNameNS(AS4_NS.ds, 'Reference')).find((r) => (r.getAttribute('URI') ?? '').startsWith('#TS-'))!;
      const transform = ref.getElementsByTagNameNS(AS4_NS.ds, 'Transform')[0]!;
      const inc = doc.createElementNS(AS4_NS.ec, 'ec:InclusiveNamespaces');
      inc.setAttribute('PrefixList', 'env');
      transform.appendChild(inc);
      const digest = createHash('sha256').update(canonicalize(ts as never, ['env'])).digest('base64');
      ref.getElementsByTagNameNS(AS4_NS.ds, 'DigestValue')[0]!.textContent = digest;
    });
    const v = verify(xml);
    expect(v.references.find((r) => r.uri.startsWith('#TS-'))).toMatchObject({ inclusivePrefixes: ['env'] });
  });
});

describe('verifyEnvelope refuses', () => {
  it('a tampered attachment, header or body', () => {
    const xml = sign();
    expect(reason(() => verify(xml, [{ ...attachment, body: Buffer.from('binary payload \x00\x01\x03', 'latin1') }]))).toBe('DIGEST_MISMATCH');
    expect(reason(() => verify(xml.replace('m-1@test', 'm-2@test')))).toBe('DIGEST_MISMATCH');
    expect(reason(() => verify(xml.replace(/(<env:Body[^>]*)><\/env:Body>/, '$1><x>injected</x></env:Body>')))).toBe('DIGEST_MISMATCH');
  });

  it('a changed SignatureValue', () => {
    const xml = sign();
    const tampered = xml.replace(/<ds:SignatureValue>(.)/, (_m, c: string) => `<ds:SignatureValue>${c === 'A' ? 'B' : 'A'}`);
    expect(reason(() => verify(tampered))).toBe('INVALID_SIGNATURE');
  });

  it('a wrapping attack: the signed eb:Messaging moved aside and a forged one put in its place', () => {
    const xml = sign();
    const original = /<eb:Messaging[\s\S]*?<\/eb:Messaging>/.exec(xml)![0];
    const forged = original.replace('m-1@test', 'forged@test');
    // Same Id on the forged element, genuine one hidden in the Body: Id no longer unique.
    const sameId = xml.replace(original, forged).replace(/(<env:Body[^>]*>)/, `$1<wrapper>${original}</wrapper>`);
    expect(reason(() => verify(sameId))).toBe('REFERENCE');
    // Forged element without the signed Id: it is not covered by the signature.
    const otherId = xml.replace(original, forged.replace(messagingId, '_forged')).replace(/(<env:Body[^>]*>)/, `$1<wrapper>${original}</wrapper>`);
    expect(reason(() => verify(otherId))).toBe('REFERENCE');
  });

  it('a processing instruction or a comment inside signed content, and a DOCTYPE', () => {
    const xml = sign();
    expect(reason(() => verify(xml.replace('m-1@test', 'm-1<?x 1964010?>@test')))).toBe('UNSAFE_XML');
    expect(reason(() => verify(xml.replace('m-1@test', 'm-1<!-- c -->@test')))).toBe('UNSAFE_XML');
    expect(reason(() => verify(`<!DOCTYPE e [<!ENTITY x "y">]>${xml}`))).toBe('UNSAFE_XML');
  });

  it('two signatures', () => {
    const xml = sign();
    const sig = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(xml)![0];
    expect(reason(() => verify(xml.replace(sig, sig + sig.replace(/Id="SIG-[^"]+"/, 'Id="SIG-2"'))))).toBe('SIGNATURE_COUNT');
  });

  it('a validly signed envelope that does not reference the Body, or references something else', () => {
    expect(() => verify(editAndResign(sign(), () => undefined))).not.toThrow();
    const noBody = editAndResign(sign(), (doc) => {
      const refs = Array.from(doc.getElementsByTagNameNS(AS4_NS.ds, 'Reference'));
      const body = refs.find((r) => (r.getAttribute('URI') ?? '').startsWith('#_body-'))!;
      body.parentNode!.removeChild(body);
    });
    expect(reason(() => verify(noBody))).toBe('REFERENCE');
    const extraRef = editAndResign(sign(), (doc) => {
      const refs = Array.from(doc.getElementsByTagNameNS(AS4_NS.ds, 'Reference'));
      const copy = refs[2]!.cloneNode(true) as Element;
      const bst = doc.getElementsByTagNameNS(AS4_NS.wsse, 'BinarySecurityToken')[0]!;
      copy.setAttribute('URI', `#${bst.getAttributeNS(AS4_NS.wsu, 'Id')}`);
      refs[2]!.parentNode!.appendChild(copy);
    });
    expect(reason(() => verify(extraRef))).toBe('REFERENCE');
  });

  it('SHA-1 digests, HMAC or unknown signature methods, and non-exclusive canonicalization', () => {
    const xml = sign();
    expect(reason(() => verify(xml.replace(DSIG.sha256, 'http://www.w3.org/2000/09/xmldsig#sha1')))).toBe('ALGORITHM');
    expect(reason(() => verify(xml.replace(DSIG.rsaSha256, 'http://www.w3.org/2000/09/xmldsig#hmac-sha1')))).toBe('ALGORITHM');
    expect(reason(() => verify(xml.replace(`<ds:CanonicalizationMethod Algorithm="${DSIG.excC14n}">`, '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315">')))).toBe('ALGORITHM');
  });

  it('a certificate that does not chain to a configured CA, an expired one, and a KeyInfo not pointing at the token', async () => {
    const rogue = await rogueAccessPointCertificate();
    expect(reason(() => verify(sign({ key: rogue.keyPem, cert: rogue.certPem })))).toBe('UNTRUSTED_CERTIFICATE');
    expect(reason(() => verify(sign({ key: kit.key('expired-sign'), cert: kit.cert('expired-sign') })))).toBe('UNTRUSTED_CERTIFICATE');
    expect(reason(() => verify(sign().replace(/<wsse:Reference URI="#X509-/, '<wsse:Reference URI="#other-')))).toBe('KEY');
  });

  it('a signature made with another key than the token’s', () => {
    // Token says peer1's AP, signature made with peer2's key.
    expect(reason(() => verify(sign({ key: kit.key('peer2-tls'), cert: kit.cert('peer1-tls') })))).toBe('INVALID_SIGNATURE');
  });

  it('a timestamp from the future, an expired one, and encryption elements in the header', () => {
    expect(reason(() => verify(sign({ now: new Date(NOW.getTime() + 3_600_000) })))).toBe('TIMESTAMP');
    expect(reason(() => verify(sign({ now: new Date(NOW.getTime() - 3_600_000) })))).toBe('TIMESTAMP');
    const withEnc = sign().replace('</wsse:Security>', '<xenc:EncryptedKey xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"></xenc:EncryptedKey></wsse:Security>');
    expect(reason(() => verify(withEnc))).toBe('STRUCTURE');
  });

  it('an attachment in the message that the signature does not cover, or a reference to a missing one', () => {
    const xml = sign();
    expect(reason(() => verify(xml, [attachment, { contentId: 'extra', contentType: 'application/octet-stream', body: Buffer.from('x') }]))).toBe('REFERENCE');
    expect(reason(() => verify(xml, []))).toBe('REFERENCE');
  });
});
