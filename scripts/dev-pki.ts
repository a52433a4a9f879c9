// Development PKI (issue 3 part 7): the certs-dev/ folder of ../shared/specs/style.md "Layout" and the
// "node-forge only for the dev PKI" rule of ../shared/specs/dependencies.md; interface in docs/HELPERS-BRIEF.md.
//
// Keys come from Node's native RSA (fast); node-forge only assembles certificate bodies, and every signature
// (certificates and CRLs) is made with Node crypto, so forge's RSA code is never on any path. Nothing here
// makes a trust decision: tests and simulators verify with Node crypto / @peculiar/x509 / openssl.
import { X509Certificate, constants as cryptoConstants, createPrivateKey, createPublicKey, generateKeyPair, privateEncrypt, randomBytes, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import forge from 'node-forge';
import { z } from 'zod';
import { AppError } from '../src/domain/errors.js';

/** Every certificate/key pair the development PKI issues; `<dir>/<party>.crt` and `<dir>/<party>.key`. */
export const DEV_PARTIES = [
  'org-sign',
  'org-seal',
  'org-enc',
  'org-tls-client',
  'org-tls-server',
  'peer1-sign',
  'peer1-enc',
  'peer1-tls',
  'peer2-sign',
  'peer2-enc',
  'peer2-tls',
  'far-tls',
  'mailbox-a-tls',
  'mailbox-b-tls',
  'print-tls',
  'smp-tls',
  'smp-sign',
  'addressbook-tls',
  'signing-service-tls',
  'signing-service-sign',
  'signing-issuer',
  'idp-tls',
  'idp-sign',
  'case-system-client',
  'revoked-sign',
  'expired-sign',
] as const;
export type DevParty = (typeof DEV_PARTIES)[number];

export interface DevPki {
  dir: string;
  /** Root CA certificate (PEM). */
  rootCaCertFile: string;
  /** Root + the three intermediates (PEM bundle): the trust anchor set for every dev client and server. */
  caBundleFile: string;
  /** CRL (PEM) of an intermediate CA. Only the organisation CA's CRL has an entry (revoked-sign). */
  crlFile(ca: 'org' | 'tls' | 'signing'): string;
  /** `<dir>/<party>.crt`: the leaf PEM followed by the intermediate that issued it. */
  cert(party: DevParty): string;
  /** `<dir>/<party>.key`: PKCS#8 PEM, mode 0600. */
  key(party: DevParty): string;
}

/** Bumped whenever names, extensions or files change, so cached folders regenerate. */
export const DEV_PKI_VERSION = 1;

/** The three organisations of the dev world (HELPERS-BRIEF "Development PKI"). */
export const DEV_ORGANISATIONS = {
  ours: { name: 'Sändebuds kommun (dev)', orgnr: '2120000000' },
  peer1: { name: 'Region Dev', orgnr: '2321000016' },
  peer2: { name: 'Grannkommun (dev)', orgnr: '2021000001' },
} as const;

/** Subject CN of the dev root; production config can refuse any chain that ends here. */
export const DEV_ROOT_CA_NAME = 'Sändebud Dev Root CA';

type IntermediateId = 'org' | 'tls' | 'signing';
type CaId = 'root' | IntermediateId;
type Role = 'sign' | 'enc' | 'tls-server' | 'tls-peer' | 'tls-client' | 'issuer-ca';

interface Org {
  name: string;
  /** Swedish organisation number; becomes organizationIdentifier `NTRSE-<orgnr>` (ETSI EN 319 412-1). */
  orgnr?: string;
}

interface PartySpec {
  org: Org;
  cn: string;
  issuer: IntermediateId;
  role: Role;
  /** revoked: listed in the issuer's CRL; expired: validity ended yesterday. */
  state?: 'revoked' | 'expired';
}

const OURS: Org = DEV_ORGANISATIONS.ours;
const PEER1: Org = DEV_ORGANISATIONS.peer1;
const PEER2: Org = DEV_ORGANISATIONS.peer2;
const PKI_ORG: Org = { name: 'Sändebud (dev)' };

// Record<DevParty, …> makes the compiler insist on one spec per party.
const PARTY_SPECS: Record<DevParty, PartySpec> = {
  'org-sign': { org: OURS, cn: 'Sändebuds kommun (dev) signing', issuer: 'org', role: 'sign' },
  'org-seal': { org: OURS, cn: 'Sändebuds kommun (dev) seal', issuer: 'org', role: 'sign' },
  'org-enc': { org: OURS, cn: 'Sändebuds kommun (dev) encryption', issuer: 'org', role: 'enc' },
  'org-tls-client': { org: OURS, cn: 'Sändebuds kommun (dev) TLS client', issuer: 'tls', role: 'tls-client' },
  'org-tls-server': { org: OURS, cn: 'Sändebuds kommun (dev) access point', issuer: 'tls', role: 'tls-peer' },
  'peer1-sign': { org: PEER1, cn: 'Region Dev signing', issuer: 'org', role: 'sign' },
  'peer1-enc': { org: PEER1, cn: 'Region Dev encryption', issuer: 'org', role: 'enc' },
  'peer1-tls': { org: PEER1, cn: 'Region Dev access point', issuer: 'tls', role: 'tls-peer' },
  'peer2-sign': { org: PEER2, cn: 'Grannkommun (dev) signing', issuer: 'org', role: 'sign' },
  'peer2-enc': { org: PEER2, cn: 'Grannkommun (dev) encryption', issuer: 'org', role: 'enc' },
  'peer2-tls': { org: PEER2, cn: 'Grannkommun (dev) access point', issuer: 'tls', role: 'tls-peer' },
  'far-tls': { org: { name: 'Skatteverket FaR (dev)', orgnr: '2021005448' }, cn: 'FaR (dev) TLS server', issuer: 'tls', role: 'tls-server' },
  'mailbox-a-tls': { org: { name: 'Brevlådeoperatör A (dev)' }, cn: 'Brevlådeoperatör A (dev) TLS server', issuer: 'tls', role: 'tls-server' },
  'mailbox-b-tls': { org: { name: 'Brevlådeoperatör B (dev)' }, cn: 'Brevlådeoperatör B (dev) TLS server', issuer: 'tls', role: 'tls-server' },
  'print-tls': { org: { name: 'Tryckeri (dev)' }, cn: 'Tryckeri (dev) TLS server', issuer: 'tls', role: 'tls-server' },
  'smp-tls': { org: { name: 'DIGG SMP (dev)', orgnr: '2021006883' }, cn: 'DIGG SMP (dev) TLS server', issuer: 'tls', role: 'tls-server' },
  'smp-sign': { org: { name: 'DIGG SMP (dev)', orgnr: '2021006883' }, cn: 'DIGG SMP (dev) metadata signing', issuer: 'org', role: 'sign' },
  'addressbook-tls': { org: { name: 'DIGG SDK Adressbok (dev)', orgnr: '2021006883' }, cn: 'SDK Adressbok (dev) TLS server', issuer: 'tls', role: 'tls-server' },
  'signing-service-tls': { org: { name: 'Underskriftstjänst (dev)' }, cn: 'Underskriftstjänst (dev) TLS server', issuer: 'tls', role: 'tls-server' },
  'signing-service-sign': { org: { name: 'Underskriftstjänst (dev)' }, cn: 'Underskriftstjänst (dev) response signing', issuer: 'signing', role: 'sign' },
  'signing-issuer': { org: { name: 'Underskriftstjänst (dev)' }, cn: 'Underskriftstjänst (dev) Signer CA', issuer: 'signing', role: 'issuer-ca' },
  'idp-tls': { org: { name: 'Legitimeringstjänst (dev)' }, cn: 'Legitimeringstjänst (dev) TLS server', issuer: 'tls', role: 'tls-server' },
  'idp-sign': { org: { name: 'Legitimeringstjänst (dev)' }, cn: 'Legitimeringstjänst (dev) token signing', issuer: 'org', role: 'sign' },
  'case-system-client': { org: OURS, cn: 'Ärendesystem (dev) API client', issuer: 'tls', role: 'tls-client' },
  'revoked-sign': { org: OURS, cn: 'Sändebuds kommun (dev) signing (revoked)', issuer: 'org', role: 'sign', state: 'revoked' },
  'expired-sign': { org: OURS, cn: 'Sändebuds kommun (dev) signing (expired)', issuer: 'org', role: 'sign', state: 'expired' },
};

const CA_SPECS: Record<CaId, { cn: string; file: string; pathLen?: number }> = {
  root: { cn: DEV_ROOT_CA_NAME, file: 'root-ca' },
  org: { cn: 'Sändebud Dev Organisation CA', file: 'org-ca', pathLen: 0 },
  tls: { cn: 'Sändebud Dev TLS CA', file: 'tls-ca', pathLen: 0 },
  // pathLen 1: signing-issuer sits below it and issues the signing service's short-lived signer certificates.
  signing: { cn: 'Sändebud Dev Signing CA', file: 'signing-ca', pathLen: 1 },
};
const INTERMEDIATES: readonly IntermediateId[] = ['org', 'tls', 'signing'];

const DAY_MS = 86_400_000;
const CA_YEARS = 10;
const LEAF_YEARS = 2;
const CRL_DAYS = 30;
/** Regenerate once a leaf or CA is this close to expiry, and re-sign CRLs this close to nextUpdate. */
const RENEW_BEFORE_MS = 30 * DAY_MS;
const CRL_RENEW_BEFORE_MS = 7 * DAY_MS;
const LOCK_WAIT_MS = 120_000;
const LOCK_STALE_MS = 300_000;
const MANIFEST = 'manifest.json';
const LOCK = '.dev-pki.lock';

const OID_ORGANIZATION_IDENTIFIER = '2.5.4.97';
const OID_SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
const OID_AUTHORITY_KEY_ID = '2.5.29.35';
const OID_CRL_NUMBER = '2.5.29.20';
const OID_CRL_REASON = '2.5.29.21';
const CRL_REASON_KEY_COMPROMISE = 1;
// DER prefix of DigestInfo{sha256, NULL}; the digest is appended, then RSA PKCS#1 v1.5 signs the whole.
const SHA256_DIGEST_INFO_PREFIX = Buffer.from('3031300d060960864801650304020105000420', 'hex');

const manifestSchema = z.object({
  version: z.number(),
  created: z.string(),
  cas: z.array(z.object({ ca: z.enum(['root', 'org', 'tls', 'signing']), cert: z.string(), key: z.string(), subject: z.string(), serial: z.string(), notAfter: z.string(), sha256: z.string() })),
  crls: z.array(z.object({ ca: z.enum(['org', 'tls', 'signing']), file: z.string(), thisUpdate: z.string(), nextUpdate: z.string() })),
  revoked: z.array(z.object({ party: z.string(), ca: z.enum(['org', 'tls', 'signing']), serial: z.string(), revokedAt: z.string(), reason: z.literal('keyCompromise') })),
  parties: z.array(
    z.object({ party: z.string(), cert: z.string(), key: z.string(), issuer: z.string(), subject: z.string(), serial: z.string(), notBefore: z.string(), notAfter: z.string(), sha256: z.string() }),
  ),
});
type Manifest = z.infer<typeof manifestSchema>;

interface Issued {
  forgeCert: forge.pki.Certificate;
  pem: string;
  key: KeyObject;
  /** Subject key identifier as a forge binary string, copied into children's authorityKeyIdentifier. */
  ski: string;
}

// ---------------------------------------------------------------------------------------------------------
// Public API

/**
 * Return the development PKI in `dir`, generating it first when the manifest is missing or of another
 * version, a file is missing, a certificate is within 30 days of expiry, or `opts.force` is set. CRLs close
 * to their nextUpdate are re-signed in place (same keys and certificates). Safe to call from several
 * processes at once: one generates under a lock file, the others wait and reuse its result.
 */
export async function ensureDevPki(dir: string, opts: { force?: boolean } = {}): Promise<DevPki> {
  return (await ensureWithStatus(dir, opts)).pki;
}

/** CLI entry for `sandebud certs [--force] [--dir certs-dev]`; argv is what follows the sub-command. */
export async function main(argv: string[]): Promise<void> {
  const args = argv[0] === 'certs' ? argv.slice(1) : argv;
  let force = false;
  let dir = 'certs-dev';
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--force') force = true;
    else if (a === '--dir' && args[i + 1] !== undefined) dir = args[++i]!;
    else if (a.startsWith('--dir=')) dir = a.slice('--dir='.length);
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: sandebud certs [--force] [--dir certs-dev]\n  Creates (or reuses) the development PKI. Never use it in production.\n');
      return;
    } else {
      throw new AppError('CLI_USAGE', `Unknown argument "${a}". Usage: sandebud certs [--force] [--dir certs-dev]`, { status: 400 });
    }
  }
  const { pki, generated, ms, manifest } = await ensureWithStatus(dir, { force });
  const byRole = (pred: (s: PartySpec) => boolean): string => DEV_PARTIES.filter((p) => pred(PARTY_SPECS[p])).join(', ');
  const org = manifest.crls.find((c) => c.ca === 'org');
  const lines = [
    `CA           root-ca.crt, ca-bundle.crt (root + organisation, TLS and signing intermediates)`,
    `CRLs         crl-org.pem, crl-tls.pem, crl-signing.pem (next update ${org?.nextUpdate.slice(0, 10) ?? '?'})`,
    `Signing      ${byRole((s) => s.role === 'sign' && s.state === undefined)}`,
    `Encryption   ${byRole((s) => s.role === 'enc')}`,
    `TLS server   ${byRole((s) => s.role === 'tls-server' || s.role === 'tls-peer')}`,
    `TLS client   ${byRole((s) => s.role === 'tls-client' || s.role === 'tls-peer')}`,
    `Issuing CA   ${byRole((s) => s.role === 'issuer-ca')} (signs the signing simulator's short-lived signer certificates)`,
    `Negative     ${byRole((s) => s.state !== undefined)} (revoked in crl-org.pem / expired yesterday)`,
    `${generated ? `Generated in ${ms} ms` : 'Reused existing files'}: ${pki.dir} (<party>.crt + <party>.key, manifest.json). Development only: keys are git-ignored and refused in production.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

// ---------------------------------------------------------------------------------------------------------
// Cache check, locking and file layout

// Calls for the same folder inside one process run one after another (the lock file would also serialise
// them, but polling is slower than waiting on a promise).
const inProcess = new Map<string, Promise<unknown>>();

async function ensureWithStatus(dir: string, opts: { force?: boolean }): Promise<{ pki: DevPki; generated: boolean; ms: number; manifest: Manifest }> {
  const abs = path.resolve(dir);
  const prev = inProcess.get(abs) ?? Promise.resolve();
  const run = prev.catch(() => undefined).then(() => ensureUnserialised(abs, opts.force === true));
  inProcess.set(abs, run);
  try {
    return await run;
  } finally {
    if (inProcess.get(abs) === run) inProcess.delete(abs);
  }
}

async function ensureUnserialised(abs: string, force: boolean): Promise<{ pki: DevPki; generated: boolean; ms: number; manifest: Manifest }> {
  const started = Date.now();
  if (!force) {
    const m = await readUsableManifest(abs);
    if (m && !crlsDue(m)) return { pki: layout(abs), generated: false, ms: Date.now() - started, manifest: m };
  }
  await fs.mkdir(abs, { recursive: true });
  return withLock(abs, async () => {
    if (!force) {
      // Another process may have finished while we waited for the lock.
      const m = await readUsableManifest(abs);
      if (m) {
        const fresh = crlsDue(m) ? await refreshCrls(abs, m) : m;
        return { pki: layout(abs), generated: false, ms: Date.now() - started, manifest: fresh };
      }
    }
    const manifest = await generate(abs);
    return { pki: layout(abs), generated: true, ms: Date.now() - started, manifest };
  });
}

function layout(abs: string): DevPki {
  return {
    dir: abs,
    rootCaCertFile: path.join(abs, 'root-ca.crt'),
    caBundleFile: path.join(abs, 'ca-bundle.crt'),
    crlFile: (ca) => path.join(abs, `crl-${ca}.pem`),
    cert: (party) => path.join(abs, `${party}.crt`),
    key: (party) => path.join(abs, `${party}.key`),
  };
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

async function readUsableManifest(abs: string): Promise<Manifest | null> {
  let raw: string;
  try {
    raw = await fs.readFile(path.join(abs, MANIFEST), 'utf8');
  } catch {
    return null;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return null;
  }
  const res = manifestSchema.safeParse(parsed);
  if (!res.success || res.data.version !== DEV_PKI_VERSION) return null;
  const m = res.data;
  const listed = new Set(m.parties.map((p) => p.party));
  if (DEV_PARTIES.some((p) => !listed.has(p))) return null;
  const soon = Date.now() + RENEW_BEFORE_MS;
  if (m.cas.some((c) => Date.parse(c.notAfter) < soon)) return null;
  if (m.parties.some((p) => p.party !== 'expired-sign' && Date.parse(p.notAfter) < soon)) return null;
  const files = [
    'root-ca.crt',
    'ca-bundle.crt',
    ...m.cas.flatMap((c) => [c.cert, c.key]),
    ...m.crls.map((c) => c.file),
    ...m.parties.flatMap((p) => [p.cert, p.key]),
  ];
  const present = await Promise.all(files.map((f) => exists(path.join(abs, f))));
  return present.every(Boolean) ? m : null;
}

function crlsDue(m: Manifest): boolean {
  return m.crls.some((c) => Date.parse(c.nextUpdate) < Date.now() + CRL_RENEW_BEFORE_MS);
}

async function withLock<T>(abs: string, fn: () => Promise<T>): Promise<T> {
  const lockFile = path.join(abs, LOCK);
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await fs.writeFile(lockFile, `${process.pid}\n${new Date().toISOString()}\n`, { flag: 'wx' });
      break;
    } catch (err: unknown) {
      if (errCode(err) !== 'EEXIST') throw err;
      if (await lockIsStale(lockFile)) {
        await fs.rm(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new AppError('DEV_PKI_LOCKED', `Another process holds ${lockFile}; delete it if no generation is running.`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lockFile, { force: true });
  }
}

async function lockIsStale(lockFile: string): Promise<boolean> {
  try {
    const [st, text] = await Promise.all([fs.stat(lockFile), fs.readFile(lockFile, 'utf8')]);
    if (Date.now() - st.mtimeMs > LOCK_STALE_MS) return true;
    const pid = Number.parseInt(text.split('\n')[0] ?? '', 10);
    if (!Number.isInteger(pid) || pid <= 0) return Date.now() - st.mtimeMs > 5_000; // still being written
    if (pid === process.pid) return false;
    try {
      process.kill(pid, 0);
      return false;
    } catch (err: unknown) {
      return errCode(err) === 'ESRCH'; // EPERM: alive but owned by someone else
    }
  } catch {
    return false; // vanished between the failed create and now: just retry
  }
}

function errCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Generation

async function newKeyPair(): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    // Asynchronous so the keys are generated in parallel on the libuv pool instead of one after another.
    generateKeyPair('rsa', { modulusLength: 2048 }, (err, _pub, priv) => (err ? reject(err) : resolve(priv)));
  });
}

function randomSerialHex(): string {
  const b = randomBytes(16);
  // Positive and minimally encoded: high bit clear, first byte non-zero.
  b[0] = b[0]! & 0x7f || 0x01;
  return b.toString('hex');
}

/** Sign forge's TBS bytes with a Node key: forge never sees a private key. */
function nodeSigner(key: KeyObject): { sign(md: forge.md.MessageDigest): forge.Bytes } {
  return {
    sign(md) {
      const digest = Buffer.from(md.digest().getBytes(), 'binary');
      const sig = privateEncrypt({ key, padding: cryptoConstants.RSA_PKCS1_PADDING }, Buffer.concat([SHA256_DIGEST_INFO_PREFIX, digest]));
      return sig.toString('binary');
    },
  };
}

// @types/node-forge declares valueTagClass as asn1.Class, but forge reads it as the universal tag (asn1.Type).
const tagOf = (t: forge.asn1.Type): forge.asn1.Class => t as unknown as forge.asn1.Class;

/** C, O, organizationIdentifier (when known), CN. Strings are UTF8String because of å/ä/ö. */
function subjectAttrs(org: Org, cn: string): forge.pki.CertificateField[] {
  const utf8 = tagOf(forge.asn1.Type.UTF8);
  const attrs: forge.pki.CertificateField[] = [
    { name: 'countryName', value: 'SE', valueTagClass: tagOf(forge.asn1.Type.PRINTABLESTRING) },
    { name: 'organizationName', value: org.name, valueTagClass: utf8 },
  ];
  if (org.orgnr !== undefined) attrs.push({ type: OID_ORGANIZATION_IDENTIFIER, value: `NTRSE-${org.orgnr}`, valueTagClass: utf8 });
  attrs.push({ name: 'commonName', value: cn, valueTagClass: utf8 });
  return attrs;
}

interface IssueArgs {
  subject: forge.pki.CertificateField[];
  key: KeyObject;
  notBefore: Date;
  notAfter: Date;
  issuer: Issued | null; // null: self-signed
  extensions: object[];
}

function issue(a: IssueArgs): Issued {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(createPublicKey(a.key).export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = randomSerialHex();
  cert.validity.notBefore = a.notBefore;
  cert.validity.notAfter = a.notAfter;
  cert.setSubject(a.subject);
  cert.setIssuer(a.issuer ? a.issuer.forgeCert.subject.attributes : a.subject);
  const ski = cert.generateSubjectKeyIdentifier().getBytes();
  cert.setExtensions([
    ...a.extensions,
    { name: 'subjectKeyIdentifier', subjectKeyIdentifier: forge.util.bytesToHex(ski) },
    { name: 'authorityKeyIdentifier', keyIdentifier: a.issuer ? a.issuer.ski : ski },
  ]);
  cert.sign(nodeSigner(a.issuer ? a.issuer.key : a.key) as unknown as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { forgeCert: cert, pem: forge.pki.certificateToPem(cert), key: a.key, ski };
}

function leafExtensions(role: Role): object[] {
  const bc = { name: 'basicConstraints', cA: false, critical: true };
  const tlsNames = { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] };
  switch (role) {
    case 'sign':
      return [bc, { name: 'keyUsage', critical: true, digitalSignature: true, nonRepudiation: true }];
    case 'enc':
      return [bc, { name: 'keyUsage', critical: true, keyEncipherment: true, dataEncipherment: true }];
    case 'tls-server':
      return [bc, { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true }, { name: 'extKeyUsage', serverAuth: true }, tlsNames];
    case 'tls-peer':
      // AS4 peers (and our own access point) are both client and server of the same connection pair.
      return [bc, { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true }, { name: 'extKeyUsage', serverAuth: true, clientAuth: true }, tlsNames];
    case 'tls-client':
      return [bc, { name: 'keyUsage', critical: true, digitalSignature: true }, { name: 'extKeyUsage', clientAuth: true }];
    case 'issuer-ca':
      return [
        { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
        { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true },
      ];
  }
}

function caExtensions(pathLen: number | undefined): object[] {
  return [
    pathLen === undefined ? { name: 'basicConstraints', cA: true, critical: true } : { name: 'basicConstraints', cA: true, pathLenConstraint: pathLen, critical: true },
    { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true },
  ];
}

const years = (from: number, n: number): Date => {
  const d = new Date(from);
  d.setUTCFullYear(d.getUTCFullYear() + n);
  return d;
};

function pkcs8(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function certSummary(pem: string): { subject: string; serial: string; notBefore: string; notAfter: string; sha256: string } {
  const x = new X509Certificate(pem);
  return {
    subject: x.subject.split('\n').join(', '),
    serial: x.serialNumber,
    notBefore: new Date(x.validFrom).toISOString(),
    notAfter: new Date(x.validTo).toISOString(),
    sha256: x.fingerprint256,
  };
}

async function generate(abs: string): Promise<Manifest> {
  const now = Date.now();
  const backdated = now - DAY_MS;
  const keys = await Promise.all(Array.from({ length: 4 + DEV_PARTIES.length }, () => newKeyPair()));
  const nextKey = (): KeyObject => keys.pop()!;

  const caSubject = (id: CaId): forge.pki.CertificateField[] => subjectAttrs(PKI_ORG, CA_SPECS[id].cn);
  const root = issue({ subject: caSubject('root'), key: nextKey(), notBefore: new Date(backdated), notAfter: years(now, CA_YEARS), issuer: null, extensions: caExtensions(undefined) });
  const inter = {} as Record<IntermediateId, Issued>;
  for (const id of INTERMEDIATES) {
    inter[id] = issue({ subject: caSubject(id), key: nextKey(), notBefore: new Date(backdated), notAfter: years(now, CA_YEARS), issuer: root, extensions: caExtensions(CA_SPECS[id].pathLen) });
  }

  const leaves = {} as Record<DevParty, Issued>;
  for (const party of DEV_PARTIES) {
    const spec = PARTY_SPECS[party];
    const expired = spec.state === 'expired';
    leaves[party] = issue({
      subject: subjectAttrs(spec.org, spec.cn),
      key: nextKey(),
      notBefore: expired ? years(now, -LEAF_YEARS) : new Date(backdated),
      notAfter: expired ? new Date(now - DAY_MS) : years(now, LEAF_YEARS),
      issuer: inter[spec.issuer],
      extensions: leafExtensions(spec.role),
    });
  }

  const revokedAt = new Date(now - 60_000).toISOString();
  const revoked: Manifest['revoked'] = DEV_PARTIES.filter((p) => PARTY_SPECS[p].state === 'revoked').map((p) => ({
    party: p,
    ca: PARTY_SPECS[p].issuer,
    serial: leaves[p].forgeCert.serialNumber.toUpperCase(),
    revokedAt,
    reason: 'keyCompromise' as const,
  }));

  const files = new Map<string, { data: string; secret: boolean }>();
  const put = (name: string, data: string, secret = false): void => void files.set(name, { data, secret });
  put('root-ca.crt', root.pem);
  put('root-ca.key', pkcs8(root.key), true);
  for (const id of INTERMEDIATES) {
    put(`${CA_SPECS[id].file}.crt`, inter[id].pem);
    put(`${CA_SPECS[id].file}.key`, pkcs8(inter[id].key), true);
  }
  put('ca-bundle.crt', [root, ...INTERMEDIATES.map((id) => inter[id])].map((c) => c.pem).join(''));
  for (const party of DEV_PARTIES) {
    put(`${party}.crt`, leaves[party].pem + inter[PARTY_SPECS[party].issuer].pem);
    put(`${party}.key`, pkcs8(leaves[party].key), true);
  }
  const crls: Manifest['crls'] = [];
  for (const id of INTERMEDIATES) {
    const crl = buildCrl(inter[id].pem, inter[id].key, revoked.filter((r) => r.ca === id), now);
    put(`crl-${id}.pem`, crl.pem);
    crls.push({ ca: id, file: `crl-${id}.pem`, thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate });
  }

  const manifest: Manifest = {
    version: DEV_PKI_VERSION,
    created: new Date(now).toISOString(),
    cas: (['root', ...INTERMEDIATES] as const).map((ca) => ({
      ca,
      cert: `${CA_SPECS[ca].file}.crt`,
      key: `${CA_SPECS[ca].file}.key`,
      ...pick(certSummary(ca === 'root' ? root.pem : inter[ca].pem), ['subject', 'serial', 'notAfter', 'sha256']),
    })),
    crls,
    revoked,
    parties: DEV_PARTIES.map((party) => ({ party, cert: `${party}.crt`, key: `${party}.key`, issuer: PARTY_SPECS[party].issuer, ...certSummary(leaves[party].pem) })),
  };
  await publish(abs, files, manifest);
  return manifest;
}

function pick<T extends object, K extends keyof T>(o: T, ks: K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const k of ks) out[k] = o[k];
  return out;
}

/**
 * Write everything into a private temp folder, then rename file by file into place. The old manifest is
 * removed first and the new one written last, so a crash half-way leaves a folder that regenerates on the
 * next call instead of one that mixes keys and certificates of two runs.
 */
async function publish(abs: string, files: Map<string, { data: string; secret: boolean }>, manifest: Manifest): Promise<void> {
  const tmp = await fs.mkdtemp(path.join(abs, '.tmp-'));
  try {
    for (const [name, f] of files) {
      const file = path.join(tmp, name);
      await fs.writeFile(file, f.data, { mode: f.secret ? 0o600 : 0o644 });
      if (f.secret) await fs.chmod(file, 0o600); // in case the file pre-existed with a wider mode
    }
    await fs.rm(path.join(abs, MANIFEST), { force: true });
    for (const name of files.keys()) await fs.rename(path.join(tmp, name), path.join(abs, name));
    await writeManifest(abs, manifest);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

async function writeManifest(abs: string, manifest: Manifest): Promise<void> {
  const tmpFile = path.join(abs, `.${MANIFEST}.${process.pid}.${randomBytes(4).toString('hex')}`);
  await fs.writeFile(tmpFile, `${JSON.stringify(manifest, null, 2)}\n`);
  await fs.rename(tmpFile, path.join(abs, MANIFEST));
}

/** Re-sign the three CRLs with the existing CA keys (same entries), e.g. after a month of reuse. */
async function refreshCrls(abs: string, m: Manifest): Promise<Manifest> {
  const now = Date.now();
  const crls: Manifest['crls'] = [];
  for (const id of INTERMEDIATES) {
    const caPem = await fs.readFile(path.join(abs, `${CA_SPECS[id].file}.crt`), 'utf8');
    const caKey = createPrivateKey(await fs.readFile(path.join(abs, `${CA_SPECS[id].file}.key`), 'utf8'));
    const crl = buildCrl(caPem, caKey, m.revoked.filter((r) => r.ca === id), now);
    const tmpFile = path.join(abs, `.crl-${id}.${process.pid}.tmp`);
    await fs.writeFile(tmpFile, crl.pem);
    await fs.rename(tmpFile, path.join(abs, `crl-${id}.pem`));
    crls.push({ ca: id, file: `crl-${id}.pem`, thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate });
  }
  const fresh = { ...m, crls };
  await writeManifest(abs, fresh);
  return fresh;
}

// ---------------------------------------------------------------------------------------------------------
// CRL (RFC 5280 §5). node-forge has no CRL support, so the DER is assembled with forge.asn1 and signed
// with Node crypto; `openssl crl -text` and `openssl verify -crl_check` accept the result (see the test).

function buildCrl(caPem: string, caKey: KeyObject, entries: Manifest['revoked'], now: number): { pem: string; thisUpdate: string; nextUpdate: string } {
  const { asn1 } = forge;
  const U = asn1.Class.UNIVERSAL;
  const T = asn1.Type;
  const seq = (v: forge.asn1.Asn1[]): forge.asn1.Asn1 => asn1.create(U, T.SEQUENCE, true, v);
  const oid = (o: string): forge.asn1.Asn1 => asn1.create(U, T.OID, false, asn1.oidToDer(o).getBytes());
  const int = (hex: string): forge.asn1.Asn1 => asn1.create(U, T.INTEGER, false, forge.util.hexToBytes(hex.length % 2 ? `0${hex}` : hex));
  const time = (d: Date): forge.asn1.Asn1 => asn1.create(U, T.UTCTIME, false, asn1.dateToUtcTime(d));
  const octets = (inner: forge.asn1.Asn1): forge.asn1.Asn1 => asn1.create(U, T.OCTETSTRING, false, asn1.toDer(inner).getBytes());
  const ext = (id: string, value: forge.asn1.Asn1): forge.asn1.Asn1 => seq([oid(id), octets(value)]);

  // Take issuer name and key id from the CA certificate itself so the CRL matches it byte for byte.
  const caCert = forge.pki.certificateFromPem(caPem);
  const tbsCert = asn1.fromDer(forge.util.decode64(caPem.replace(/-----[^-]+-----|\s/g, ''))).value[0] as forge.asn1.Asn1;
  const tbsParts = tbsCert.value as forge.asn1.Asn1[];
  const issuerName = tbsParts[tbsParts[0]?.tagClass === asn1.Class.CONTEXT_SPECIFIC ? 5 : 4]!;
  const skiExt = caCert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | undefined;
  if (!skiExt?.subjectKeyIdentifier) throw new AppError('DEV_PKI_BROKEN', 'CA certificate has no subject key identifier.');

  const thisUpdate = new Date(now - 60_000);
  const nextUpdate = new Date(now + CRL_DAYS * DAY_MS);
  const algorithm = seq([oid(OID_SHA256_WITH_RSA), asn1.create(U, T.NULL, false, '')]);
  const tbs: forge.asn1.Asn1[] = [int('01'), algorithm, issuerName, time(thisUpdate), time(nextUpdate)];
  if (entries.length > 0) {
    tbs.push(
      seq(
        entries.map((e) =>
          seq([int(e.serial), time(new Date(e.revokedAt)), seq([ext(OID_CRL_REASON, asn1.create(U, T.ENUMERATED, false, String.fromCharCode(CRL_REASON_KEY_COMPROMISE)))])]),
        ),
      ),
    );
  }
  const crlNumber = Math.floor(now / 1000).toString(16);
  tbs.push(
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [
      seq([
        ext(OID_AUTHORITY_KEY_ID, seq([asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, forge.util.hexToBytes(skiExt.subjectKeyIdentifier))])),
        ext(OID_CRL_NUMBER, int(crlNumber)),
      ]),
    ]),
  );
  const tbsAsn1 = seq(tbs);
  const signature = cryptoSign('sha256', Buffer.from(asn1.toDer(tbsAsn1).getBytes(), 'binary'), caKey);
  const crl = seq([tbsAsn1, algorithm, asn1.create(U, T.BITSTRING, false, `\x00${signature.toString('binary')}`)]);
  const pem = forge.pem.encode({ type: 'X509 CRL', body: asn1.toDer(crl).getBytes() });
  return { pem: pem.replace(/\r\n/g, '\n'), thisUpdate: thisUpdate.toISOString(), nextUpdate: nextUpdate.toISOString() };
}

// `node --import tsx scripts/dev-pki.ts [--force] [--dir …]` works without the CLI dispatcher.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
