// Assembly checks of returned sign tasks (../shared/specs/signing.md §6.1 step 4, §6.2 step 3, §12 items 4
// and 19, §13 items 24–27). The "service" here is played locally with a dev key so each field can be bent
// on purpose; the happy path is covered over HTTPS in test/integration/signing-adapters.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, createPrivateKey, sign as cryptoSign } from 'node:crypto';
import {
  addSignedPropertiesReference,
  buildQualifyingPropertiesObject,
  buildSignedAttributes,
  CMS_OID,
  withEssSigningCertificateV2,
} from '../../../adapters/signing/seal/index.js';
import { prepareSignTask, assembleSignedTask, type AssemblyContext } from '../../../adapters/signing/dss/sign-task.mapper.js';
import type { ParsedSignTask } from '../../../adapters/signing/dss/sign-response.mapper.js';
import { parseCertificates, type Cert } from '../../../adapters/signing/validation/pki.js';
import { validateSignatures } from '../../../adapters/signing/validation/index.js';
import type { PendingSignTask } from '../../../src/ports/signing.port.js';
import { loadSigningKit, makePdf, SAMPLE_XML, type SigningKit } from '../../fixtures/signing/kit.js';
import { readSignedAttributes } from '../../../adapters/signing/seal/cms.builder.js';
import { oid, seq, setOf } from '../../../adapters/signing/seal/der.js';

const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
let kit: SigningKit;
let chain: Cert[];
let otherCert: Cert;
let keyPem: string;
const requestTime = new Date(Date.now() - 30_000);
const responseTime = new Date();
let ctx: AssemblyContext;

beforeAll(async () => {
  kit = await loadSigningKit();
  // org-sign plays the one-time signer certificate; its chain ends below the dev root.
  chain = parseCertificates(kit.certPem('org-sign'));
  otherCert = parseCertificates(kit.certPem('peer1-sign'))[0]!;
  keyPem = kit.keyPem('org-sign');
  ctx = { chain, requestTime, responseTime, skewMs: 60_000, signatureAlgorithm: RSA_SHA256 };
});

const sign = (data: Buffer | string): Buffer => cryptoSign('sha256', Buffer.from(data), createPrivateKey(keyPem));

/** What a BES-capable service returns for an XML task, with knobs to misbehave. */
async function xmlAnswer(opts: { signingTime?: Date; certForProps?: Cert; mangleSignedInfo?: (si: string) => string } = {}): Promise<{ pending: PendingSignTask; returned: ParsedSignTask }> {
  const { pending, request } = await prepareSignTask({ title: 'x', format: 'xml', bytes: Buffer.from(SAMPLE_XML) }, 't1', RSA_SHA256, requestTime);
  const obj = buildQualifyingPropertiesObject({ signatureId: request.signatureId!, signingTime: opts.signingTime ?? new Date(responseTime.getTime() - 1000), signerCertificate: (opts.certForProps ?? chain[0]!).der });
  let si = addSignedPropertiesReference(Buffer.from(request.toBeSignedBytes).toString('utf8'), obj.signedPropertiesId, obj.signedPropertiesDigest);
  if (opts.mangleSignedInfo) si = opts.mangleSignedInfo(si);
  return {
    pending,
    returned: { taskId: 't1', sigType: 'XML', adesType: 'BES', toBeSignedBytes: Buffer.from(si, 'utf8'), signatureId: request.signatureId!, adesObjectBytes: Buffer.from(obj.xml, 'utf8'), signature: sign(si), signatureType: RSA_SHA256 },
  };
}

describe('XML task assembly (§6.1 step 4)', () => {
  it('assembles a XAdES document that our validator accepts', async () => {
    const { pending, returned } = await xmlAnswer();
    const out = assembleSignedTask(pending, returned, ctx);
    const report = await validateSignatures({ document: out.bytes }, kit.validatorOptions());
    expect(report.signatures[0]).toMatchObject({ status: 'valid', format: 'XAdES', level: 'B-B', signer: { commonName: 'Sändebuds kommun (dev) signing' } });
  });

  it('rejects a SigningTime outside [RequestTime − skew, ResponseTime + skew] (§12 item 19)', async () => {
    const early = await xmlAnswer({ signingTime: new Date(requestTime.getTime() - 10 * 60_000) });
    expect(() => assembleSignedTask(early.pending, early.returned, ctx)).toThrow('SigningTime lies outside');
    const late = await xmlAnswer({ signingTime: new Date(responseTime.getTime() + 10 * 60_000) });
    expect(() => assembleSignedTask(late.pending, late.returned, ctx)).toThrow('SigningTime lies outside');
  });

  it('rejects a SigningCertificateV2 that names another certificate (§13 item 25)', async () => {
    const { pending, returned } = await xmlAnswer({ certForProps: otherCert });
    expect(() => assembleSignedTask(pending, returned, ctx)).toThrow('SigningCertificate does not match');
  });

  it('rejects SignedInfo bytes that are not canonical, as the reference response sends them (§12 item 4)', async () => {
    const { pending, returned } = await xmlAnswer({ mangleSignedInfo: (si) => `<?xml version="1.0" encoding="UTF-8"?>${si.replace('><ds:SignatureMethod', '>\n<ds:SignatureMethod')}` });
    expect(() => assembleSignedTask(pending, returned, ctx)).toThrow('Base64Signature does not verify');
  });

  it('rejects an extra Reference, a changed document digest, and an unexpected algorithm (§13 item 24)', async () => {
    const extra = await xmlAnswer({ mangleSignedInfo: (si) => si.replace('</ds:SignedInfo>', '<ds:Reference URI="#other"><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"></ds:DigestMethod><ds:DigestValue>AA==</ds:DigestValue></ds:Reference></ds:SignedInfo>') });
    expect(() => assembleSignedTask(extra.pending, extra.returned, ctx)).toThrow('more than one Reference');
    const digest = await xmlAnswer({ mangleSignedInfo: (si) => si.replace(/<ds:DigestValue>[^<]+/, '<ds:DigestValue>AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=') });
    expect(() => assembleSignedTask(digest.pending, digest.returned, ctx)).toThrow('document Reference was changed');
    const ok = await xmlAnswer();
    expect(() => assembleSignedTask(ok.pending, { ...ok.returned, signatureType: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1' }, ctx)).toThrow('is not the one requested');
    expect(() => assembleSignedTask(ok.pending, { ...ok.returned, sigType: 'PDF' }, ctx)).toThrow('SigType PDF differs');
  });
});

describe('PDF and CMS task assembly (§6.2 step 3)', () => {
  async function pdfAnswer(mutate: (attrs: Buffer) => Buffer = (a) => a): Promise<{ pending: PendingSignTask; returned: ParsedSignTask }> {
    const { pending, request } = await prepareSignTask({ title: 'p', format: 'pdf', bytes: await makePdf() }, 'p1', RSA_SHA256, requestTime);
    const attrs = mutate(withEssSigningCertificateV2(request.toBeSignedBytes, chain[0]!.der));
    return { pending, returned: { taskId: 'p1', sigType: 'PDF', adesType: 'BES', toBeSignedBytes: attrs, signature: sign(attrs) } };
  }

  it('embeds the CMS into the stored prepared bytes; the result is a valid PAdES B-B', async () => {
    const { pending, returned } = await pdfAnswer();
    const out = assembleSignedTask(pending, returned, ctx);
    expect(pending.format === 'pdf' && out.bytes.subarray(0, pending.byteRange[1]).equals(Buffer.from(pending.preparedPdf, 'base64').subarray(0, pending.byteRange[1]))).toBe(true);
    const report = await validateSignatures({ document: out.bytes }, kit.validatorOptions());
    expect(report.signatures[0]).toMatchObject({ status: 'valid', format: 'PAdES', level: 'B-B' });
  });

  it('rejects another messageDigest, an unknown added attribute, and an ESS hash of another certificate (§13 item 27)', async () => {
    const otherDigest = buildSignedAttributes({ contentDigest: createHash('sha256').update('x').digest(), signingCertificate: chain[0]!.der });
    const md = await pdfAnswer(() => otherDigest);
    expect(() => assembleSignedTask(md.pending, md.returned, ctx)).toThrow('messageDigest does not match');
    const extra = await pdfAnswer((a) => setOf([...readSignedAttributes(a).map((x) => x.raw), seq(oid('1.2.3.4'), setOf([oid('1.2.3.5')]))]));
    expect(() => assembleSignedTask(extra.pending, extra.returned, ctx)).toThrow('changed signed attribute 1.2.3.4');
    const ess = await pdfAnswer((a) => withEssSigningCertificateV2(a, otherCert.der));
    expect(() => assembleSignedTask(ess.pending, ess.returned, ctx)).toThrow('ESS signing-certificate-v2 does not match');
  });

  it('assembles a detached CAdES .p7s for a CMS task and keeps the requested signing-time', async () => {
    const content = Buffer.from('bilaga');
    const { pending, request } = await prepareSignTask({ title: 'c', format: 'cms', bytes: content }, 'c1', RSA_SHA256, requestTime);
    expect(readSignedAttributes(request.toBeSignedBytes).map((a) => a.type)).toContain(CMS_OID.signingTime);
    const attrs = withEssSigningCertificateV2(request.toBeSignedBytes, chain[0]!.der);
    const out = assembleSignedTask(pending, { taskId: 'c1', sigType: 'CMS', adesType: 'BES', toBeSignedBytes: attrs, signature: sign(attrs) }, ctx);
    expect(out.detached).toBe(true);
    const report = await validateSignatures({ document: out.bytes, detachedContent: content }, kit.validatorOptions());
    expect(report.signatures[0]).toMatchObject({ status: 'valid', format: 'CAdES', level: 'B-B' });
  });

  it('rejects a signature value that does not verify over the returned attributes', async () => {
    const { pending, returned } = await pdfAnswer();
    expect(() => assembleSignedTask(pending, { ...returned, signature: sign('something else') }, ctx)).toThrow('Base64Signature does not verify');
  });
});
