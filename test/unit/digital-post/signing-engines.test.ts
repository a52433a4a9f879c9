// The DOM-free `canonical` signing engine against xml-crypto (../shared/specs/digital-post.md §6.6, §10 #9):
// for the same letters both engines must give byte-identical DigestValue and SignatureValue (RSA PKCS#1 v1.5 is
// deterministic), so the fast engine signs exactly what an XML-DSig implementation computes.
import { signAndSeal } from '../../../adapters/digital-post/delivery/delivery.mapper.js';
import { isPlainCanonicalForm, signCanonicalDocument, verifyEnvelopedDocument } from '../../../adapters/shared/xml-dsig.js';
import { createTrustStore } from '../../../adapters/shared/x509-trust.js';
import { loadTestPki, testLetter, TINY_PDF, type TestPki } from '../../integration/digital-post-adapters/fixtures.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await loadTestPki();
});

const values = (xml: string, tag: string) => [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, 'g'))].map((m) => m[1]);

describe('canonical engine = xml-crypto engine', () => {
  it.each([
    ['plain letter', {}],
    ['markup characters and quotes', { subject: 'A & B <c> "d" \'e\' ]]> >', supportInfo: { text: 'x > y && y < z', emailAddress: 'a@b.se' } }],
    ['tabs, line feeds, CRLF input, non-ASCII and astral characters', { subject: 'Rad\t1\r\nRad 2 – åäö ÅÄÖ é ü 😀', supportInfo: { text: '\n  indrag\n' } }],
    ['an organisation recipient with a text/plain body and no attachment', { recipient: '162021003898' as never, body: { contentType: 'text/plain' as const, content: Buffer.from('Hej!\nRad två.') }, attachments: [] }],
    ['reference, correlation id, attention and two attachments', {
      reference: 'Dnr 2026/42 & co', correlationId: 'c-1', sender: { organisationNumber: '2120000000' as never, name: 'Sändebuds kommun', attention: 'Socialtjänsten <IFO>' },
      attachments: [{ contentType: 'application/pdf', filename: 'a&b.pdf', content: TINY_PDF }, { contentType: 'application/pdf', filename: 'två.pdf', content: Buffer.alloc(3000, 1) }],
    }],
  ])('%s', async (_name, over) => {
    const letter = testLetter('195303231855', over);
    const creds = { sender: pki.cred('org-sign'), sealer: pki.cred('org-seal') };
    const fast = await signAndSeal(letter, { ...creds, engine: 'canonical' });
    const dom = await signAndSeal(letter, { ...creds, engine: 'xml-crypto' });
    expect(values(fast.sealedDeliveryXml, 'DigestValue')).toEqual(values(dom.sealedDeliveryXml, 'DigestValue'));
    expect(values(fast.sealedDeliveryXml, 'SignatureValue')).toEqual(values(dom.sealedDeliveryXml, 'SignatureValue'));
    expect(values(fast.sealedDeliveryXml, 'SignatureValue')).toHaveLength(2);
    const trust = createTrustStore(pki.caBundle);
    verifyEnvelopedDocument(fast.signedDeliveryXml, { trust });
    verifyEnvelopedDocument(fast.sealedDeliveryXml, { trust });
  });
});

describe('isPlainCanonicalForm', () => {
  const ok = '<A xmlns="urn:a"><B xmlns="urn:b">x &amp; y &lt; z &gt;</B><C>t</C></A>';
  it('accepts the compact prefix-free form', () => {
    expect(isPlainCanonicalForm(ok)).toBe(true);
  });
  it.each([
    ['an empty-element tag', '<A xmlns="urn:a"><B/></A>'],
    ['a prefix', '<a:A xmlns:a="urn:a"></a:A>'],
    ['an ordinary attribute', '<A xmlns="urn:a"><B Id="x"></B></A>'],
    ['a redundant default namespace declaration', '<A xmlns="urn:a"><B xmlns="urn:a"></B></A>'],
    ['a raw ">" in text', '<A xmlns="urn:a">1 > 0</A>'],
    ['a character reference', '<A xmlns="urn:a">&#65;</A>'],
    ['a quote entity', '<A xmlns="urn:a">&quot;</A>'],
    ['a CR', '<A xmlns="urn:a">a\rb</A>'],
    ['a comment', '<A xmlns="urn:a"><!-- c --></A>'],
    ['a processing instruction', '<A xmlns="urn:a"><?pi x?></A>'],
    ['an XML declaration', '<?xml version="1.0"?><A xmlns="urn:a"></A>'],
    ['an unclosed element', '<A xmlns="urn:a"><B></B>'],
    ['crossed end tags', '<A xmlns="urn:a"><B></A></B>'],
  ])('refuses %s', (_name, xml) => {
    expect(isPlainCanonicalForm(xml)).toBe(false);
  });
  it('makes signCanonicalDocument refuse a document it cannot sign without a DOM', async () => {
    await expect(signCanonicalDocument('<A xmlns="urn:a"><B/></A>', pki.cred('org-sign'))).rejects.toThrow(/canonical form/);
  });
});
