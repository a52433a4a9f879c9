// Central signing round trip over real HTTPS against the signing-service simulator (../shared/specs/signing.md
// §2 flow, §4 binding, §6 assembly, §13 items 26–29), and the simulator's own refusals. The rejections of bad
// responses (§5.3) are in central-signing-rejections.test.ts.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createPrivateKey } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createCentralSigningService, signDssMessage, type CentralSigningOptions } from '../../../adapters/signing/dss/index.js';
import type { SigningServiceSimulator } from '../../../adapters/signing/simulator/index.js';
import { parseCertificates } from '../../../adapters/signing/validation/pki.js';
import { validateSignatures } from '../../../adapters/signing/validation/index.js';
import type { PersonalIdentityNumber } from '../../../src/domain/signing.js';
import type { CentralSigningService, PendingSignRequest, StartedSigning } from '../../../src/ports/signing.port.js';
import { browserRoundTrip, caFile, devCentralSigningOptions, loadSigningKit, makePdf, OTHER_PNR, postForm, SAMPLE_XML, startDevSigningService, TEST_PNR, xmlsec1Available, xmlsec1Verify, type SigningKit } from '../../fixtures/signing/kit.js';

const pnr = TEST_PNR as PersonalIdentityNumber;
const hasXmlsec1 = xmlsec1Available();
if (!hasXmlsec1) console.warn('SKIPPED xmlsec1 check of the assembled XAdES: xmlsec1 not found (apt-get install -y xmlsec1)');

let kit: SigningKit;
let sim: SigningServiceSimulator;
let service: CentralSigningService;
let options: CentralSigningOptions;
const cmsContent = Buffer.from('Bilaga: protokoll 2026-11-23');

beforeAll(async () => {
  kit = await loadSigningKit();
  sim = await startDevSigningService(kit, { requireSignedRequests: true });
  options = devCentralSigningOptions(kit, sim.url);
  service = createCentralSigningService(options);
});

afterAll(async () => {
  await sim?.close();
});

async function roundTrip(started: StartedSigning, query = `signer=${TEST_PNR}`): Promise<Record<string, string>> {
  const form = await browserRoundTrip(kit, started, query);
  expect(form.action).toBe(options.responseUrl); // §4: posted back to our Audience only
  return form.fields;
}

const startOne = (): Promise<StartedSigning> => service.start({ personalIdentityNumber: pnr, documents: [{ title: 'Dokument', format: 'cms', bytes: cmsContent }] });

const complete = (fields: Record<string, string>, pending: PendingSignRequest, extra: { user?: string } = {}) =>
  service.complete({ form: fields, pending, personalIdentityNumber: (extra.user ?? TEST_PNR) as PersonalIdentityNumber, contents: { 'doc-1': cmsContent, 'doc-3': cmsContent } });

describe('central signing round trip (XML, PDF, CMS in one request)', () => {
  it('signs all three documents; each validates with the person as signer, LoA and IdP from the certificate', async () => {
    const before = sim.received.length;
    const started = await service.start({
      personalIdentityNumber: pnr,
      caseReference: 'SN 2026/4',
      documents: [
        { title: 'Beslut.xml', format: 'xml', bytes: Buffer.from(SAMPLE_XML) },
        { title: 'Beslut.pdf', format: 'pdf', bytes: await makePdf('Beslut om bistånd') },
        { title: 'Bilaga.txt', format: 'cms', bytes: cmsContent },
      ],
    });
    const fields = await roundTrip(started);
    const pending = JSON.parse(JSON.stringify(started.pending)) as PendingSignRequest; // as stored in the database
    const done = await complete(fields, pending);
    expect(sim.received.slice(before).map((r) => [r.requestId, r.tasks.length, r.requestedSigner !== null])).toEqual([[started.requestId, 3, true]]);
    expect(done).toMatchObject({ requestId: started.requestId, loa: 'http://id.elegnamnden.se/loa/1.0/loa3', identityProvider: 'https://idp.dev/idp', signer: { personalIdentityNumber: TEST_PNR, givenName: 'Tess', surname: 'Testsson' } });
    expect(done.documents.map((d) => [d.taskId, d.format, d.detached, d.report.verdict, d.report.signatures[0]!.format, d.report.signatures[0]!.level])).toEqual([
      ['doc-1', 'xml', false, 'valid', 'XAdES', 'B-B'],
      ['doc-2', 'pdf', false, 'valid', 'PAdES', 'B-B'],
      ['doc-3', 'cms', true, 'valid', 'CAdES', 'B-B'],
    ]);
    for (const d of done.documents) {
      const s = d.report.signatures[0]!;
      expect(s.signer).toMatchObject({ personnummer: TEST_PNR, serialNumber: TEST_PNR, givenName: 'Tess', surname: 'Testsson', keyUsage: ['nonRepudiation'] });
      expect(s.authContext).toMatchObject({ idp: 'https://idp.dev/idp', loa: 'http://id.elegnamnden.se/loa/1.0/loa3', serviceId: 'https://sign.dev/sigservice' });
      expect(s.chain.map((c) => c.subject.split('CN=')[1])).toEqual(['Tess Testsson', 'Underskriftstjänst (dev) Signer CA', 'Sändebud Dev Signing CA']);
    }
    // The original PDF revision is kept byte for byte under the signature (§6.2 step 1).
    const pdf = Buffer.from(done.documents[1]!.bytes);
    expect(pdf.includes(Buffer.from('/SubFilter /ETSI.CAdES.detached'))).toBe(true);

    // Validated again from scratch by the generic validator (as a receiver would), trusting the dev CAs.
    const again = await validateSignatures({ document: done.documents[0]!.bytes }, kit.validatorOptions({ revocation: 'if-available' }));
    expect(again.verdict).toBe('valid');
    if (hasXmlsec1) {
      const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'sandebud-dss-')), 'signed.xml');
      await fs.writeFile(file, done.documents[0]!.bytes);
      expect(xmlsec1Verify(kit, file, { untrusted: [caFile(kit, 'signing-ca')], xades: true })).toMatchObject({ ok: true });
    }
  });
});

describe('the simulator itself', () => {
  it('refuses a SignRequest not signed by a known requester', async () => {
    const started = await startOne();
    const xml = Buffer.from(started.form.fields.EidSignRequest, 'base64').toString('utf8').replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '');
    const forged = signDssMessage(xml, 'OptionalInputs', { key: createPrivateKey(kit.keyPem('peer1-sign')), keyType: 'RSA', certificate: parseCertificates(kit.certPem('peer1-sign'))[0]!.der });
    const res = await postForm(`${sim.url}?signer=${TEST_PNR}`, { ...started.form.fields, EidSignRequest: Buffer.from(forged).toString('base64') }, kit.read(kit.pki.caBundleFile));
    expect(res).toEqual({ status: 400, body: 'the SignRequest is not signed by a known requester' });
  });

  it('refuses a RelayState that is not the RequestID, and a DOCTYPE', async () => {
    const started = await startOne();
    const ca = kit.read(kit.pki.caBundleFile);
    expect((await postForm(sim.url, { ...started.form.fields, RelayState: 'other' }, ca)).status).toBe(400);
    const withDtd = Buffer.from(`<!DOCTYPE x [<!ENTITY e "e">]>${Buffer.from(started.form.fields.EidSignRequest, 'base64').toString('utf8')}`).toString('base64');
    expect((await postForm(sim.url, { ...started.form.fields, EidSignRequest: withDtd }, ca)).body).toBe('DOCTYPE not allowed');
  });
});

describe('outcomes the service reports (§5.2)', () => {
  it('user cancelled → SIGNING_USER_CANCELLED', async () => {
    const started = await startOne();
    await expect(complete(await roundTrip(started, 'scenario=user-cancel'), started.pending)).rejects.toMatchObject({ code: 'SIGNING_USER_CANCELLED', status: 409 });
  });

  it('another person authenticated at the service → SIGNING_USER_MISMATCH (the service matched csig:Signer)', async () => {
    const started = await startOne();
    await expect(complete(await roundTrip(started, `signer=${OTHER_PNR}`), started.pending)).rejects.toMatchObject({ code: 'SIGNING_USER_MISMATCH', status: 403 });
  });

});
