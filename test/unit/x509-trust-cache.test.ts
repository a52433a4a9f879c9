// The chain cache in adapters/shared/x509-trust.ts (bench:digital-post: an operator sees the same sender
// certificate on every letter). A cached path must never widen trust: validity is checked at every call's own
// time, a path found through one store means nothing to another, and failures are never cached.
import { X509Certificate } from 'node:crypto';
import { certificateFromBase64, createTrustStore, leafCertificate, verifyCertificateChain } from '../../adapters/shared/x509-trust.js';
import { loadTestPki, strangerPki, type TestPki } from '../integration/digital-post-adapters/fixtures.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await loadTestPki();
});

const base64Of = (pem: string): string => pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');

describe('verifyCertificateChain with its cache', () => {
  it('still refuses a cached certificate at a time outside its validity', () => {
    const store = createTrustStore(pki.caBundle);
    const leaf = leafCertificate(pki.cert('org-sign'));
    expect(verifyCertificateChain(leaf, store).ok).toBe(true);
    expect(verifyCertificateChain(leaf, store).ok).toBe(true); // from the cache
    const after = new Date(new Date(leaf.validTo).getTime() + 1000);
    expect(verifyCertificateChain(leaf, store, { at: after })).toEqual({ ok: false, reason: 'certificate is not valid at this time' });
    const before = new Date(new Date(leaf.validFrom).getTime() - 1000);
    expect(verifyCertificateChain(leaf, store, { at: before })).toEqual({ ok: false, reason: 'certificate is not valid at this time' });
  });

  it('gives the same chain from the cache as when it built it', () => {
    const store = createTrustStore(pki.caBundle);
    const leaf = leafCertificate(pki.cert('org-seal'));
    const first = verifyCertificateChain(leaf, store);
    const second = verifyCertificateChain(leaf, store);
    if (!first.ok || !second.ok) throw new Error('expected both to verify');
    expect(second.chain.map((c) => c.fingerprint256)).toEqual(first.chain.map((c) => c.fingerprint256));
    expect(first.chain.length).toBeGreaterThanOrEqual(2);
  });

  it('does not carry a success over to another trust store', () => {
    const ours = createTrustStore(pki.caBundle);
    const stranger = strangerPki();
    const theirs = createTrustStore(stranger.caPem);
    const leaf = leafCertificate(pki.cert('org-sign'));
    expect(verifyCertificateChain(leaf, ours).ok).toBe(true);
    expect(verifyCertificateChain(leaf, theirs)).toEqual({ ok: false, reason: 'certificate does not chain to a trusted CA' });
  });

  it('does not cache a failure: the same certificate verifies once a store trusts it', () => {
    const stranger = strangerPki();
    const leaf = leafCertificate(stranger.certPem);
    expect(verifyCertificateChain(leaf, createTrustStore(pki.caBundle)).ok).toBe(false);
    expect(verifyCertificateChain(leaf, createTrustStore(stranger.caPem)).ok).toBe(true);
  });

  it('keeps the key-usage rule on a cached path (a key-usage-less check is its own entry)', () => {
    const store = createTrustStore(pki.caBundle);
    const tls = leafCertificate(pki.cert('org-tls-client'));
    const strict = verifyCertificateChain(tls, store);
    const lax = verifyCertificateChain(tls, store, { requireDigitalSignature: false });
    expect(lax.ok).toBe(true);
    // Whatever the TLS certificate's key usage, asking again with the strict rule gives the same answer as before.
    expect(verifyCertificateChain(tls, store)).toEqual(strict);
  });
});

describe('certificateFromBase64', () => {
  it('parses a certificate once, whatever whitespace the base64 carries', () => {
    const b64 = base64Of(pki.cert('org-sign'));
    const a = certificateFromBase64(b64);
    const b = certificateFromBase64(b64.replace(/(.{64})/g, '$1\n'));
    expect(a).toBeInstanceOf(X509Certificate);
    expect(b).toBe(a);
    expect(a.fingerprint256).toBe(new X509Certificate(pki.cert('org-sign')).fingerprint256);
  });
  it('throws on something that is not a certificate', () => {
    expect(() => certificateFromBase64('bm90IGEgY2VydGlmaWNhdGU=')).toThrow();
  });
});
