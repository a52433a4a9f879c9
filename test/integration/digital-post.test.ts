// Digital post end to end through the real gateway (issue 5): REST API with real LoA3-provider tokens, the outbox
// and queue on real PostgreSQL/Redis, FaR, two mailbox operators and the print provider as simulators over
// mutual TLS. Every FaR outcome, the operator's signature check, the paper fallback and its named failures.
import { startTestGateway, systemToken, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/logger.js';
import { TEST_RECIPIENTS } from '../../adapters/digital-post/simulator/index.js';

const SCOPES = ['urn:sandebud:digital-post:send', 'urn:sandebud:digital-post:read'];
const ADDRESS = { name: 'Anna Andersson', street: 'Storgatan 1', postalCode: '123 45', town: 'Sundsvall' };

interface Letter { id: string; status: string; channel: string | null; reason: string | null; paperReason: string | null; operator: { id: string } | null; events: { status: string }[]; receipts: { kind: string; id: string | null; requestSha256?: string }[] }

describe('digital post through the gateway', () => {
  let t: TestGateway;
  let token: string;
  let n = 0;

  beforeAll(async () => {
    t = await startTestGateway({ FAR_CACHE_TTL_MS: '0' });
    token = await systemToken(t.gw, 'case-system', 'dev-case-secret', SCOPES);
  }, 90000);
  afterAll(async () => { await t.stop(); });

  const api = (path: string, init: { method?: string; body?: unknown; key?: string; token?: string } = {}) => fetch(`${t.gw.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${init.token ?? token}`, 'content-type': 'application/json', ...(init.key ? { 'idempotency-key': init.key } : {}) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });

  const letter = (recipient: string, extra: Record<string, unknown> = {}) => ({
    recipient, subject: 'Beslut om bistånd', body: { contentType: 'text/plain', content: 'Hej!\r\nHär kommer ditt beslut.' },
    supportInfo: { text: 'Ring socialtjänsten', phoneNumber: '060-19 10 00' }, postalAddress: ADDRESS, ...extra,
  });

  async function send(recipient: string, extra: Record<string, unknown> = {}): Promise<string> {
    const res = await api('/v1/digital-post/letters', { method: 'POST', body: letter(recipient, extra), key: `key-${Date.now()}-${n++}` });
    expect(res.status).toBe(202);
    return ((await res.json()) as { id: string }).id;
  }

  async function settled(id: string, final: string[] = ['DELIVERED', 'PRINTED', 'FAILED', 'HELD', 'REJECTED']): Promise<Letter> {
    let last: Letter | undefined;
    await waitFor(async () => {
      last = (await (await api(`/v1/digital-post/letters/${id}`)).json()) as Letter;
      return final.includes(last.status);
    }, `letter ${id} to settle`, 30000, 100);
    return last!;
  }

  it('delivers digitally to operator A, signed and sealed, and stores the operator receipt', async () => {
    const id = await send(TEST_RECIPIENTS.REACHABLE_A);
    const l = await settled(id);
    expect(l).toMatchObject({ status: 'DELIVERED', channel: 'digital', reason: 'DELIVERED', paperReason: null });
    expect(l.events.map((e) => e.status)).toEqual(['RECEIVED', 'SENDING', 'DELIVERED']);
    expect(l.receipts).toHaveLength(1);
    expect(l.receipts[0]).toMatchObject({ kind: 'operator-receipt' });
    expect(l.receipts[0]!.requestSha256).toMatch(/^[0-9a-f]{64}$/);
    // The operator simulator verified both signatures and recorded exactly one delivery for this letter.
    const got = t.gw.world!.mailboxA.deliveries.filter((d) => JSON.stringify(d).includes(id));
    expect(got).toHaveLength(1);
    expect(t.gw.world!.print.calls.some((c) => JSON.stringify(c).includes(id))).toBe(false);
  });

  it('delivers to operator B when FaR says so', async () => {
    const l = await settled(await send(TEST_RECIPIENTS.REACHABLE_B));
    expect(l.status).toBe('DELIVERED');
    expect(l.operator?.id).toBe('165560000019');
  });

  it.each([
    ['not registered', TEST_RECIPIENTS.NOT_REGISTERED, 'NOT_REGISTERED'],
    ['no entry in the answer', TEST_RECIPIENTS.NO_ENTRY, 'NOT_REGISTERED'],
    ['anonymous account', TEST_RECIPIENTS.ANONYMOUS, 'ACCOUNT_NOT_SECURE'],
    ['sender not accepted', TEST_RECIPIENTS.SENDER_NOT_ACCEPTED, 'SENDER_NOT_ACCEPTED'],
    ['pending (and sender not accepted: order matters)', TEST_RECIPIENTS.PENDING_AND_SENDER_NOT_ACCEPTED, 'SENDER_NOT_ACCEPTED'],
    ['pending', TEST_RECIPIENTS.PENDING, 'PENDING'],
    ['no service supplier', TEST_RECIPIENTS.NO_SERVICE_SUPPLIER, 'NO_SERVICE_SUPPLIER'],
    ['blank service address', TEST_RECIPIENTS.NO_SERVICE_ADDRESS, 'NO_SERVICE_ADDRESS'],
  ])('goes to paper when FaR says %s, naming the reason', async (_what, recipient, reason) => {
    const l = await settled(await send(recipient));
    expect(l).toMatchObject({ status: 'PRINTED', channel: 'paper', reason, paperReason: reason });
    expect(l.events.map((e) => e.status)).toEqual(['RECEIVED', 'PAPER_QUEUED', 'PRINTED']);
    expect(l.receipts.map((r) => r.kind)).toEqual(['print-confirmation']);
  });

  it('falls back to paper when the operator answers Delivered=false', async () => {
    const l = await settled(await send(TEST_RECIPIENTS.OPERATOR_NOT_DELIVERED));
    expect(l).toMatchObject({ status: 'PRINTED', channel: 'paper', reason: 'NOT_DELIVERED', paperReason: 'NOT_DELIVERED' });
    expect(l.events.map((e) => e.status)).toEqual(['RECEIVED', 'SENDING', 'PAPER_QUEUED', 'PRINTED']);
  });

  it('ends in a named failure when a letter must go on paper but has no postal address', async () => {
    const l = await settled(await send(TEST_RECIPIENTS.NOT_REGISTERED, { postalAddress: undefined }));
    expect(l).toMatchObject({ status: 'FAILED', reason: 'NO_POSTAL_ADDRESS' });
  });

  it('ends in a named failure when the caller forbade paper', async () => {
    const l = await settled(await send(TEST_RECIPIENTS.PENDING, { paperFallback: false }));
    expect(l).toMatchObject({ status: 'FAILED', reason: 'DIGITAL_ONLY_NOT_REACHABLE' });
  });

  it('returns the same letter for a repeated Idempotency-Key and 409 for a different body', async () => {
    const body = letter(TEST_RECIPIENTS.REACHABLE_A);
    const a = await api('/v1/digital-post/letters', { method: 'POST', body, key: 'idem-same-1' });
    const b = await api('/v1/digital-post/letters', { method: 'POST', body, key: 'idem-same-1' });
    expect(a.status).toBe(202);
    expect(b.status).toBe(200);
    expect(((await b.json()) as { id: string }).id).toBe(((await a.json()) as { id: string }).id);
    const c = await api('/v1/digital-post/letters', { method: 'POST', body: { ...body, subject: 'Annat' }, key: 'idem-same-1' });
    expect(c.status).toBe(409);
    expect(await c.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
  });

  it.each([
    ['a wrong personnummer check digit', { recipient: '195303231856' }, '/body/recipient'],
    ['an impossible date', { recipient: '195302301855' }, '/body/recipient'],
    ['a subject over 255 characters', { subject: 'x'.repeat(256) }, '/body/subject'],
    ['an unsupported content type', { body: { contentType: 'text/markdown', content: '# hej' } }, '/body/body/contentType'],
    ['HTML with a script', { body: { contentType: 'text/html', content: '<p>hej</p><script>alert(1)</script>' } }, '/body/body/content'],
    ['an oversized body', { body: { contentType: 'text/plain', content: 'x'.repeat(1_600_000) } }, '/body/body/content'],
  ])('refuses %s with 400 naming the field, and stores nothing', async (_what, patch, field) => {
    const before = await t.db.pool.query('SELECT count(*)::int AS n FROM deliveries');
    const res = await api('/v1/digital-post/letters', { method: 'POST', body: { ...letter(TEST_RECIPIENTS.REACHABLE_A), ...patch }, key: `bad-${n++}-input` });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    const p = (await res.json()) as { errors: { field: string }[] };
    expect(p.errors.map((e) => e.field)).toContain(field);
    const after = await t.db.pool.query('SELECT count(*)::int AS n FROM deliveries');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('checks reachability of many recipients in one FaR call, without sending', async () => {
    const calls = t.gw.world!.far.calls.length;
    const res = await api('/v1/digital-post/reachability', { method: 'POST', body: { recipients: [TEST_RECIPIENTS.REACHABLE_A, TEST_RECIPIENTS.NOT_REGISTERED, TEST_RECIPIENTS.PENDING] } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { recipient: string; reachable: boolean; reason: string; operator: string | null }[];
    expect(body[0]).toMatchObject({ recipient: TEST_RECIPIENTS.REACHABLE_A, reachable: true, reason: 'REACHABLE' });
    expect(body[1]).toMatchObject({ reachable: false, reason: 'NOT_REGISTERED', operator: null });
    expect(t.gw.world!.far.calls.length - calls).toBeLessThanOrEqual(1);
  });

  it('sends a batch with one FaR lookup and a status per recipient', async () => {
    const recipients = [TEST_RECIPIENTS.REACHABLE_A, TEST_RECIPIENTS.REACHABLE_B, TEST_RECIPIENTS.NOT_REGISTERED].map((r) => ({ recipient: r, postalAddress: ADDRESS }));
    const farBefore = t.gw.world!.far.calls.length;
    const { recipient: _r, postalAddress: _p, ...content } = letter(TEST_RECIPIENTS.REACHABLE_A);
    const res = await api('/v1/digital-post/batches', { method: 'POST', body: { letter: content, recipients }, key: `batch-${n++}-key` });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    let batch: { counts: Record<string, number>; letters: { status: string; recipient: string }[] } | undefined;
    await waitFor(async () => {
      batch = (await (await api(`/v1/digital-post/batches/${id}`)).json()) as typeof batch;
      return (batch!.counts.DELIVERED ?? 0) === 2 && (batch!.counts.PRINTED ?? 0) === 1;
    }, 'batch to settle', 30000, 200);
    expect(batch!.letters.map((l) => l.status)).toEqual(['DELIVERED', 'DELIVERED', 'PRINTED']);
    expect(batch!.letters[0]!.recipient).toMatch(/^\d{8}\*{4}$/);
    expect(t.gw.world!.far.calls.length - farBefore).toBe(1);
  });

  it('refuses a caller without the digital-post scope, and hides other callers\' letters', async () => {
    const sdkOnly = await systemToken(t.gw, 'case-system-b', 'dev-case-b-secret', ['urn:sdk.api:getMessage']);
    const res = await api('/v1/digital-post/letters', { method: 'POST', body: letter(TEST_RECIPIENTS.REACHABLE_A), key: 'scope-test-1', token: sdkOnly });
    expect(res.status).toBe(403);
    const id = await send(TEST_RECIPIENTS.REACHABLE_A);
    const other = await api(`/v1/digital-post/letters/${id}`, { token: sdkOnly });
    expect(other.status).toBe(403);
  });

  it('never writes a personnummer or letter text to the log', () => {
    const log = t.lines.join('');
    for (const r of Object.values(TEST_RECIPIENTS)) expect(log).not.toContain(r);
    expect(log).not.toContain('Här kommer ditt beslut');
    expect(log).not.toContain('Storgatan');
  });
});
