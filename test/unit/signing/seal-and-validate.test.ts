// Organisation seal round trips and validator positives: ../shared/specs/signing.md §6.4 (seal), §9.1
// (levels), §9.3 (report), §13 items 26, 28, 41–42; independent checks with xmlsec1 and openssl (§11).
import { beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { createHash, createPrivateKey, webcrypto } from 'node:crypto';
import { DOMImplementation, DOMParser, XMLSerializer } from '@xmldom/xmldom';
import * as xadesjs from 'xadesjs';
import xpath from 'xpath';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createOrganisationSealer, documentDigest } from '../../../adapters/signing/seal/index.js';
import { detectFormat, validateSignatures } from '../../../adapters/signing/validation/index.js';
import { certsOf, DS, ecSelfSignedKey, digestOfElement, ENVELOPED, EXC_C14N, loadSigningKit, makePdf, manualSignature, SAMPLE_XML, SHA256, xmlsec1Available, xmlsec1Verify, type SigningKit } from '../../fixtures/signing/kit.js';

let kit: SigningKit;
let tmp: string;
const hasXmlsec1 = xmlsec1Available();
if (!hasXmlsec1) console.warn('SKIPPED xmlsec1 checks: xmlsec1 not found (apt-get install -y xmlsec1)');
const hasPdfsig = spawnSync('pdfsig', ['-v'], { encoding: 'utf8' }).error === undefined;
if (!hasPdfsig) console.warn('SKIPPED pdfsig checks: pdfsig not found (apt-get install -y poppler-utils)');

beforeAll(async () => {
  kit = await loadSigningKit();
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sandebud-seal-'));
});

const envelop = (xml: string, sig: string): string => xml.slice(0, xml.lastIndexOf('</')) + sig + xml.slice(xml.lastIndexOf('</'));

describe('organisation seal, XML (XAdES-B-B enveloped)', () => {
  it('seals and validates as valid XAdES B-B with the organisation as signer and the whole document covered', async () => {
    const sealer = createOrganisationSealer({ key: kit.sealKey('org-seal') });
    const signingTime = new Date(Date.now() - 5_000);
    const sealed = await sealer.seal({ document: Buffer.from(SAMPLE_XML), format: 'xml', signingTime });
    expect(sealed.detached).toBe(false);
    // The original bytes are kept: the signature is spliced in before the closing root tag.
    expect(Buffer.from(sealed.bytes).toString('utf8').startsWith(SAMPLE_XML.slice(0, SAMPLE_XML.lastIndexOf('</')))).toBe(true);
    const report = await validateSignatures({ document: sealed.bytes }, kit.validatorOptions());
    expect(report).toMatchObject({ verdict: 'valid', reason: 'TOTAL_PASSED', documentFormat: 'xml' });
    const sig = report.signatures[0]!;
    expect(sig).toMatchObject({
      status: 'valid',
      format: 'XAdES',
      level: 'B-B',
      reasonText: { sv: 'Signaturen är giltig.', en: 'The signature is valid.' },
      signer: { organisation: 'Sändebuds kommun (dev)', organisationIdentifier: 'NTRSE-2120000000', orgNumber: '2120000000', commonName: 'Sändebuds kommun (dev) seal' },
      revocation: { status: 'good', source: 'CRL' },
      algorithms: { signature: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', digest: SHA256 },
    });
    expect(sig.signedAt).toEqual({ claimed: `${signingTime.toISOString().slice(0, 19)}.000Z`, proven: null, source: null, timestamped: false });
    expect(sig.chain.map((c) => [c.subject.split('CN=')[1], c.trustAnchor])).toEqual([
      ['Sändebuds kommun (dev) seal', false],
      ['Sändebud Dev Organisation CA', true],
    ]);
    expect(sig.covers.wholeDocument).toBe(true);
    expect(sig.covers.parts[0]).toEqual({ type: 'xml-reference', uri: '', element: 'Kvitto', whole: true });
    expect(sig.covers.parts[1]).toMatchObject({ signedProperties: true, element: 'xades:SignedProperties' });
  });

  (hasXmlsec1 ? it : it.skip)('is accepted by xmlsec1 trusting only the dev root', async () => {
    const sealed = await createOrganisationSealer({ key: kit.sealKey('org-seal') }).seal({ document: Buffer.from(SAMPLE_XML), format: 'xml' });
    const file = path.join(tmp, 'sealed.xml');
    await fs.writeFile(file, sealed.bytes);
    const r = xmlsec1Verify(kit, file, { xades: true });
    expect(r.output).toContain('SignedInfo References (ok/all): 2/2');
    expect(r.ok).toBe(true);
  });

  it('refuses to seal XML with a DOCTYPE or a processing instruction', async () => {
    const sealer = createOrganisationSealer({ key: kit.sealKey('org-seal') });
    await expect(sealer.seal({ document: Buffer.from('<!DOCTYPE a><a/>'), format: 'xml' })).rejects.toMatchObject({ code: 'SEAL_INPUT_INVALID', status: 422 });
    await expect(sealer.seal({ document: Buffer.from('<a><?pi x?></a>'), format: 'xml' })).rejects.toMatchObject({ code: 'SEAL_INPUT_INVALID' });
  });
});

describe('XMLDSig variants the validator accepts', () => {
  it('XAdES-BES made by another implementation (xadesjs, inclusive C14N SignedInfo) validates as XAdES B-B', async () => {
    xadesjs.setNodeDependencies({ DOMParser, XMLSerializer, DOMImplementation, xpath });
    xadesjs.Application.setEngine('NodeJS', webcrypto as unknown as Crypto);
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    const key = await webcrypto.subtle.importKey('pkcs8', createPrivateKey(kit.keyPem('org-sign')).export({ type: 'pkcs8', format: 'der' }), alg, false, ['sign']);
    const doc = new DOMParser().parseFromString('<Kvitto xmlns="urn:sandebud:test"><Belopp>100</Belopp></Kvitto>', 'text/xml');
    const certs = certsOf(kit, 'org-sign').map((c) => c.toString('base64'));
    const signature = await new xadesjs.SignedXml().Sign(alg, key, doc as unknown as Parameters<xadesjs.SignedXml['Sign']>[2], {
      references: [{ uri: '', hash: 'SHA-256', transforms: ['enveloped', 'exc-c14n'] }],
      signingCertificateV2: certs[0]!,
      signingTime: { value: new Date() },
      x509: certs,
    });
    doc.documentElement!.appendChild(signature.GetXml() as unknown as Parameters<typeof doc.appendChild>[0]);
    const xml = new XMLSerializer().serializeToString(doc);
    expect(xml).toContain('Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"');
    const report = await validateSignatures({ document: Buffer.from(xml) }, kit.validatorOptions());
    expect(report.signatures[0]).toMatchObject({ status: 'valid', format: 'XAdES', level: 'B-B', signer: { commonName: 'Sändebuds kommun (dev) signing' }, covers: { wholeDocument: true } });
  });

  it('a Reference to the Id of the document element covers the whole document (XMLDSig, level none)', async () => {
    const letter = '<Letter xmlns="urn:sandebud:test" Id="letter"><Amount>100</Amount></Letter>';
    const sig = manualSignature({ id: 's1', references: [{ uri: '#letter', transforms: [ENVELOPED, EXC_C14N], digest: digestOfElement(letter, 'letter') }], keyPem: kit.keyPem('org-sign'), certificates: certsOf(kit, 'org-sign') });
    const report = await validateSignatures({ document: Buffer.from(envelop(letter, sig)) }, kit.validatorOptions());
    expect(report.signatures[0]).toMatchObject({ status: 'valid', format: 'XMLDSig', level: 'none', covers: { wholeDocument: true } });
  });

  it('an enveloping signature covering its one data Object is valid', async () => {
    const obj = `<ds:Object xmlns:ds="${DS}" Id="obj-1"><Data xmlns="urn:sandebud:test">Hej</Data></ds:Object>`;
    const digest = createHash('sha256').update(obj, 'utf8').digest('base64');
    const doc = manualSignature({ id: 'env', references: [{ uri: '#obj-1', transforms: [EXC_C14N], digest }], keyPem: kit.keyPem('org-sign'), certificates: certsOf(kit, 'org-sign'), objects: [obj] });
    const report = await validateSignatures({ document: Buffer.from(doc) }, kit.validatorOptions());
    expect(report.signatures[0]).toMatchObject({ status: 'valid', covers: { wholeDocument: true, parts: [{ uri: '#obj-1', element: 'ds:Object' }] } });
  });

  it('a detached signature is valid with its content and SIGNED_DATA_NOT_FOUND without it (never fetched)', async () => {
    const content = Buffer.from('bilaga: 100 kr');
    const doc = manualSignature({ id: 'det', references: [{ uri: 'bilaga.txt', transforms: [], digest: createHash('sha256').update(content).digest('base64') }], keyPem: kit.keyPem('org-sign'), certificates: certsOf(kit, 'org-sign') });
    const withContent = await validateSignatures({ document: Buffer.from(doc), detachedContent: content }, kit.validatorOptions());
    expect(withContent.signatures[0]).toMatchObject({ status: 'valid', covers: { wholeDocument: true } });
    const without = await validateSignatures({ document: Buffer.from(doc) }, kit.validatorOptions());
    expect(without.signatures[0]).toMatchObject({ status: 'indeterminate', reason: 'SIGNED_DATA_NOT_FOUND' });
    const wrong = await validateSignatures({ document: Buffer.from(doc), detachedContent: Buffer.from('bilaga: 900 kr') }, kit.validatorOptions());
    expect(wrong.signatures[0]).toMatchObject({ status: 'invalid', reason: 'HASH_FAILURE' });
  });

  it('a comment inserted in signed text leaves the signature valid (outside exc-c14n) and is noted (§13 item 40)', async () => {
    const sealed = await createOrganisationSealer({ key: kit.sealKey('org-seal') }).seal({ document: Buffer.from(SAMPLE_XML), format: 'xml' });
    const withComment = Buffer.from(Buffer.from(sealed.bytes).toString('utf8').replace('<Belopp>100', '<Belopp>1<!--x-->00'));
    const report = await validateSignatures({ document: withComment }, kit.validatorOptions());
    expect(report.signatures[0]).toMatchObject({ status: 'valid', detail: 'the signed content contains comments, which are not signed' });
  });

  it('a signature over part of the document is indeterminate PARTIALLY_SIGNED, listing what it covers', async () => {
    const doc = '<Letter xmlns="urn:sandebud:test"><Content Id="c"><A>1</A></Content><B>2</B></Letter>';
    const sig = manualSignature({ id: 'p', references: [{ uri: '#c', transforms: [EXC_C14N], digest: digestOfElement(doc, 'c') }], keyPem: kit.keyPem('org-sign'), certificates: certsOf(kit, 'org-sign') });
    const report = await validateSignatures({ document: Buffer.from(envelop(doc, sig)) }, kit.validatorOptions());
    expect(report.verdict).toBe('indeterminate');
    expect(report.signatures[0]).toMatchObject({ reason: 'PARTIALLY_SIGNED', covers: { wholeDocument: false, parts: [{ uri: '#c', element: 'Content', whole: false }] } });
  });

  it('without a CRL for the signer the verdict is TRY_LATER, or unknown-but-valid when revocation is best effort', async () => {
    const sealed = await createOrganisationSealer({ key: kit.sealKey('org-seal') }).seal({ document: Buffer.from(SAMPLE_XML), format: 'xml' });
    const strict = await validateSignatures({ document: sealed.bytes }, kit.validatorOptions({ crls: [] }));
    expect(strict.signatures[0]).toMatchObject({ status: 'indeterminate', reason: 'TRY_LATER', revocation: { status: 'unknown' } });
    const relaxed = await validateSignatures({ document: sealed.bytes }, kit.validatorOptions({ crls: [], revocation: 'if-available' }));
    expect(relaxed.signatures[0]).toMatchObject({ status: 'valid', revocation: { status: 'unknown', source: null } });
  });

  it('uses a CRL fetcher only for distribution points and treats a failed fetch as TRY_LATER', async () => {
    const sealed = await createOrganisationSealer({ key: kit.sealKey('org-seal') }).seal({ document: Buffer.from(SAMPLE_XML), format: 'xml' });
    const calls: string[] = [];
    const report = await validateSignatures({ document: sealed.bytes }, kit.validatorOptions({ crls: [], crlFetcher: async (u) => (calls.push(u), null) }));
    expect(report.signatures[0]!.reason).toBe('TRY_LATER');
    expect(calls).toEqual([]); // dev certificates carry no CRL distribution point
  });

  it('an untrusted document with no trust anchors configured is never valid', async () => {
    const sealed = await createOrganisationSealer({ key: kit.sealKey('org-seal') }).seal({ document: Buffer.from(SAMPLE_XML), format: 'xml' });
    const report = await validateSignatures({ document: sealed.bytes }, { trustAnchors: [] });
    expect(report.signatures[0]).toMatchObject({ status: 'indeterminate', reason: 'NO_CERTIFICATE_CHAIN_FOUND', signer: { commonName: 'Sändebuds kommun (dev) seal' } });
  });

  it('a document with no signature is indeterminate NO_SIGNATURE_FOUND', async () => {
    const report = await validateSignatures({ document: Buffer.from(SAMPLE_XML) }, kit.validatorOptions());
    expect(report).toMatchObject({ verdict: 'indeterminate', reason: 'NO_SIGNATURE_FOUND', signatures: [] });
  });

  it('documentDigest matches what a URI="" reference digests', () => {
    expect(documentDigest('<a xmlns="urn:x"><b>1</b></a>')).toBe(createHash('sha256').update('<a xmlns="urn:x"><b>1</b></a>').digest('base64'));
  });
});

describe('organisation seal, CMS (CAdES-B-B detached)', () => {
  it('seals any bytes into a detached .p7s that validates as CAdES B-B with the content', async () => {
    const content = Buffer.from('%binary\x00\x01content');
    const sealed = await createOrganisationSealer({ key: kit.sealKey('org-seal') }).seal({ document: content, format: 'cms' });
    expect(sealed.detached).toBe(true);
    expect(detectFormat(sealed.bytes)).toBe('cms');
    const report = await validateSignatures({ document: sealed.bytes, detachedContent: content }, kit.validatorOptions());
    expect(report.signatures[0]).toMatchObject({
      status: 'valid',
      format: 'CAdES',
      level: 'B-B',
      signer: { commonName: 'Sändebuds kommun (dev) seal' },
      covers: { wholeDocument: true, parts: [{ type: 'content', attached: false, length: content.length }], signedContentSha256: createHash('sha256').update(content).digest('hex') },
    });
    expect(report.signatures[0]!.signedAt.claimed).not.toBeNull();
  });

  it('is accepted by openssl cms -verify with the dev CA and CRLs', async () => {
    const content = Buffer.from('avtal');
    const sealed = await createOrganisationSealer({ key: kit.sealKey('org-seal') }).seal({ document: content, format: 'cms' });
    await fs.writeFile(path.join(tmp, 'c.p7s'), sealed.bytes);
    await fs.writeFile(path.join(tmp, 'c.txt'), content);
    await fs.writeFile(path.join(tmp, 'anchors.pem'), kit.read(kit.pki.caBundleFile) + kit.read(kit.pki.crlFile('org')));
    const r = spawnSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', path.join(tmp, 'c.p7s'), '-content', path.join(tmp, 'c.txt'), '-CAfile', path.join(tmp, 'anchors.pem'), '-purpose', 'any', '-crl_check', '-out', '/dev/null'], { encoding: 'utf8' });
    expect(`${r.stderr}`).toContain('Verification successful');
  });
});

describe('ECDSA keys', () => {
  it('seals XML (r||s signature value), CMS and PDF with a P-256 key; each validates when that certificate is trusted', async () => {
    const ec = await ecSelfSignedKey();
    expect(ec.sealKey.keyType).toBe('EC');
    const sealer = createOrganisationSealer({ key: ec.sealKey });
    const opts = { trustAnchors: [ec.certPem], revocation: 'if-available' as const };
    const xml = await sealer.seal({ document: Buffer.from(SAMPLE_XML), format: 'xml' });
    expect(Buffer.from(xml.bytes).toString('utf8')).toContain('http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256');
    const cms = await sealer.seal({ document: Buffer.from('ec'), format: 'cms' });
    const pdf = await sealer.seal({ document: await makePdf('EC'), format: 'pdf' });
    for (const [doc, content] of [[xml.bytes, undefined], [cms.bytes, Buffer.from('ec')], [pdf.bytes, undefined]] as const) {
      const report = await validateSignatures({ document: doc, ...(content ? { detachedContent: content } : {}) }, opts);
      expect({ verdict: report.verdict, alg: report.signatures[0]!.algorithms.signature }).toEqual({ verdict: 'valid', alg: expect.stringMatching(/ecdsa/i) });
    }
  });
});

describe('CMS made by an independent signer (openssl)', () => {
  it('validates a detached openssl -cades signature as CAdES B-B, and an attached one as CMS', async () => {
    const content = path.join(tmp, 'o.txt');
    await fs.writeFile(content, 'hej från openssl');
    const common = ['-binary', '-md', 'sha256', '-in', content, '-signer', kit.pki.cert('org-sign'), '-inkey', kit.pki.key('org-sign'), '-outform', 'DER'];
    const detached = spawnSync('openssl', ['cms', '-sign', '-cades', ...common, '-out', path.join(tmp, 'o.p7s')], { encoding: 'utf8' });
    const attached = spawnSync('openssl', ['cms', '-sign', '-nodetach', ...common, '-out', path.join(tmp, 'o.p7m')], { encoding: 'utf8' });
    expect([detached.status, attached.status]).toEqual([0, 0]);
    const d = await validateSignatures({ document: await fs.readFile(path.join(tmp, 'o.p7s')), detachedContent: await fs.readFile(content) }, kit.validatorOptions());
    expect(d.signatures[0]).toMatchObject({ status: 'valid', format: 'CAdES', level: 'B-B', signer: { commonName: 'Sändebuds kommun (dev) signing' } });
    const a = await validateSignatures({ document: await fs.readFile(path.join(tmp, 'o.p7m')) }, kit.validatorOptions());
    expect(a.signatures[0]).toMatchObject({ status: 'valid', format: 'CMS', level: 'none', covers: { parts: [{ type: 'content', attached: true }] } });
  });
});

describe('organisation seal, PDF (PAdES-B-B)', () => {
  it('seals a PDF as an incremental update that validates as PAdES B-B covering the whole file', async () => {
    const pdf = await makePdf('Kvitto');
    const sealed = await createOrganisationSealer({ key: kit.sealKey('org-seal') }).seal({ document: pdf, format: 'pdf', reason: 'Kvitto från Sändebud' });
    const out = Buffer.from(sealed.bytes);
    expect(out.subarray(0, pdf.length).equals(pdf)).toBe(true); // the original revision is untouched
    const report = await validateSignatures({ document: out }, kit.validatorOptions());
    const sig = report.signatures[0]!;
    expect(sig).toMatchObject({ status: 'valid', format: 'PAdES', level: 'B-B', signer: { commonName: 'Sändebuds kommun (dev) seal' }, covers: { wholeDocument: true } });
    const part = sig.covers.parts[0];
    expect(part?.type === 'byte-range' && part.revisionEnd).toBe(out.length);
    expect(sig.signedAt.claimed).not.toBeNull();
    if (hasPdfsig) {
      const file = path.join(tmp, 'sealed.pdf');
      await fs.writeFile(file, out);
      const r = spawnSync('pdfsig', [file], { encoding: 'utf8' });
      expect(r.stdout).toContain('Total document signed');
      expect(r.stdout).toContain('Signature Validation: Signature is Valid.');
    }
  });

  it('seals a PDF that uses object streams, and a second seal keeps the first signature valid for its revision', async () => {
    const pdf = await makePdf('Två sigill', { objectStreams: true });
    const sealer = createOrganisationSealer({ key: kit.sealKey('org-seal') });
    const once = await sealer.seal({ document: pdf, format: 'pdf' });
    const twice = await sealer.seal({ document: once.bytes, format: 'pdf' });
    const report = await validateSignatures({ document: twice.bytes }, kit.validatorOptions());
    expect(report.signatures.map((s) => [s.status, s.reason])).toEqual([
      // The first signature is sound for its revision; later revisions are not classified as "safe" yet.
      ['indeterminate', 'PARTIALLY_SIGNED'],
      ['valid', 'TOTAL_PASSED'],
    ]);
  });
});
