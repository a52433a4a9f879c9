// Responses we reject, in the order of ../shared/specs/signing.md §5.3 (one stable code each; §13 items
// 12–24, 27). The misbehaving-service cases re-sign a modified response with the service's real key, so only
// our content checks can catch them. Runs against the simulator over real HTTPS.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createPrivateKey } from 'node:crypto';
import { createCentralSigningService, signDssMessage, type CentralSigningOptions } from '../../../adapters/signing/dss/index.js';
import type { SigningServiceSimulator } from '../../../adapters/signing/simulator/index.js';
import { parseCertificates } from '../../../adapters/signing/validation/pki.js';
import type { PersonalIdentityNumber } from '../../../src/domain/signing.js';
import type { CentralSigningService, PendingSignRequest, StartedSigning } from '../../../src/ports/signing.port.js';
import { browserRoundTrip, caFile, devCentralSigningOptions, loadSigningKit, OTHER_PNR, resignResponse, SAMPLE_XML, startDevSigningService, TEST_PNR, type SigningKit } from '../../fixtures/signing/kit.js';

const pnr = TEST_PNR as PersonalIdentityNumber;
let kit: SigningKit;
let sim: SigningServiceSimulator;
let service: CentralSigningService;
let options: CentralSigningOptions;
const cmsContent = Buffer.from('Bilaga: protokoll 2026-11-23');

beforeAll(async () => {
  kit = await loadSigningKit();
  sim = await startDevSigningService(kit);
  options = devCentralSigningOptions(kit, sim.url);
  service = createCentralSigningService(options);
});

afterAll(async () => {
  await sim?.close();
});

const roundTrip = async (started: StartedSigning, query = `signer=${TEST_PNR}`): Promise<Record<string, string>> => (await browserRoundTrip(kit, started, query)).fields;
const resign = (fields: Record<string, string>, mutate: (xml: string) => string): Record<string, string> => resignResponse(kit, fields, mutate);

const startOne = (format: 'xml' | 'cms' = 'cms'): Promise<StartedSigning> =>
  service.start({ personalIdentityNumber: pnr, documents: [{ title: 'Dokument', format, bytes: format === 'xml' ? Buffer.from(SAMPLE_XML) : cmsContent }] });

const complete = (fields: Record<string, string>, pending: PendingSignRequest, extra: { now?: Date; user?: string } = {}) =>
  service.complete({ form: fields, pending, personalIdentityNumber: (extra.user ?? TEST_PNR) as PersonalIdentityNumber, contents: { 'doc-1': cmsContent, 'doc-2': cmsContent }, ...(extra.now ? { now: extra.now } : {}) });

describe('responses we reject (§5.3, one stable code each)', () => {
  it('a different user is logged in when the response arrives → SIGNING_RESPONSE_SIGNER_MISMATCH', async () => {
    const started = await startOne();
    await expect(complete(await roundTrip(started), started.pending, { user: OTHER_PNR })).rejects.toMatchObject({ code: 'SIGNING_RESPONSE_SIGNER_MISMATCH' });
  });

  it('a response signed by another key, even one carried in KeyInfo → SIGNING_RESPONSE_SIGNATURE_INVALID (§13 item 12)', async () => {
    const started = await startOne();
    const fields = await roundTrip(started);
    const xml = Buffer.from(fields['EidSignResponse']!, 'base64').toString('utf8').replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '');
    const forged = signDssMessage(xml, 'OptionalOutputs', { key: createPrivateKey(kit.keyPem('peer1-sign')), keyType: 'RSA', certificate: parseCertificates(kit.certPem('peer1-sign'))[0]!.der });
    await expect(complete({ ...fields, EidSignResponse: Buffer.from(forged).toString('base64') }, started.pending)).rejects.toMatchObject({ code: 'SIGNING_RESPONSE_SIGNATURE_INVALID' });
  });

  it('a response changed after signing, or with its signature moved out of OptionalOutputs → SIGNING_RESPONSE_SIGNATURE_INVALID (§13 item 13)', async () => {
    const started = await startOne();
    const fields = await roundTrip(started);
    const xml = Buffer.from(fields['EidSignResponse']!, 'base64').toString('utf8');
    const changed = xml.replace('loa/1.0/loa3<', 'loa/1.0/loa4<');
    await expect(complete({ ...fields, EidSignResponse: Buffer.from(changed).toString('base64') }, started.pending)).rejects.toMatchObject({ code: 'SIGNING_RESPONSE_SIGNATURE_INVALID' });
    const moved = xml.replace(/(<ds:Signature[\s\S]*<\/ds:Signature>)(<\/dss:OptionalOutputs>)/, '$2$1');
    await expect(complete({ ...fields, EidSignResponse: Buffer.from(moved).toString('base64') }, started.pending)).rejects.toMatchObject({ code: 'SIGNING_RESPONSE_SIGNATURE_INVALID' });
  });

  it('RelayState or RequestID of another request → SIGNING_RESPONSE_REQUEST_MISMATCH (§13 item 14)', async () => {
    const a = await startOne();
    const b = await startOne();
    const fields = await roundTrip(a);
    await expect(complete({ ...fields, RelayState: b.requestId }, a.pending)).rejects.toMatchObject({ code: 'SIGNING_RESPONSE_REQUEST_MISMATCH' });
    await expect(complete(fields, b.pending)).rejects.toMatchObject({ code: 'SIGNING_RESPONSE_REQUEST_MISMATCH' });
  });

  it('version, IdP and sign-message digest must match what we sent (§13 items 15, 17, 20)', async () => {
    const started = await startOne();
    const fields = await roundTrip(started);
    await expect(complete(fields, { ...started.pending, version: '1.4' })).rejects.toMatchObject({ code: 'SIGNING_RESPONSE_VERSION_MISMATCH' });
    await expect(complete(fields, { ...started.pending, identityProvider: 'https://other-idp' })).rejects.toMatchObject({ code: 'SIGNING_RESPONSE_IDP_MISMATCH' });
    await expect(complete(fields, { ...started.pending, signMessage: 'Något annat' })).rejects.toMatchObject({ code: 'SIGNING_RESPONSE_SIGN_MESSAGE_MISMATCH' });
  });

  it('a response older than 3 minutes → SIGNING_RESPONSE_STALE (§13 item 16)', async () => {
    const started = await startOne();
    const fields = await roundTrip(started);
    await expect(complete(fields, started.pending, { now: new Date(Date.now() + 5 * 60_000) })).rejects.toMatchObject({ code: 'SIGNING_RESPONSE_STALE' });
  });

  it('a LoA we did not ask for (loa2), from a genuinely signed response → SIGNING_RESPONSE_LOA_TOO_LOW (§13 item 18)', async () => {
    const started = await startOne();
    const fields = resign(await roundTrip(started), (x) => x.replace('loa/1.0/loa3</saml:AuthnContextClassRef>', 'loa/1.0/loa2</saml:AuthnContextClassRef>'));
    await expect(complete(fields, started.pending)).rejects.toMatchObject({ code: 'SIGNING_RESPONSE_LOA_TOO_LOW', status: 403 });
  });

  it('a swapped personnummer in the assertion → SIGNING_RESPONSE_SIGNER_MISMATCH (§13 item 19)', async () => {
    const started = await startOne();
    const fields = resign(await roundTrip(started), (x) => x.replace(`>${TEST_PNR}</saml:AttributeValue>`, `>${OTHER_PNR}</saml:AttributeValue>`));
    await expect(complete(fields, started.pending)).rejects.toMatchObject({ code: 'SIGNING_RESPONSE_SIGNER_MISMATCH' });
  });

  it('a signer certificate from a CA we do not trust → SIGNING_RESPONSE_CERTIFICATE_REJECTED; the returned chain is never an anchor (§13 item 21)', async () => {
    const strict = createCentralSigningService({ ...options, signerTrustAnchors: [kit.read(caFile(kit, 'org-ca'))] });
    const started = await strict.start({ personalIdentityNumber: pnr, documents: [{ title: 'x', format: 'cms', bytes: cmsContent }] });
    const fields = await roundTrip(started);
    await expect(strict.complete({ form: fields, pending: started.pending, personalIdentityNumber: pnr, contents: { 'doc-1': cmsContent } })).rejects.toMatchObject({ code: 'SIGNING_RESPONSE_CERTIFICATE_REJECTED' });
  });

  it('a missing task result → SIGNING_RESPONSE_TASKS_MISMATCH (§13 item 23)', async () => {
    const started = await service.start({ personalIdentityNumber: pnr, documents: [{ title: 'a', format: 'cms', bytes: cmsContent }, { title: 'b', format: 'cms', bytes: cmsContent }] });
    const fields = resign(await roundTrip(started), (x) => x.replace(/<csig:SignTaskData SignTaskId="doc-2"[\s\S]*?<\/csig:SignTaskData>/, ''));
    await expect(complete(fields, started.pending)).rejects.toMatchObject({ code: 'SIGNING_RESPONSE_TASKS_MISMATCH' });
  });

  it('an XML SignedInfo whose document Reference was changed → SIGNING_RESPONSE_DATA_CHANGED (§13 item 24)', async () => {
    const started = await startOne('xml');
    const fields = resign(await roundTrip(started), (x) =>
      x.replace(/(<csig:ToBeSignedBytes>)([^<]+)(<\/csig:ToBeSignedBytes>)/, (_m, a: string, b64: string, c: string) => {
        const si = Buffer.from(b64, 'base64').toString('utf8').replace(/(<ds:DigestValue>)[^<]+(<\/ds:DigestValue>)/, '$1AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=$2');
        return `${a}${Buffer.from(si).toString('base64')}${c}`;
      }),
    );
    await expect(complete(fields, started.pending)).rejects.toMatchObject({ code: 'SIGNING_RESPONSE_DATA_CHANGED' });
  });

  it('CMS signed attributes with another messageDigest → SIGNING_RESPONSE_DATA_CHANGED (§13 item 27)', async () => {
    const started = await startOne('cms');
    const other = await service.start({ personalIdentityNumber: pnr, documents: [{ title: 'y', format: 'cms', bytes: Buffer.from('other content') }] });
    // Put the other request's (validly formed) SignedAttrs into this response.
    const foreign = other.pending.tasks[0]!.toBeSignedBytes;
    const fields = resign(await roundTrip(started), (x) => x.replace(/<csig:ToBeSignedBytes>[^<]+<\/csig:ToBeSignedBytes>/, `<csig:ToBeSignedBytes>${foreign}</csig:ToBeSignedBytes>`));
    await expect(complete(fields, started.pending)).rejects.toMatchObject({ code: 'SIGNING_RESPONSE_DATA_CHANGED' });
  });
});
