// `sandebud sdk validate <file>` core (adapters/sdk/validation/cli.ts): one JSON verdict on stdout,
// exit 0 when judged and 2 when the input cannot be read.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sdkValidateCommand } from '../../../adapters/sdk/validation/cli.js';
import { buildReceiptXml } from '../../../adapters/sdk/receipt/receipt.mapper.js';
import type { MessageId } from '../../../src/domain/sdk/identifiers.js';
import { FIXTURES, fixture, loadPki, OURS, PEER1, sealRaw, type Pki } from './sdk-test-kit.js';

let k: Pki;
let dir: string;
beforeAll(async () => {
  k = await loadPki();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sandebud-sdk-cli-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string; json: unknown }> {
  let stdout = '';
  let stderr = '';
  const code = await sdkValidateCommand(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  const lines = stdout.split('\n').filter((l) => l !== '');
  return { code, stdout, stderr, json: lines.length === 1 ? JSON.parse(lines[0] as string) : undefined };
}

function write(name: string, content: Buffer | string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, content);
  return f;
}

describe('sandebud sdk validate', () => {
  it('prints {"status":"ACCEPTED"} for a valid bare payload and exits 0', async () => {
    const r = await run([path.join(FIXTURES, 'payloads/accepted.xml')]);
    expect(r).toMatchObject({ code: 0, json: { status: 'ACCEPTED' } });
    expect(r.stdout).toBe('{"status":"ACCEPTED"}\n');
  });

  it('prints the reasons of a REJECTED payload', async () => {
    const r = await run(['sdk', 'validate', path.join(FIXTURES, 'payloads/bv-invariant-schematron.xml')]);
    expect(r.code).toBe(0);
    expect(r.json).toEqual({
      status: 'REJECTED',
      reasons: [{ code: 'BV', detail: 'invariant', path: '/tns:messagePayload/tns:message/tns:messageHeader/tns:creationDateTime', text: expect.stringMatching(/^creationDateTime: /) }],
    });
  });

  it('rejects a DOCTYPE before parsing', async () => {
    const r = await run([path.join(FIXTURES, 'payloads/doctype-entity.xml')]);
    expect(r.json).toEqual({ status: 'REJECTED', reasons: [expect.objectContaining({ code: 'SV', detail: 'structure', path: 'NA' })] });
  });

  it('refuses a 32 MB payload file with BV/too-long from its size, without reading it into memory', async () => {
    const f = path.join(dir, 'huge.xml');
    const fd = fs.openSync(f, 'w');
    fs.writeSync(fd, fixture('payloads/accepted.xml').toString('utf8').split('<tns:content>')[0] + '<tns:content>');
    fs.ftruncateSync(fd, 32 * 1024 * 1024);
    fs.closeSync(fd);
    const r = await run([f]);
    expect(r.json).toEqual({ status: 'REJECTED', reasons: [expect.objectContaining({ code: 'BV', detail: 'too-long' })] });
  });

  it('judges a sealed XHE: REJECTED/SIG without trust anchors, ACCEPTED with them', async () => {
    const f = write('sealed.xml', sealRaw(k, fixture('payloads/accepted.xml')));
    expect((await run([f])).json).toMatchObject({ status: 'REJECTED', reasons: [{ code: 'SIG', detail: 'security' }] });
    const trusted = await run([f, '--trust', k.pki.caBundleFile]);
    expect(trusted.json).toEqual({ status: 'ACCEPTED' });
    expect(trusted.stderr).toMatch(/not examined/);
  });

  it('looks inside the encrypted payload with --key/--cert and reports payload reasons', async () => {
    const f = write('sealed-bad.xml', sealRaw(k, fixture('payloads/sv-structure.xml')));
    const r = await run([f, '--trust', k.pki.caBundleFile, '--key', k.pki.key('org-enc'), '--cert', k.pki.cert('org-enc')]);
    expect(r.json).toMatchObject({ status: 'REJECTED', reasons: [{ code: 'SV', detail: 'structure', path: '/tns:messagePayload/tns:message/tns:messageHeader/tns:sender' }] });
  });

  it('cannot identify a signer without a KeyInfo certificate (there is no CertPub in the CLI)', async () => {
    const env = sealRaw(k, fixture('payloads/accepted.xml')).toString('utf8');
    const start = env.lastIndexOf('<ds:KeyInfo>');
    const noKeyInfo = env.slice(0, start) + env.slice(env.indexOf('</ds:KeyInfo>', start) + '</ds:KeyInfo>'.length);
    const r = await run([write('no-keyinfo.xml', noKeyInfo), '--trust', k.pki.caBundleFile]);
    expect(r.json).toMatchObject({ status: 'REJECTED', reasons: [{ code: 'SIG', detail: 'security', text: expect.stringMatching(/KeyInfo/) }] });
  });

  it('rejects a one-byte change in a signed envelope with SIG', async () => {
    const env = sealRaw(k, fixture('payloads/accepted.xml')).toString('utf8').replace('>FEDERATIONID<', '>FEDERATIONIE<');
    const r = await run([write('tampered.xml', env), '--trust', k.pki.caBundleFile]);
    expect(r.json).toMatchObject({ status: 'REJECTED', reasons: [{ code: 'SIG', detail: 'security', path: '/x:XHE/ds:Signature' }] });
  });

  it('validates a receipt document', async () => {
    const xml = buildReceiptXml({ receiptId: 'r', issuedAt: new Date(), issuer: OURS.participant, receiver: PEER1.participant, documentReference: '5b0b9f4e-2f0a-4c55-9d6c-3f1d2a7e8b01' as MessageId, verdict: { status: 'ACCEPTED' } });
    expect((await run([write('receipt.xml', xml)])).json).toEqual({ status: 'ACCEPTED' });
    expect((await run([write('receipt-bad.xml', xml.replace('bdx:noprocess', 'bdx:other'))])).json).toMatchObject({ status: 'REJECTED', reasons: [{ code: 'BV', text: expect.stringMatching(/^R4-APP/) }] });
  });

  it('judges a well-formed document with an unknown root as REJECTED/SV', async () => {
    expect((await run([write('other.xml', '<a/>')])).json).toMatchObject({ status: 'REJECTED', reasons: [{ code: 'SV' }] });
  });

  it('exits 2 for an unreadable file or bad usage, printing nothing on stdout', async () => {
    expect(await run([path.join(dir, 'missing.xml')])).toMatchObject({ code: 2, stdout: '' });
    expect(await run([dir])).toMatchObject({ code: 2, stdout: '' });
    expect(await run([])).toMatchObject({ code: 2, stdout: '' });
    expect(await run(['a.xml', '--at', 'yesterday'])).toMatchObject({ code: 2, stdout: '' });
    expect(await run(['a.xml', '--key', 'k.pem'])).toMatchObject({ code: 2, stdout: '' });
  });
});
