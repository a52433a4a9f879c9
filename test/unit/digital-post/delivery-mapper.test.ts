// SignedDelivery / SealedDelivery / deliverSecure building and signing, compared with the reference examples
// (../shared/specs/digital-post.md §6.3–6.6, §10 #7/#9/#17; checklist §11 #19–#28).
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import {
  attachmentChecksum,
  buildSealedDeliveryXml,
  buildSignedDeliveryXml,
  mapDeliverSecureResponse,
  normaliseText,
  prepareDelivery,
  signAndSeal,
  stockholmDate,
  toDeliverSecureEnvelope,
} from '../../../adapters/digital-post/delivery/delivery.mapper.js';
import { parseSoapMessage } from '../../../adapters/shared/soap.js';
import { childElements, parseXmlSafely } from '../../../adapters/shared/xml-safe-parse.js';
import type { LetterForDelivery } from '../../../src/ports/digital-post.port.js';
import type { OrganisationNumber, RecipientId } from '../../../src/domain/digital-post.js';
import { loadTestPki, referenceDir, testLetter, type TestPki } from '../../integration/digital-post-adapters/fixtures.js';

const ref = referenceDir();
const maybe = ref ? it : it.skip;
const readRef = (f: string) => fs.readFileSync(path.join(ref ?? '', 'examples', f), 'utf8');
let pki: TestPki;

beforeAll(async () => {
  pki = await loadTestPki();
});

const b64Text = (xml: string, open: string) => {
  const i = xml.indexOf(open);
  return xml.slice(i + open.length, xml.indexOf('<', i + open.length));
};

/** The letter behind the reference example, rebuilt from its own content. */
function referenceLetter(): LetterForDelivery {
  const x = readRef('sandebud-SignedDelivery-standalone-signed.xml');
  const M = 'xmlns="http://minameddelanden.gov.se/schema/Message">';
  const bodies = x.split(`<Body ${M}`).slice(1).map((s) => s.slice(0, s.indexOf('<')));
  return {
    deliveryId: '6f1c2a7e-3b7d-4c8e-9a51-2d0b8e4f7c10',
    sender: { organisationNumber: '2021004748' as OrganisationNumber, name: 'Kommun A' },
    recipient: '195303231855' as RecipientId,
    subject: 'Beslut om hemtjänst',
    supportInfo: {
      text: 'Har du frågor? Kontakta socialtjänstens kundtjänst vardagar 8-16.',
      url: 'https://www.example.se/kontakt',
      phoneNumber: '+46 8 123 456 00',
      emailAddress: 'socialtjansten@example.se',
    },
    body: { contentType: 'text/html', content: Buffer.from(bodies[0]!, 'base64') },
    attachments: [{ contentType: 'application/pdf', filename: 'beslut-SN-2026-0042.pdf', content: Buffer.from(bodies[1]!, 'base64') }],
    receivedAt: new Date('2026-11-23T09:00:00Z'),
  };
}

describe('the unsigned SignedDelivery', () => {
  maybe('is byte-identical to the reference example without its signature (prefix-free, no whitespace)', () => {
    const x = readRef('sandebud-SignedDelivery-standalone-signed.xml');
    const withoutSignature = x.slice(0, x.indexOf('<Signature xmlns=')) + '</SignedDelivery>';
    expect(buildSignedDeliveryXml(referenceLetter())).toBe(withoutSignature);
  });

  maybe('therefore gets the reference DigestValue: our canonical form is the same octets (§6.6 rule 2, §10 #9)', async () => {
    const { signedDeliveryXml } = await signAndSeal(referenceLetter(), { sender: pki.cred('org-sign'), sealer: pki.cred('org-seal') });
    const theirs = readRef('sandebud-SignedDelivery-standalone-signed.xml');
    expect(b64Text(signedDeliveryXml, '<DigestValue>')).toBe(b64Text(theirs, '<DigestValue>'));
    expect(b64Text(theirs, '<DigestValue>')).toBe('mUa1cnxQQ6ltB3XxYkxPog2E5dHJldC+OvK/tPNOVT0=');
  });

  maybe('uses the attachment checksum form of the reference (MD5, upper-case hex)', () => {
    const l = referenceLetter();
    expect(attachmentChecksum(l.attachments[0]!.content)).toBe('93D234DB9E54349BFD5D9FAA36A02342');
  });

  it('normalises line ends to LF and refuses control characters XML cannot carry (§6.6 rule 5)', () => {
    expect(normaliseText('a\r\nb\rc\u2028d', 'x')).toBe('a\nb\nc\nd');
    expect(() => normaliseText('bell\u0007', 'subject')).toThrow(expect.objectContaining({ code: 'INVALID_CONTENT', status: 400 }));
    const xml = buildSignedDeliveryXml(testLetter('195303231855', { subject: 'Rad 1\r\nRad 2' }));
    expect(xml).not.toContain('\r');
    expect(xml).toContain('<Subject>Rad 1\nRad 2</Subject>');
  });

  it('refuses a subject over 255 characters', () => {
    expect(() => buildSignedDeliveryXml(testLetter('195303231855', { subject: 'x'.repeat(256) }))).toThrow(expect.objectContaining({ code: 'INVALID_CONTENT' }));
  });
});

describe('ReceivedTime', () => {
  it.each([
    ['late evening UTC in winter is the next day in Stockholm', '2026-11-23T23:30:00Z', '2026-11-24'],
    ['just before midnight in summer (UTC+2)', '2026-06-30T21:59:59Z', '2026-06-30'],
    ['just after midnight in summer', '2026-06-30T22:00:00Z', '2026-07-01'],
  ])('%s', (_name, iso, date) => {
    expect(stockholmDate(new Date(iso))).toBe(date);
  });
});

describe('signing and sealing', () => {
  it('produces the §6.6 signature form on both documents, with the seal over a standalone SealedDelivery', async () => {
    const s = await signAndSeal(testLetter('195303231855'), { sender: pki.cred('org-sign'), sealer: pki.cred('org-seal') });
    for (const doc of [s.signedDeliveryXml, s.sealedDeliveryXml]) {
      const root = parseXmlSafely(doc).documentElement!;
      const kids = childElements(root);
      const sig = kids[kids.length - 1]!;
      expect(sig.localName).toBe('Signature');
      expect(sig.toString()).toContain('<Reference URI=""><Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></Transforms><DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>');
      expect(sig.toString()).toContain('<CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>');
      expect(sig.toString()).toMatch(/<X509SubjectName>CN=Sändebuds kommun \(dev\) (signing|seal), organizationIdentifier=NTRSE-2120000000, O=Sändebuds kommun \(dev\), C=SE<\/X509SubjectName><X509Certificate>[A-Za-z0-9+/=]+<\/X509Certificate>/);
    }
    expect(s.sealedDeliveryXml.startsWith('<SealedDelivery xmlns="http://minameddelanden.gov.se/schema/Message/v3"><SignedDelivery><Delivery>')).toBe(true);
    expect(s.sealedDeliveryXml).toContain(`<Seal><ReceivedTime xmlns="http://minameddelanden.gov.se/schema/Message">${s.receivedDate}</ReceivedTime><SignaturesOK xmlns="http://minameddelanden.gov.se/schema/Message">true</SignaturesOK></Seal>`);
  });

  it('has no prefix, whitespace-only text, comment, PI, CR or wrapped base64 in the signed documents (§11 #24)', async () => {
    const s = await signAndSeal(testLetter('195303231855'), { sender: pki.cred('org-sign'), sealer: pki.cred('org-seal') });
    for (const doc of [s.signedDeliveryXml, s.sealedDeliveryXml]) {
      expect(doc).not.toMatch(/<[A-Za-z]+:[A-Za-z]/);
      expect(doc).not.toMatch(/>\s+</);
      expect(doc).not.toMatch(/<!--|<\?|\r/);
      expect(doc).not.toMatch(/[A-Za-z0-9+/=]\n[A-Za-z0-9+/=]/);
    }
  });

  it('embeds the sealed bytes unchanged in the SOAP request, adding xmlns on SignedDelivery and Seal only (§6.6 rule 6)', async () => {
    const s = await signAndSeal(testLetter('198101052382'), { sender: pki.cred('org-sign'), sealer: pki.cred('org-seal') });
    const m = /<deliverSecure><SignedDelivery xmlns="([^"]+)">([\s\S]*)<\/SignedDelivery><Seal xmlns="([^"]+)">([\s\S]*)<\/deliverSecure><\/deliverSecure><\/soap:Body>/.exec(s.soapRequest);
    expect(m).not.toBeNull();
    const reRooted = `<SealedDelivery xmlns="${m![1]}"><SignedDelivery>${m![2]}</SignedDelivery><Seal>${m![4]}</SealedDelivery>`;
    expect(reRooted).toBe(s.sealedDeliveryXml);
    expect(m![3]).toBe(m![1]);
    expect(parseSoapMessage(s.soapRequest).kind).toBe('body');
  });

  it('is deterministic: the same letter gives byte-identical requests, so a re-sign after a crash changes nothing (§11 #28)', async () => {
    const letter = testLetter('195303231855');
    const a = await prepareDelivery(letter, { sender: pki.cred('org-sign'), sealer: pki.cred('org-seal') });
    const b = await prepareDelivery(letter, { sender: pki.cred('org-sign'), sealer: pki.cred('org-seal') });
    expect(a.soapRequest.equals(b.soapRequest)).toBe(true);
    expect(a.requestSha256).toBe(createHash('sha256').update(a.soapRequest).digest('hex'));
  });

  it('refuses a key that does not belong to the certificate instead of sealing with SignaturesOK=true', async () => {
    await expect(signAndSeal(testLetter('195303231855'), { sender: { keyPem: pki.key('org-seal'), certPem: pki.cert('org-sign') }, sealer: pki.cred('org-seal') })).rejects.toThrow(/does not belong/);
  });

  it('refuses a request larger than 2 MiB (§10 #6)', async () => {
    const big = testLetter('195303231855', { attachments: [{ contentType: 'application/pdf', filename: 'big.pdf', content: Buffer.alloc(1_600_000, 7) }] });
    await expect(prepareDelivery(big, { sender: pki.cred('org-sign'), sealer: pki.cred('org-seal') })).rejects.toThrow(expect.objectContaining({ code: 'TOO_LARGE' }));
  });

  it('builds the seal document only from a standalone prefix-free SignedDelivery', () => {
    expect(() => buildSealedDeliveryXml('<m:SignedDelivery xmlns:m="x"/>', '2026-01-01')).toThrow();
    expect(() => toDeliverSecureEnvelope('<SignedDelivery/>')).toThrow();
  });
});

describe('the deliverSecure answer', () => {
  const payload = (xml: string) => {
    const m = parseSoapMessage(xml);
    if (m.kind !== 'body') throw new Error('fault');
    return m.payload;
  };

  maybe('reads TransId and Delivered for our recipient from the reference answers', () => {
    expect(mapDeliverSecureResponse(payload(readRef('sundsvall-deliverSecureResponse-kivra.xml')), '192301010168')).toEqual({ transId: '3832352f-fa74-4c17-ab6a-a6e3ab8324f3', delivered: true });
    expect(mapDeliverSecureResponse(payload(readRef('sundsvall-deliverSecureResponse-organisation.xml')), '165591628136')).toEqual({ transId: '92e7cb34-ef96-4d6e-ad3c-99e8bcb33edd', delivered: true });
  });

  maybe('never treats a status for another recipient as delivered (§11 #31)', () => {
    expect(() => mapDeliverSecureResponse(payload(readRef('sundsvall-deliverSecureResponse-kivra.xml')), '195303231855')).toThrow(expect.objectContaining({ code: 'OPERATOR_PROTOCOL_ERROR' }));
  });
});
