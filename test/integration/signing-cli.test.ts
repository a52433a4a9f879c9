// `sandebud signature validate` (issue 8 "Validation": offline, no gateway; `--trust` ADDS anchors to the configured
// ones; one JSON object with signatures[] holding status, reason, signer, signedAt, chain; exit status by verdict).
// Files are sealed with the configured development keys (certs-dev, the CLI's default TRUST_CA_FILE) and with a
// throwaway self-signed key. The binary is run twice as a user runs it; the other cases call the same dispatcher
// in-process (each spawn costs seconds on a shared machine).
import { execFile } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createOrganisationSealer, sealKeyFromPem } from '../../adapters/signing/index.js';
import { loadConfig, resolvePath } from '../../src/config/index.js';
import { run as runCli } from '../../src/cli/sandebud.js';
import { ROOT } from '../../src/main.js';
import { makePdf, SAMPLE_XML, selfSignedKey } from '../fixtures/signing/kit.js';

const exec = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, '../../bin/sandebud.js');

interface CliReport { verdict: string; reason: string; documentSha256: string; signatures: { status: string; reason: string; signer: Record<string, string> | null; signedAt: { claimed: string | null }; chain: { subject: string; trustAnchor: boolean }[] }[] }

describe('sandebud signature validate', () => {
  let dir: string;
  const file = (name: string) => path.join(dir, name);
  const cli = async (...argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['signature', ...argv], { stdout: (s) => { stdout += s; }, stderr: (s) => { stderr += s; } });
    return { code, stdout, stderr };
  };
  const report = (stdout: string) => JSON.parse(stdout) as CliReport;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sandebud-sigcli-'));
    const config = loadConfig({ NODE_ENV: 'test' }, ROOT);
    const certsDir = resolvePath(config, config.CERTS_DIR);
    const pem = (f: string) => readFileSync(resolvePath(config, f), 'utf8');
    const org = createOrganisationSealer({ key: sealKeyFromPem(pem(config.ORG_SEAL_CERT_FILE), pem(config.ORG_SEAL_KEY_FILE)) });
    const revoked = createOrganisationSealer({ key: sealKeyFromPem(readFileSync(path.join(certsDir, 'revoked-sign.crt'), 'utf8'), readFileSync(path.join(certsDir, 'revoked-sign.key'), 'utf8')) });
    const self = await selfSignedKey();
    const xml = Buffer.from(SAMPLE_XML);
    const sealedXml = (await org.seal({ document: xml, format: 'xml' })).bytes;
    await fs.writeFile(file('sealed.xml'), sealedXml);
    await fs.writeFile(file('tampered.xml'), Buffer.from(Buffer.from(sealedXml).toString('utf8').replace('<Belopp>100</Belopp>', '<Belopp>999</Belopp>')));
    await fs.writeFile(file('sealed.pdf'), (await org.seal({ document: await makePdf('Kvitto'), format: 'pdf' })).bytes);
    await fs.writeFile(file('content.txt'), 'Bilaga 1\n');
    await fs.writeFile(file('content.p7s'), (await org.seal({ document: Buffer.from('Bilaga 1\n'), format: 'cms' })).bytes);
    await fs.writeFile(file('revoked.xml'), (await revoked.seal({ document: xml, format: 'xml' })).bytes);
    await fs.writeFile(file('self-sealed.xml'), (await createOrganisationSealer({ key: self.sealKey }).seal({ document: xml, format: 'xml' })).bytes);
    await fs.writeFile(file('self.pem'), self.certPem);
    await fs.writeFile(file('tls-ca.pem'), readFileSync(path.join(certsDir, 'tls-ca.crt')));
  }, 30000);
  afterAll(async () => { await fs.rm(dir, { recursive: true, force: true }); });

  it('as a user runs it: a sealed file → one JSON report, exit 0; a changed byte → exit 1', async () => {
    const env = { ...process.env, NODE_OPTIONS: '' };
    const [ok, bad] = await Promise.allSettled([
      exec(process.execPath, [BIN, 'signature', 'validate', file('sealed.xml')], { env }),
      exec(process.execPath, [BIN, 'signature', 'validate', file('tampered.xml')], { env }),
    ]);
    expect(ok.status).toBe('fulfilled');
    const out = report((ok as PromiseFulfilledResult<{ stdout: string }>).value.stdout);
    expect(out.verdict).toBe('valid');
    expect(out.signatures).toHaveLength(1);
    const s = out.signatures[0]!;
    expect(Object.keys(s)).toEqual(expect.arrayContaining(['status', 'reason', 'signer', 'signedAt', 'chain']));
    expect(s).toMatchObject({ status: 'valid', reason: 'TOTAL_PASSED', signer: { organisation: 'Sändebuds kommun (dev)', orgNumber: '2120000000' } });
    expect(s.signedAt.claimed).not.toBeNull();
    expect(s.chain.at(-1)!.trustAnchor).toBe(true);
    expect(bad.status).toBe('rejected');
    const failure = (bad as PromiseRejectedResult).reason as { code: number; stdout: string };
    expect(failure.code).toBe(1);
    expect(report(failure.stdout)).toMatchObject({ verdict: 'invalid', reason: 'HASH_FAILURE' });
  }, 30000);

  it('validates a sealed PDF and a detached CMS signature with --content', async () => {
    const pdf = await cli('validate', file('sealed.pdf'));
    expect([pdf.code, report(pdf.stdout).verdict, report(pdf.stdout).signatures[0]!.signer?.organisation]).toEqual([0, 'valid', 'Sändebuds kommun (dev)']);
    const cms = await cli('validate', file('content.p7s'), '--content', file('content.txt'));
    expect([cms.code, report(cms.stdout).verdict]).toEqual([0, 'valid']);
  });

  it('a revoked certificate is indeterminate (exit 2), never valid', async () => {
    const r = await cli('validate', file('revoked.xml'));
    expect(r.code).toBe(2);
    expect(report(r.stdout)).toMatchObject({ verdict: 'indeterminate', reason: 'REVOKED_NO_POE' });
  });

  it('--trust adds an anchor to the configured ones instead of replacing them', async () => {
    const untrusted = await cli('validate', file('self-sealed.xml'));
    expect([untrusted.code, report(untrusted.stdout).reason]).toEqual([2, 'NO_CERTIFICATE_CHAIN_FOUND']);
    const added = await cli('validate', file('self-sealed.xml'), '--trust', file('self.pem'));
    expect([added.code, report(added.stdout).verdict]).toEqual([0, 'valid']);
    // With --trust given, the configured TRUST_CA_FILE still applies: the org-sealed file stays valid.
    const kept = await cli('validate', file('sealed.xml'), '--trust', file('tls-ca.pem'));
    expect([kept.code, report(kept.stdout).verdict]).toEqual([0, 'valid']);
  });

  it('exits as documented on usage and input errors', async () => {
    const help = await cli('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--trust ADDS anchors');
    expect((await cli('validate')).code).toBe(64);
    expect((await cli('verify', file('sealed.xml'))).code).toBe(64);
    expect((await cli('validate', file('sealed.xml'), '--bogus')).code).toBe(64);
    const missing = await cli('validate', file('no-such-file.xml'));
    expect(missing.code).toBe(66);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toContain('cannot read file');
  });
});
