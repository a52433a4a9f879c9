// Domain rules (../shared/specs/signing.md §8 serialNumber forms, §9.3 verdict mapping) and the
// `sandebud signature validate` core (§9.3: the CLI prints status, reason, signer, signedAt, chain; offline).
import { beforeAll, describe, expect, it } from '@jest/globals';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { documentVerdict, parsePersonalIdentityNumber, personalIdentityNumberFromSerialNumber, verdictFor, type SignatureReport } from '../../../src/domain/signing.js';
import { createOrganisationSealer } from '../../../adapters/signing/seal/index.js';
import { signatureValidateCommand } from '../../../adapters/signing/validation/cli.js';
import { loadSigningKit, makePdf, SAMPLE_XML, TEST_PNR, type SigningKit } from '../../fixtures/signing/kit.js';

describe('personal identity numbers (§8, §12 item 9)', () => {
  it('accepts 12-digit personnummer and samordningsnummer with a valid check digit', () => {
    expect(parsePersonalIdentityNumber(TEST_PNR)).toBe(TEST_PNR);
    expect(parsePersonalIdentityNumber('195207306886')).toBe('195207306886');
    expect(parsePersonalIdentityNumber('197802631874')).toBe('197802631874'); // samordningsnummer: day + 60
    expect(parsePersonalIdentityNumber('197802631875')).toBeNull(); // same shape, wrong check digit
  });

  it('rejects wrong check digits, impossible dates and other shapes', () => {
    expect(parsePersonalIdentityNumber('197802031878')).toBeNull();
    expect(parsePersonalIdentityNumber('197813031877')).toBeNull();
    expect(parsePersonalIdentityNumber('7802031877')).toBeNull();
    expect(parsePersonalIdentityNumber('19780203-1877')).toBeNull();
  });

  it('reads a certificate serialNumber verbatim or with the PNOSE- semantics identifier', () => {
    expect(personalIdentityNumberFromSerialNumber(TEST_PNR)).toBe(TEST_PNR);
    expect(personalIdentityNumberFromSerialNumber(`PNOSE-${TEST_PNR}`)).toBe(TEST_PNR);
    expect(personalIdentityNumberFromSerialNumber('PI:SE-NO:16043700158')).toBeNull();
    expect(personalIdentityNumberFromSerialNumber(undefined)).toBeNull();
  });
});

describe('verdicts (§9.3)', () => {
  const sig = (reason: Parameters<typeof verdictFor>[0]): SignatureReport => ({ ...verdictFor(reason) }) as SignatureReport;

  it('maps sub-indications to verdicts with ETSI URIs and Swedish/English text', () => {
    expect(verdictFor('HASH_FAILURE')).toEqual({
      status: 'invalid',
      reason: 'HASH_FAILURE',
      reasonText: { sv: 'Dokumentet har ändrats efter underskrift.', en: 'The document was changed after it was signed.' },
      etsi: { main: 'TOTAL_FAILED', sub: ['urn:etsi:019102:subindication:HASH_FAILURE'] },
    });
    expect(verdictFor('REVOKED_NO_POE').status).toBe('indeterminate');
    expect(verdictFor('PARTIALLY_SIGNED').etsi.sub).toEqual(['http://id.swedenconnect.se/sigval-report/subindication/partially-signed']);
  });

  it('a document is valid only if it has signatures and all are valid; any invalid makes it invalid', () => {
    expect(documentVerdict([])).toEqual({ verdict: 'indeterminate', reason: 'NO_SIGNATURE_FOUND' });
    expect(documentVerdict([sig('TOTAL_PASSED'), sig('TOTAL_PASSED')])).toEqual({ verdict: 'valid', reason: 'TOTAL_PASSED' });
    expect(documentVerdict([sig('TOTAL_PASSED'), sig('TRY_LATER')])).toEqual({ verdict: 'indeterminate', reason: 'TRY_LATER' });
    expect(documentVerdict([sig('TRY_LATER'), sig('HASH_FAILURE')])).toEqual({ verdict: 'invalid', reason: 'HASH_FAILURE' });
  });
});

describe('signatureValidateCommand', () => {
  let kit: SigningKit;
  let dir: string;
  let defaults: { defaultTrustFiles: string[]; defaultCrlFiles: string[] };
  const run = async (argv: string[], opts = defaults): Promise<{ code: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const code = await signatureValidateCommand(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } }, opts);
    return { code, out, err };
  };

  beforeAll(async () => {
    kit = await loadSigningKit();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sandebud-cli-'));
    defaults = { defaultTrustFiles: [kit.pki.caBundleFile], defaultCrlFiles: [kit.pki.crlFile('org')] };
    const sealer = createOrganisationSealer({ key: kit.sealKey('org-seal') });
    await fs.writeFile(path.join(dir, 'kvitto.xml'), (await sealer.seal({ document: Buffer.from(SAMPLE_XML), format: 'xml' })).bytes);
    await fs.writeFile(path.join(dir, 'kvitto.pdf'), (await sealer.seal({ document: await makePdf(), format: 'pdf' })).bytes);
    await fs.writeFile(path.join(dir, 'bilaga.txt'), 'bilaga');
    await fs.writeFile(path.join(dir, 'bilaga.p7s'), (await sealer.seal({ document: Buffer.from('bilaga'), format: 'cms' })).bytes);
    const xml = await fs.readFile(path.join(dir, 'kvitto.xml'), 'utf8');
    await fs.writeFile(path.join(dir, 'tampered.xml'), xml.replace('<Belopp>100', '<Belopp>900'));
  });

  it('prints one JSON report with status, reason, signer, signedAt and chain, and exits 0 for a valid file', async () => {
    const r = await run(['signature', 'validate', path.join(dir, 'kvitto.xml')]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as { verdict: string; signatures: Array<Record<string, unknown>> };
    expect(report.verdict).toBe('valid');
    expect(Object.keys(report.signatures[0]!)).toEqual(expect.arrayContaining(['status', 'reason', 'signer', 'signedAt', 'chain']));
    expect(report.signatures[0]).toMatchObject({ status: 'valid', signer: { commonName: 'Sändebuds kommun (dev) seal' } });
  });

  it('validates PDF and detached CMS (with --content) offline', async () => {
    expect((await run([path.join(dir, 'kvitto.pdf')])).code).toBe(0);
    const p7s = await run([path.join(dir, 'bilaga.p7s'), '--content', path.join(dir, 'bilaga.txt')]);
    expect(p7s.code).toBe(0);
    expect((JSON.parse(p7s.out) as { signatures: Array<{ format: string }> }).signatures[0]!.format).toBe('CAdES');
    const noContent = await run([path.join(dir, 'bilaga.p7s')]);
    expect(noContent.code).toBe(2);
  });

  it('exits 1 for a tampered file and 2 when the trust anchor given does not fit', async () => {
    expect((await run([path.join(dir, 'tampered.xml')])).code).toBe(1);
    const r = await run([path.join(dir, 'kvitto.xml'), '--trust', path.join(kit.pki.dir, 'tls-ca.crt')]);
    expect(r.code).toBe(2);
    expect((JSON.parse(r.out) as { reason: string }).reason).toBe('NO_CERTIFICATE_CHAIN_FOUND');
  });

  it('reports TRY_LATER without CRLs, and best-effort revocation with --no-revocation', async () => {
    const none = { defaultTrustFiles: [kit.pki.caBundleFile], defaultCrlFiles: [] };
    expect((await run([path.join(dir, 'kvitto.xml')], none)).code).toBe(2);
    expect((await run([path.join(dir, 'kvitto.xml'), '--no-revocation'], none)).code).toBe(0);
    expect((await run([path.join(dir, 'kvitto.xml'), `--crl=${kit.pki.crlFile('org')}`], none)).code).toBe(0);
  });

  it('answers usage errors with 64 and unreadable files with 66', async () => {
    expect((await run([])).code).toBe(64);
    expect((await run(['a.xml', 'b.xml'])).code).toBe(64);
    expect((await run(['a.xml', '--trust'])).code).toBe(64);
    expect((await run(['a.xml', '--bogus'])).code).toBe(64);
    const missing = await run([path.join(dir, 'nope.xml')]);
    expect(missing.code).toBe(66);
    expect(missing.err).toContain('cannot read file');
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('usage: sandebud signature validate');
  });
});
