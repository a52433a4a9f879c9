// Mutual TLS on every digital-post leg (../shared/specs/digital-post.md §4; checklist §11 #38): a client
// certificate from an unknown CA is refused during the TLS handshake, before any HTTP, and an untrusted server
// is refused by our client. Both count as "not sent" (retry), never as an unknown outcome.
import { createMtlsAgent } from '../../../adapters/shared/mtls-http.js';
import { FarRecipientRegistry } from '../../../adapters/digital-post/recipient/far-recipient-registry.js';
import { createDigitalPostAdapters } from '../../../adapters/digital-post/index.js';
import { createPrintProvider } from '../../../adapters/print/index.js';
import { startFarSimulator, startMailboxOperatorSimulator, TEST_RECIPIENTS as T, type FarSimulator, type MailboxOperatorSimulator } from '../../../adapters/digital-post/simulator/index.js';
import { startPrintSimulator, type PrintSimulator } from '../../../adapters/print/simulator/index.js';
import { classifyDeliveryFailure, type RecipientId } from '../../../src/domain/digital-post.js';
import { loadTestPki, OUR_ORG, strangerPki, targetFor, testLetter, TINY_PDF, type TestPki } from './fixtures.js';

let pki: TestPki;
let far: FarSimulator;
let op: MailboxOperatorSimulator;
let print: PrintSimulator;
let stranger: ReturnType<typeof strangerPki>;

beforeAll(async () => {
  pki = await loadTestPki();
  stranger = strangerPki();
  op = await startMailboxOperatorSimulator({ port: 0, tls: pki.tls('mailbox-a-tls'), signatureTrust: pki.caBundle });
  far = await startFarSimulator({ port: 0, tls: pki.tls('far-tls'), operators: { A: { serviceAddress: op.serviceAddress }, B: { serviceAddress: op.serviceAddress } } });
  print = await startPrintSimulator({ port: 0, tls: pki.tls('print-tls') });
});
afterAll(async () => {
  await Promise.all([far.close(), op.close(), print.close()]);
});

/** A client presenting the stranger's certificate but trusting our CA for the server. */
const strangerTls = () => ({ key: stranger.keyPem, cert: stranger.certPem, ca: pki.caBundle });

describe('a wrong client certificate is refused at TLS', () => {
  it('by FaR: FAR_UNAVAILABLE, and no request reached the simulator', async () => {
    const agent = createMtlsAgent({ tls: strangerTls() });
    try {
      const before = far.calls.length;
      const r = new FarRecipientRegistry({ agent, url: far.url, cacheTtlMs: 0 });
      await expect(r.isReachable([T.REACHABLE_A as RecipientId], OUR_ORG)).rejects.toMatchObject({ code: 'FAR_UNAVAILABLE' });
      expect(far.calls.length).toBe(before);
    } finally {
      await agent.close();
    }
  });

  it('by a mailbox operator: no request reaches it, and the letter is retried, never printed on a guess', async () => {
    const dp = createDigitalPostAdapters({ tls: strangerTls(), far: { url: far.url }, signing: { seal: pki.cred('org-seal'), pool: { size: 1 } } });
    try {
      const before = op.calls.length;
      const err = await dp.mailbox.deliverSecure(testLetter(T.REACHABLE_A), targetFor(op.serviceAddress)).catch((e: unknown) => e);
      // In TLS 1.3 the server checks the client certificate after the client has finished its handshake
      // and written the request; Node's server then just closes. To the client that is indistinguishable
      // from a reset after sending, so it is OUTCOME_UNKNOWN (retry, then hold). With TLS 1.2 the refusal
      // happens inside the handshake: OPERATOR_UNAVAILABLE.
      expect(['OUTCOME_UNKNOWN', 'OPERATOR_UNAVAILABLE']).toContain((err as { code?: string }).code);
      expect(classifyDeliveryFailure(err).kind).toBe('retry');
      expect(op.calls.length).toBe(before);
    } finally {
      await dp.close();
    }
  });

  it('by the print provider: PRINT_UNAVAILABLE', async () => {
    const p = createPrintProvider({ url: print.url, tls: strangerTls() });
    try {
      await expect(p.submit({ letterId: 'tls-1', pdf: TINY_PDF }, { name: 'A', street: 'B 1', postalCode: '111 22', town: 'C' })).rejects.toMatchObject({ code: 'PRINT_UNAVAILABLE' });
      expect(print.calls).toHaveLength(0);
    } finally {
      await p.close();
    }
  });

  it('a client without any certificate is refused too', async () => {
    const agent = createMtlsAgent({ tls: { key: '', cert: '', ca: pki.caBundle } });
    try {
      const r = new FarRecipientRegistry({ agent, url: far.url, cacheTtlMs: 0 });
      await expect(r.isReachable([T.REACHABLE_A as RecipientId], OUR_ORG)).rejects.toMatchObject({ code: 'FAR_UNAVAILABLE' });
    } finally {
      await agent.close();
    }
  });
});

describe('an untrusted server is refused by our client', () => {
  it('FaR presenting a certificate from a CA we do not trust', async () => {
    const rogue = await startFarSimulator({ port: 0, tls: { key: stranger.keyPem, cert: stranger.certPem, ca: pki.caBundle }, operators: { A: { serviceAddress: op.serviceAddress }, B: { serviceAddress: op.serviceAddress } } });
    const agent = createMtlsAgent({ tls: pki.tls('org-tls-client') });
    try {
      const r = new FarRecipientRegistry({ agent, url: rogue.url, cacheTtlMs: 0 });
      const err = await r.isReachable([T.REACHABLE_A as RecipientId], OUR_ORG).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'FAR_UNAVAILABLE' });
      expect((err as { cause?: { kind?: string; phase?: string } }).cause).toMatchObject({ kind: 'tls', phase: 'not-sent' });
      expect(rogue.calls).toHaveLength(0);
    } finally {
      await agent.close();
      await rogue.close();
    }
  });
});
