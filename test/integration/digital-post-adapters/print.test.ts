// Print adapter ↔ print simulator over HTTPS with mutual TLS (../shared/specs/digital-post.md §8.2; checklist §11 #42).
import { createPrintProvider, type HttpPrintProvider } from '../../../adapters/print/index.js';
import { startPrintSimulator, type PrintSimulator } from '../../../adapters/print/simulator/index.js';
import { classifyDeliveryFailure } from '../../../src/domain/digital-post.js';
import type { PostalAddress } from '../../../src/ports/digital-post.port.js';
import { loadTestPki, TINY_PDF, type TestPki } from './fixtures.js';

let pki: TestPki;
let sim: PrintSimulator;
let provider: HttpPrintProvider;

const address: PostalAddress = { name: 'Anna Andersson', careOf: 'c/o Berg', street: 'Storgatan 1', apartment: 'Lgh 1101', postalCode: '85230', town: 'SUNDSVALL' };

beforeAll(async () => {
  pki = await loadTestPki();
  sim = await startPrintSimulator({ port: 0, tls: pki.tls('print-tls'), printedAfterMs: 30, postedAfterMs: 60 });
  provider = createPrintProvider({ url: sim.url, tls: pki.tls('org-tls-client') });
});
afterAll(async () => {
  await provider.close();
  await sim.close();
});

describe('print round trip', () => {
  it('submits PDF + address and returns the provider\'s job id; the job moves to PRINTED and POSTED', async () => {
    const c = await provider.submit({ letterId: 'letter-1', pdf: TINY_PDF, billingUnit: 'Socialtjänsten' }, address);
    expect(c).toEqual({ letterId: 'letter-1', jobId: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'ACCEPTED', duplicate: false });
    expect(sim.jobs.at(-1)).toMatchObject({ jobId: c.jobId, letterId: 'letter-1', destination: { postalCode: '852 30', town: 'SUNDSVALL' }, pages: 1 });
    expect(sim.calls.at(-1)!.clientSubject).toContain('TLS client');
    await new Promise((r) => setTimeout(r, 80));
    const s = await provider.status(c.jobId);
    expect(s).toMatchObject({ jobId: c.jobId, status: 'POSTED' });
    expect(s.printedAt!.getTime()).toBeLessThanOrEqual(s.postedAt!.getTime());
  });

  it('is idempotent by letter id: a resubmission gets the same job, marked as a duplicate', async () => {
    const first = await provider.submit({ letterId: 'letter-2', pdf: TINY_PDF }, address);
    const again = await provider.submit({ letterId: 'letter-2', pdf: TINY_PDF }, address);
    expect(again).toEqual({ ...first, duplicate: true });
    expect(sim.jobs.filter((j) => j.letterId === 'letter-2')).toHaveLength(1);
  });

  it.each([
    ['a non-PDF', { letterId: 'l-3', pdf: Buffer.from('hello') }, address, 'NOT_PDF'],
    ['a PDF without %%EOF', { letterId: 'l-4', pdf: Buffer.from('%PDF-1.4\n1 0 obj\n') }, address, 'PDF_UNREADABLE'],
    ['a foreign address without postal code', { letterId: 'l-5', pdf: TINY_PDF }, { ...address, postalCode: '', country: 'NORGE' }, 'ADDRESS_INCOMPLETE'],
  ])('ends a rejected job with the provider\'s reason: %s', async (_name, letter, addr, reason) => {
    const err = await provider.submit(letter, addr).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PRINT_REJECTED', retryable: false, details: { reason } });
  });

  it('checks a Swedish postal code before sending', async () => {
    await expect(provider.submit({ letterId: 'l-6', pdf: TINY_PDF }, { ...address, postalCode: '8523' })).rejects.toMatchObject({ code: 'INVALID_POSTAL_ADDRESS', status: 400 });
  });

  it('reports an unreachable provider as retryable PRINT_UNAVAILABLE', async () => {
    const down = createPrintProvider({ url: 'https://127.0.0.1:9/print/v1', tls: pki.tls('org-tls-client') });
    try {
      const err = await down.submit({ letterId: 'l-7', pdf: TINY_PDF }, address).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'PRINT_UNAVAILABLE', retryable: true });
      // Not a delivery failure: the digital-post classification does not know it and stays conservative.
      expect(classifyDeliveryFailure(err).kind).toBe('retry');
    } finally {
      await down.close();
    }
  });
});
