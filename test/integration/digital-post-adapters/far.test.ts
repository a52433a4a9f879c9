// FaR adapter ↔ FaR simulator over real sockets with mutual TLS (../shared/specs/digital-post.md §5; checklist
// §11 #1–#13). Every scripted outcome, lookup errors, batching, de-duplication and the cache.
import { createMtlsAgent } from '../../../adapters/shared/mtls-http.js';
import { FarRecipientRegistry } from '../../../adapters/digital-post/recipient/far-recipient-registry.js';
import { startFarSimulator, TEST_RECIPIENTS as T, type FarSimulator } from '../../../adapters/digital-post/simulator/index.js';
import type { OrganisationNumber, RecipientId } from '../../../src/domain/digital-post.js';
import { luhnCheckDigit } from '../../../src/domain/digital-post.js';
import { loadTestPki, OUR_ORG, type TestPki } from './fixtures.js';

let pki: TestPki;
let far: FarSimulator;
const OPA = 'https://127.0.0.1:9/a/service/v3';
const OPB = 'https://127.0.0.1:9/b/service/v3';
const agents: Array<{ close(): Promise<void> }> = [];

function registry(opts: { readTimeoutMs?: number; cacheTtlMs?: number; url?: string } = {}): FarRecipientRegistry {
  const agent = createMtlsAgent({ tls: pki.tls('org-tls-client'), readTimeoutMs: opts.readTimeoutMs });
  agents.push(agent);
  return new FarRecipientRegistry({ agent, url: opts.url ?? far.url, cacheTtlMs: opts.cacheTtlMs ?? 0 });
}

beforeAll(async () => {
  pki = await loadTestPki();
  far = await startFarSimulator({ port: 0, tls: pki.tls('far-tls'), operators: { A: { serviceAddress: OPA }, B: { serviceAddress: OPB } }, slowMs: 2500 });
});
afterAll(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await far.close();
});
beforeEach(() => {
  far.calls.length = 0;
});

const ids = (...xs: string[]) => xs as RecipientId[];

describe('every FaR outcome through the simulator', () => {
  it.each([
    [T.REACHABLE_A, 'REACHABLE', OPA],
    [T.REACHABLE_B, 'REACHABLE', OPB],
    [T.REACHABLE_A_SAMORDNINGSNUMMER, 'REACHABLE', OPA],
    [T.REACHABLE_B_ORGANISATION, 'REACHABLE', OPB],
    [T.NOT_REGISTERED, 'NOT_REGISTERED', undefined],
    [T.NO_ENTRY, 'NOT_REGISTERED', undefined],
    [T.ANONYMOUS, 'ACCOUNT_NOT_SECURE', undefined],
    [T.SENDER_NOT_ACCEPTED, 'SENDER_NOT_ACCEPTED', undefined],
    [T.PENDING_AND_SENDER_NOT_ACCEPTED, 'SENDER_NOT_ACCEPTED', undefined],
    [T.PENDING, 'PENDING', undefined],
    [T.NO_SERVICE_SUPPLIER, 'NO_SERVICE_SUPPLIER', undefined],
    [T.NO_SERVICE_ADDRESS, 'NO_SERVICE_ADDRESS', undefined],
    [T.INVALID_SERVICE_ADDRESS, 'NO_SERVICE_ADDRESS', undefined],
  ])('%s → %s', async (id, reason, address) => {
    const out = await registry().isReachable(ids(id), OUR_ORG);
    const o = out.get(id as RecipientId)!;
    expect(o.reason).toBe(reason);
    if (address) expect(o).toMatchObject({ reachable: true, operator: { serviceAddress: address } });
    expect(far.calls).toHaveLength(1);
    expect(far.calls[0]).toMatchObject({ senderOrgNr: '162120000000', recipientIds: [id], result: 'answered' });
    expect(far.calls[0]!.clientSubject).toContain('TLS client');
  });

  it('answers all scripted ids in one call, matched by id although the simulator reverses the order', async () => {
    const all = ids(T.REACHABLE_A, T.NOT_REGISTERED, T.PENDING, T.REACHABLE_B, T.NO_ENTRY);
    const out = await registry().isReachable(all, OUR_ORG);
    expect([...out.keys()]).toEqual(all);
    expect([...out.values()].map((o) => o.reason)).toEqual(['REACHABLE', 'NOT_REGISTERED', 'PENDING', 'REACHABLE', 'NOT_REGISTERED']);
    expect(far.calls).toHaveLength(1);
  });
});

describe('failed lookups are errors, never outcomes', () => {
  it.each([
    ['fault 5000', T.FAR_FAULT_5000, 'FAR_UNAVAILABLE', 5000],
    ['an isRegisteredResponse', T.FAR_WRONG_ELEMENT, 'FAR_UNAVAILABLE', undefined],
    ['HTTP 503 with HTML', T.FAR_HTTP_ERROR, 'FAR_UNAVAILABLE', undefined],
  ])('%s → %s', async (_name, id, code, faultCode) => {
    const err = await registry().isReachable(ids(T.REACHABLE_A, id), OUR_ORG).catch((e: unknown) => e);
    expect(err).toMatchObject({ code, retryable: true });
    if (faultCode) expect(err).toMatchObject({ details: { faultCode, callId: expect.stringMatching(/^SIM-/) } });
  });

  it('holds a sender FaR does not know (5014 → FAR_SENDER_REJECTED, not retryable)', async () => {
    const err = await registry().isReachable(ids(T.REACHABLE_A), '5590000005' as OrganisationNumber).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FAR_SENDER_REJECTED', retryable: false, details: { faultCode: 5014 } });
  });

  it('turns a read timeout into FAR_UNAVAILABLE, and the same slow answer within the timeout into REACHABLE', async () => {
    await expect(registry({ readTimeoutMs: 300 }).isReachable(ids(T.FAR_SLOW), OUR_ORG)).rejects.toMatchObject({ code: 'FAR_UNAVAILABLE' });
    const out = await registry({ readTimeoutMs: 5000 }).isReachable(ids(T.FAR_SLOW), OUR_ORG);
    expect(out.get(T.FAR_SLOW as RecipientId)?.reason).toBe('REACHABLE');
  });

  it('reports a refused connection as FAR_UNAVAILABLE', async () => {
    await expect(registry({ url: 'https://127.0.0.1:9/far' }).isReachable(ids(T.REACHABLE_A), OUR_ORG)).rejects.toMatchObject({ code: 'FAR_UNAVAILABLE' });
  });
});

describe('batching and de-duplication (§5.2, §11 #2–#3)', () => {
  const synthetic = (n: number): RecipientId[] =>
    Array.from({ length: n }, (_, i) => {
      // 1891-01-01 … with serials 000–999, then 1891-01-02 …: distinct, valid, and not among the scripted ids.
      const day = String(1 + Math.floor(i / 1000)).padStart(2, '0');
      const nine = `9101${day}${String(i % 1000).padStart(3, '0')}`;
      return `18${nine}${luhnCheckDigit(nine)}` as RecipientId;
    });

  it('splits 2,500 distinct ids into 3 calls of at most 1,000, each valid against our contract', async () => {
    const many = synthetic(2500);
    const out = await registry().isReachable(many, OUR_ORG);
    expect(out.size).toBe(2500);
    expect(far.calls).toHaveLength(3);
    expect(far.calls.map((c) => c.recipientIds.length).sort()).toEqual([1000, 1000, 500]);
    expect(far.calls.every((c) => c.result === 'answered')).toBe(true);
    expect(new Set(far.calls.flatMap((c) => c.recipientIds)).size).toBe(2500);
    expect([...out.values()].every((o) => o.reason === 'NOT_REGISTERED')).toBe(true);
  });

  it('never sends the same id twice and fans one answer out to duplicates', async () => {
    const out = await registry().isReachable(ids(T.REACHABLE_A, T.REACHABLE_A, T.REACHABLE_B, T.REACHABLE_A), OUR_ORG);
    expect(out.size).toBe(2);
    expect(far.calls[0]!.recipientIds).toEqual([T.REACHABLE_A, T.REACHABLE_B]);
  });
});

describe('cache (§5.6)', () => {
  it('serves repeated lookups per sender from the cache, and goes to FaR again after invalidate or with bypassCache', async () => {
    const r = registry({ cacheTtlMs: 60_000 });
    await r.isReachable(ids(T.REACHABLE_A, T.PENDING), OUR_ORG);
    await r.isReachable(ids(T.REACHABLE_A, T.PENDING), OUR_ORG);
    expect(far.calls).toHaveLength(1);
    // Another sender never shares the first sender's answers.
    await r.isReachable(ids(T.REACHABLE_A), '2021004748' as OrganisationNumber);
    expect(far.calls).toHaveLength(2);
    r.invalidate(OUR_ORG, T.REACHABLE_A as RecipientId);
    await r.isReachable(ids(T.REACHABLE_A, T.PENDING), OUR_ORG);
    expect(far.calls).toHaveLength(3);
    expect(far.calls[2]!.recipientIds).toEqual([T.REACHABLE_A]);
    await r.isReachable(ids(T.PENDING), OUR_ORG, { bypassCache: true });
    expect(far.calls).toHaveLength(4);
  });
});

describe('coalescing across letters (§5.6, §7.3)', () => {
  it('answers 2,500 concurrent one-letter lookups with 3 FaR calls', async () => {
    const { CoalescingRecipientRegistry } = await import('../../../adapters/digital-post/recipient/coalescing-registry.js');
    const inner = registry();
    const r = new CoalescingRecipientRegistry(inner, { lingerMs: 50 });
    const many = Array.from({ length: 2500 }, (_, i) => {
      const nine = `9102${String(1 + Math.floor(i / 1000)).padStart(2, '0')}${String(i % 1000).padStart(3, '0')}`;
      return `18${nine}${luhnCheckDigit(nine)}` as RecipientId;
    });
    const answers = await Promise.all([...many, T.REACHABLE_A as RecipientId].map((id) => r.isReachable([id], OUR_ORG)));
    expect(answers.every((m) => m.size === 1)).toBe(true);
    expect(answers.at(-1)!.get(T.REACHABLE_A as RecipientId)?.reason).toBe('REACHABLE');
    expect(far.calls).toHaveLength(3);
    expect(inner.farCalls).toBe(3);
  });

  it('fails every waiting lookup when the shared call fails', async () => {
    const { CoalescingRecipientRegistry } = await import('../../../adapters/digital-post/recipient/coalescing-registry.js');
    const r = new CoalescingRecipientRegistry(registry(), { lingerMs: 20 });
    const results = await Promise.allSettled([r.isReachable(ids(T.REACHABLE_A), OUR_ORG), r.isReachable(ids(T.FAR_FAULT_5000), OUR_ORG)]);
    expect(results.map((x) => x.status)).toEqual(['rejected', 'rejected']);
    expect(far.calls).toHaveLength(1);
  });
});
