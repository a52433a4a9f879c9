// Test fixtures for the digital-post adapter tests: development PKI material as PEM strings, the reference
// folder, and a throwaway certificate from an unknown CA (../shared/specs/digital-post.md §4, §9).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';
import { ensureDevPki, type DevParty } from '../../../scripts/dev-pki.js';
import type { DeliveryTarget, LetterForDelivery } from '../../../src/ports/digital-post.port.js';
import type { OrganisationNumber, RecipientId } from '../../../src/domain/digital-post.js';

export const REFERENCE_DIR = path.resolve(process.cwd(), '../shared/reference/mina-meddelanden');

/** The reference folder, or undefined with a visible warning (tests that need it then skip). */
export function referenceDir(): string | undefined {
  if (fs.existsSync(REFERENCE_DIR)) return REFERENCE_DIR;
  console.warn(`Skipping reference-based checks: ${REFERENCE_DIR} is absent.`);
  return undefined;
}

export interface TestPki {
  caBundle: string;
  rootCa: string;
  key(p: DevParty): string;
  cert(p: DevParty): string;
  /** { key, cert, ca } for a TLS server or client. */
  tls(p: DevParty): { key: string; cert: string; ca: string };
  cred(p: DevParty): { keyPem: string; certPem: string };
  files: { caBundleFile: string; rootCaFile: string; dir: string };
}

export async function loadTestPki(): Promise<TestPki> {
  const pki = await ensureDevPki(path.join(os.tmpdir(), 'sandebud-test-pki'));
  const read = (f: string) => fs.readFileSync(f, 'utf8');
  const caBundle = read(pki.caBundleFile);
  return {
    caBundle,
    rootCa: read(pki.rootCaCertFile),
    key: (p) => read(pki.key(p)),
    cert: (p) => read(pki.cert(p)),
    tls: (p) => ({ key: read(pki.key(p)), cert: read(pki.cert(p)), ca: caBundle }),
    cred: (p) => ({ keyPem: read(pki.key(p)), certPem: read(pki.cert(p)) }),
    files: { caBundleFile: pki.caBundleFile, rootCaFile: pki.rootCaCertFile, dir: pki.dir },
  };
}

/** A self-signed CA and a leaf it issued, unknown to the dev PKI: for "wrong certificate" tests. */
export function strangerPki(): { caPem: string; keyPem: string; certPem: string } {
  const mk = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
  const caKeys = mk();
  const leafKeys = mk();
  const toForgePriv = (k: ReturnType<typeof mk>) => forge.pki.privateKeyFromPem(k.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
  const toForgePub = (k: ReturnType<typeof mk>) => forge.pki.publicKeyFromPem(k.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  const now = new Date();
  const later = new Date(now.getTime() + 365 * 86_400_000);
  const ca = forge.pki.createCertificate();
  ca.publicKey = toForgePub(caKeys);
  ca.serialNumber = '01';
  ca.validity.notBefore = new Date(now.getTime() - 86_400_000);
  ca.validity.notAfter = later;
  const caName = [{ name: 'commonName', value: 'Stranger CA' }, { name: 'organizationName', value: 'Not trusted' }];
  ca.setSubject(caName);
  ca.setIssuer(caName);
  ca.setExtensions([{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }]);
  ca.sign(toForgePriv(caKeys), forge.md.sha256.create());
  const leaf = forge.pki.createCertificate();
  leaf.publicKey = toForgePub(leafKeys);
  leaf.serialNumber = '02';
  leaf.validity.notBefore = new Date(now.getTime() - 86_400_000);
  leaf.validity.notAfter = later;
  leaf.setSubject([
    { name: 'commonName', value: 'Stranger' },
    { name: 'organizationName', value: 'Sändebuds kommun (dev)' },
    { type: '2.5.4.97', value: 'NTRSE-2120000000' },
  ]);
  leaf.setIssuer(caName);
  leaf.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
  ]);
  leaf.sign(toForgePriv(caKeys), forge.md.sha256.create());
  return {
    caPem: forge.pki.certificateToPem(ca),
    keyPem: leafKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certPem: forge.pki.certificateToPem(leaf),
  };
}

/** A minimal one-page PDF (valid header and %%EOF). */
export const TINY_PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n' +
    '3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n',
  'latin1',
);

/** Our development organisation (config default ORG_NUMBER; not Luhn-valid, see the report). */
export const OUR_ORG = '2120000000' as OrganisationNumber;

export function testLetter(recipient: string, overrides: Partial<LetterForDelivery> = {}): LetterForDelivery {
  return {
    deliveryId: `test-${Math.random().toString(36).slice(2)}-${Date.now()}`,
    sender: { organisationNumber: OUR_ORG, name: 'Sändebuds kommun (dev)' },
    recipient: recipient as RecipientId,
    subject: 'Beslut om hemtjänst',
    supportInfo: { text: 'Frågor? Ring kundtjänst vardagar 8–16.', url: 'https://www.example.se/kontakt', phoneNumber: '+46 8 123 456 00', emailAddress: 'info@example.se' },
    body: { contentType: 'text/html', content: Buffer.from('<!DOCTYPE html><html lang="sv"><head><meta charset="utf-8"><title>Beslut</title></head><body><p>Hej!</p></body></html>', 'utf8') },
    attachments: [{ contentType: 'application/pdf', filename: 'beslut.pdf', content: TINY_PDF }],
    receivedAt: new Date(),
    ...overrides,
  };
}

export const targetFor = (serviceAddress: string, id = '165560000001', name = 'A'): DeliveryTarget => ({ serviceAddress, operator: { id, name } });
