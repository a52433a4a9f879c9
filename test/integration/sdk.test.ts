// SDK MT–MK API end to end through the real gateway (issue 6; sdk.md §10, §16.17–16.31): real bearer tokens from
// the development OP, grants seeded through the admin API, the outbox and queue on real PostgreSQL/Redis, the
// message-service core sealing, verifying and receipting, and the loopback access point carrying the envelopes —
// to our own function addresses (the message comes back to us as an inbound message) and to the simulated peer
// organisation (Region Dev, dev PKI peer1-* keys), which answers with its own signed receipts.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { listInAddressBook, startTestGateway, systemToken, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/logger.js';
import { FUNCTION_ADDRESS_ROOT, type MessageId, type ParticipantId, type SdkMessage } from '../../src/domain/sdk/index.js';
import { createSdkStore } from '../../src/store/sdk-message.repository.js';
import { expireOverdue } from '../../src/use-cases/sdk/sdk-messages.use-case.js';

const SDK_SCOPES = ['urn:sdk.api:sendMessage', 'urn:sdk.api:getMessage', 'urn:sdk.api:getMessageByFilter', 'urn:sdk.api:deleteMessage'];
const OURS = '0007:2120000000';
const FA_A = 'sdk:utkorg-a:0007:2120000000';
const FA_B = 'sdk:inkorg-b:0007:2120000000';
const FA_HIDDEN = 'sdk:inkorg-hemlig:0007:2120000000';
const PNR = '191212121212';
const BODY_TEXT = 'Vi behöver ett yttrande om Tolvan senast fredag.';
// A tiny PDF (base64): the content is carried, never interpreted.
const PDF_B64 = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n').toString('base64');

interface Issue { typeCode: string; title: string; detail?: string; in?: string; dateTime: string }
interface Resource {
  id: string;
  attributes: {
    messageStatus: string; messageId: string; conversationId: string; confidentiality: boolean; label?: string; sender: string; recipient: string;
    recipientAttention: { subOrganization: { extension: string }; attentionPerson: { extension?: string }[]; referenceId: { extension: string }[] };
    senderAttention?: { subOrganization: { extension: string } };
    digitalDocument?: { documentId: string; contentTextBody: string[]; contentFiles: { fileName: string; content: string }[] }[];
    events?: { type: string; title: string; detail?: string; instance: string; eventIssues: Issue[] };
  };
}

describe('SDK MT–MK API through the gateway', () => {
  let t: TestGateway;
  let tokenA: string; // case-system: send + read on FA_A
  let tokenB: string; // case-system-b: send + read on FA_B
  let admin: string;
  let n = 0;

  const api = (path: string, init: { method?: string; body?: unknown; key?: string; token?: string } = {}) => fetch(`${t.gw.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${init.token ?? tokenA}`, 'content-type': 'application/json', ...(init.key ? { 'idempotency-key': init.key } : {}) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });

  async function seedAddress(address: string, grants: Record<string, ('send' | 'read')[]>): Promise<void> {
    const created = await api('/v1/admin/function-addresses', { method: 'POST', token: admin, body: { address, name: `Test ${address}` } });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    for (const [principalId, permissions] of Object.entries(grants)) {
      const g = await api(`/v1/admin/function-addresses/${id}/grants`, { method: 'POST', token: admin, body: { principalId, permissions } });
      expect(g.status).toBe(201);
    }
  }

  beforeAll(async () => {
    t = await startTestGateway();
    [tokenA, tokenB, admin] = await Promise.all([
      systemToken(t.gw, 'case-system', 'dev-case-secret', SDK_SCOPES),
      systemToken(t.gw, 'case-system-b', 'dev-case-b-secret', SDK_SCOPES),
      systemToken(t.gw, 'admin-cli', 'dev-admin-cli-secret', ['urn:sandebud:admin']),
    ]);
    await seedAddress(FA_A, { 'system:case-system': ['send', 'read'] });
    await seedAddress(FA_B, { 'system:case-system-b': ['send', 'read'] });
    await seedAddress(FA_HIDDEN, {});
    // Every function address a message goes to must be in the national address book (sdk.md §3, §16.5).
    await listInAddressBook(t.gw, admin, OURS, [FA_A, FA_B]);
  }, 90000);
  afterAll(async () => { await t.stop(); });

  const peer = () => t.gw.sdk.peer!;

  function message(to: { participant: string; address: string }, extra: Record<string, unknown> = {}, from = FA_A): { data: { type: string; attributes: Record<string, unknown> } } {
    return {
      data: {
        type: 'messages',
        attributes: {
          confidentiality: true,
          label: 'Begäran om yttrande',
          sender: OURS,
          recipient: to.participant,
          senderAttention: { subOrganization: { root: FUNCTION_ADDRESS_ROOT, extension: from, label: 'Utkorg A' } },
          recipientAttention: {
            subOrganization: { root: FUNCTION_ADDRESS_ROOT, extension: to.address },
            attentionPerson: [{ root: '1.2.752.129.2.1.3.1', extension: PNR, label: 'Tolvan Tolvansson' }],
            referenceId: [{ root: 'dnr', extension: 'SOC 2026/17' }],
          },
          digitalDocument: [{ documentId: 'doc-1', documentName: 'Begäran', index: '1', contentTextBody: [BODY_TEXT], contentFiles: [{ fileName: 'underlag.pdf', contentType: 'application/pdf', content: PDF_B64 }] }],
          ...extra,
        },
      },
    };
  }

  async function send(body: unknown, token = tokenA): Promise<Resource> {
    const res = await api('/v1/sdk/messages', { method: 'POST', body, token, key: `sdk-key-${Date.now()}-${n++}` });
    if (res.status !== 201) throw new Error(`POST answered ${res.status}: ${await res.text()}`);
    const out = (await res.json()) as { data: Resource };
    expect(res.headers.get('location')).toBe(`/v1/sdk/messages/${out.data.id}`);
    return out.data;
  }

  async function get(id: string, token = tokenA): Promise<Resource> {
    const res = await api(`/v1/sdk/messages/${id}`, { token });
    expect(res.status).toBe(200);
    return ((await res.json()) as { data: Resource }).data;
  }

  async function settled(id: string, token = tokenA, final = ['ACCEPTED', 'MESSAGE_EXCHANGE_ERROR']): Promise<Resource> {
    let last: Resource | undefined;
    await waitFor(async () => {
      last = await get(id, token);
      return final.includes(last.attributes.messageStatus);
    }, `SDK message ${id} to settle`, 30000, 100);
    return last!;
  }

  async function list(query: string, token = tokenA): Promise<{ status: number; items: Resource[]; body: Record<string, unknown> }> {
    const res = await api(`/v1/sdk/messages${query}`, { token });
    const body = (await res.json()) as Record<string, unknown>;
    return { status: res.status, items: (body.data as Resource[] | undefined) ?? [], body };
  }

  async function inbox(messageId: string, token = tokenB): Promise<Resource[]> {
    return (await list(`?filter[recipientAttention.subOrganization.extension]=${encodeURIComponent(FA_B)}&page[size]=500`, token)).items.filter((m) => m.attributes.messageId === messageId);
  }

  it('a large attachment (stored once, in the payload; the request lets go of its copy) reaches B whole, and the sender reads it back whole', async () => {
    // 200 KB PDF = 266,668 base64 characters (≥ 64 Ki: kept as a byte range of the payload); a long text body next
    // to it must stay untouched even though it is also large (only files moved into the payload are let go).
    const bigPdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(200_000, 0x41)]).toString('base64');
    const longText = 'Lång text. '.repeat(7_000);
    const body = message({ participant: OURS, address: FA_B });
    (body.data.attributes as { digitalDocument: unknown[] }).digitalDocument = [{ documentId: 'big', contentTextBody: [longText], contentFiles: [{ fileName: 'stor.pdf', contentType: 'application/pdf', content: bigPdf }] }];
    const key = `sdk-big-${Date.now()}`;
    const first = await api('/v1/sdk/messages', { method: 'POST', body, token: tokenA, key });
    expect(first.status).toBe(201);
    const sent = ((await first.json()) as { data: Resource }).data;
    const expected = [{ documentId: 'big', contentTextBody: [longText], contentFiles: [{ fileName: 'stor.pdf', contentType: 'application/pdf', content: bigPdf }] }];
    expect((await get(sent.id)).attributes.digitalDocument).toEqual(expected);
    // The same request again (same key, same body) is recognised as the same message.
    const again = await api('/v1/sdk/messages', { method: 'POST', body, token: tokenA, key });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { data: Resource }).data.id).toBe(sent.id);
    let listed: Resource[] = [];
    await waitFor(async () => {
      listed = await inbox(sent.attributes.messageId);
      return listed.length === 1 && listed[0]!.attributes.messageStatus === 'NEW';
    }, 'the large message in B\'s inbox', 30000, 100);
    expect((await get(listed[0]!.id, tokenB)).attributes.digitalDocument).toEqual(expected);
    expect((await settled(sent.id)).attributes.messageStatus).toBe('ACCEPTED');
  });

  it('A sends to function address B: B lists and fetches it (NEW, complete), A sees the ACCEPTED receipt in its events', async () => {
    const sent = await send(message({ participant: OURS, address: FA_B }));
    expect(sent.attributes.messageStatus).toBe('SCHEDULED');
    expect(sent.id).toBe(sent.attributes.messageId);
    expect(sent.attributes.conversationId).toBe(sent.attributes.messageId);
    expect(sent.attributes.digitalDocument).toBeUndefined();

    // B's case system: the message lands in FA_B's inbox as NEW (listed without digitalDocument).
    let listed: Resource[] = [];
    await waitFor(async () => {
      listed = await inbox(sent.attributes.messageId);
      return listed.length === 1 && listed[0]!.attributes.messageStatus === 'NEW';
    }, 'the message in B\'s inbox', 30000, 100);
    expect(listed[0]!.attributes.digitalDocument).toBeUndefined();
    expect(listed[0]!.attributes.senderAttention?.subOrganization.extension).toBe(FA_A);
    const received = await get(listed[0]!.id, tokenB);
    expect(received.attributes).toMatchObject({ messageStatus: 'NEW', messageId: sent.attributes.messageId, confidentiality: true, label: 'Begäran om yttrande', sender: OURS, recipient: OURS });
    expect(received.attributes.digitalDocument).toEqual([{ documentId: 'doc-1', documentName: 'Begäran', index: '1', contentTextBody: [BODY_TEXT], contentFiles: [{ fileName: 'underlag.pdf', contentType: 'application/pdf', content: PDF_B64 }] }]);
    expect(received.attributes.recipientAttention.attentionPerson[0]!.extension).toBe(PNR);
    expect(received.attributes.events!.eventIssues.map((e) => e.typeCode)).toEqual(['NEW', 'RECEIPT_SENT', 'RETRIEVED']);

    // A's case system: the receipt ACCEPTED, every status change with its time, newest first.
    const out = await settled(sent.id);
    expect(out.attributes.messageStatus).toBe('ACCEPTED');
    const ev = out.attributes.events!;
    expect(ev).toMatchObject({ type: 'urn:event-type:sdk:message', title: 'ACCEPTED', detail: 'ACCEPTED', instance: sent.attributes.messageId });
    expect(ev.eventIssues.map((e) => e.typeCode)).toEqual(['ACCEPTED', 'WAITING_FOR_RECEIPT', 'ACKNOWLEDGE', 'SUBMITTED', 'SCHEDULED']);
    const times = ev.eventIssues.map((e) => Date.parse(e.dateTime));
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    // The foundation's view: one delivery DELIVERED with the receipt's exact bytes; the envelope we sent is kept.
    const d = await t.db.pool.query("SELECT d.status, r.kind, r.data->>'status' AS receipt, length(r.raw) AS raw FROM deliveries d JOIN receipts r ON r.delivery_id = d.id WHERE d.data->>'messageId' = $1", [sent.attributes.messageId]);
    expect(d.rows).toEqual([{ status: 'DELIVERED', kind: 'sdk-receipt', receipt: 'ACCEPTED', raw: expect.any(Number) }]);
    const m = await t.db.pool.query("SELECT direction, length(envelope) > 0 AS sealed FROM sdk_messages WHERE message_id = $1 ORDER BY direction", [sent.attributes.messageId]);
    expect(m.rows).toEqual([{ direction: 'in', sealed: null }, { direction: 'out', sealed: true }]);
  });

  it('sends to the simulated peer organisation and records its ACCEPTED receipt', async () => {
    const sent = await send(message({ participant: peer().participant, address: peer().functionAddress }));
    const out = await settled(sent.id);
    expect(out.attributes.messageStatus).toBe('ACCEPTED');
    const judged = peer().received.find((r) => r.xheId === sent.attributes.messageId);
    expect(judged?.verdict).toEqual({ status: 'ACCEPTED' });
    expect(judged?.message?.confidentiality).toBe(true);
  });

  it('ends in MESSAGE_EXCHANGE_ERROR with the receipt\'s reason when the peer rejects the message', async () => {
    // Listed in the national address book, but the peer has no such inbox (any more): the peer answers not-found.
    await listInAddressBook(t.gw, admin, peer().participant, ['sdk:finns-inte:0007:2321000016']);
    const sent = await send(message({ participant: peer().participant, address: 'sdk:finns-inte:0007:2321000016' }));
    const out = await settled(sent.id);
    expect(out.attributes.messageStatus).toBe('MESSAGE_EXCHANGE_ERROR');
    const issues = out.attributes.events!.eventIssues;
    const types = issues.map((e) => e.typeCode);
    // The peer answers before its access point reports the transport receipt, so ACKNOWLEDGE / WAITING_FOR_RECEIPT
    // may or may not be recorded before the receipt (a receipt may overtake the AS4 acknowledgement; a late
    // acknowledgement no longer changes a final message).
    expect(types.slice(0, 3)).toEqual(['MESSAGE_EXCHANGE_ERROR', 'REJECTED', 'BV']);
    expect(types.slice(-2)).toEqual(['SUBMITTED', 'SCHEDULED']);
    expect(issues[2]).toMatchObject({ typeCode: 'BV', title: 'not-found', in: expect.stringContaining('tns:subOrganization') });
    expect(out.attributes.events).toMatchObject({ title: 'MESSAGE_EXCHANGE_ERROR', detail: 'REJECTED' });
    const d = await t.db.pool.query("SELECT status FROM deliveries WHERE data->>'messageId' = $1", [sent.attributes.messageId]);
    expect(d.rows).toEqual([{ status: 'REJECTED' }]);
  });

  function peerMessage(address: string, messageId = randomUUID()): SdkMessage {
    const attention = (fa: string) => ({ persons: [], references: [], subOrganization: { organizationId: { root: FUNCTION_ADDRESS_ROOT, extension: fa } } });
    return {
      creationDateTime: new Date().toISOString(), messageId: messageId as MessageId, conversationId: messageId as MessageId, label: 'Svar från regionen', confidentiality: false,
      recipient: { id: OURS as ParticipantId, attention: attention(address) },
      sender: { id: peer().participant as ParticipantId, attention: attention('sdk:utkorg:0007:2321000016') },
      documents: [{ documentId: 'svar', files: [], texts: ['Här kommer vårt svar.'] }],
    };
  }

  it('a duplicate delivery never creates a second inbox item, and is answered REJECTED/BV/duplicate', async () => {
    const msg = peerMessage(FA_B);
    const first = await peer().send(msg);
    await waitFor(async () => (await inbox(msg.messageId)).length === 1, 'the peer\'s message in B\'s inbox', 30000, 100);
    await waitFor(() => peer().receipts.some((r) => r.documentReference === msg.messageId), 'the first receipt', 30000, 50);
    await peer().resend(first.envelope, first.routing);
    await waitFor(() => peer().receipts.filter((r) => r.documentReference === msg.messageId).length === 2, 'the second receipt', 30000, 50);
    const receipts = peer().receipts.filter((r) => r.documentReference === msg.messageId);
    expect(receipts.map((r) => r.status)).toEqual(['ACCEPTED', 'REJECTED']);
    expect(receipts[1]!.lines).toEqual([expect.objectContaining({ code: 'BV', detail: 'duplicate' })]);
    expect(await inbox(msg.messageId)).toHaveLength(1);
    const rows = await t.db.pool.query("SELECT count(*)::int AS n FROM sdk_messages WHERE direction = 'in' AND message_id = $1", [msg.messageId]);
    expect(rows.rows[0].n).toBe(1);
  });

  it('answers a message to an unknown function address of ours with REJECTED/BV/not-found and puts nothing in any inbox', async () => {
    const msg = peerMessage('sdk:finns-inte:0007:2120000000');
    await peer().send(msg);
    await waitFor(() => peer().receipts.some((r) => r.documentReference === msg.messageId), 'the receipt', 30000, 50);
    const receipt = peer().receipts.find((r) => r.documentReference === msg.messageId)!;
    expect(receipt.status).toBe('REJECTED');
    expect(receipt.lines[0]).toMatchObject({ code: 'BV', detail: 'not-found' });
    const rows = await t.db.pool.query('SELECT count(*)::int AS n FROM sdk_messages WHERE message_id = $1', [msg.messageId]);
    expect(rows.rows[0].n).toBe(0);
    // The envelope is kept with its verdict; the receipt's transport acknowledgement completes it.
    const envelope = async () => (await t.db.pool.query("SELECT state, verdict->>'status' AS verdict FROM sdk_inbound_envelopes WHERE xhe_id = $1", [msg.messageId])).rows;
    await waitFor(async () => (await envelope())[0]?.state === 'receipt-acknowledged', 'the receipt to be acknowledged', 30000, 50);
    expect(await envelope()).toEqual([{ state: 'receipt-acknowledged', verdict: 'REJECTED' }]);
  });

  describe('grants: a caller only ever sees and sends for its own function addresses', () => {
    let aMessage: Resource;
    beforeAll(async () => {
      aMessage = await send(message({ participant: peer().participant, address: peer().functionAddress }));
      await settled(aMessage.id);
    });

    it('refuses to send from a function address the caller has no send grant on (403), storing nothing', async () => {
      const before = await t.db.pool.query("SELECT count(*)::int AS n FROM sdk_messages WHERE direction = 'out'");
      const res = await api('/v1/sdk/messages', { method: 'POST', token: tokenB, body: message({ participant: OURS, address: FA_B }, {}, FA_A) });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ code: 'FUNCTION_ADDRESS_NOT_GRANTED' });
      const after = await t.db.pool.query("SELECT count(*)::int AS n FROM sdk_messages WHERE direction = 'out'");
      expect(after.rows[0].n).toBe(before.rows[0].n);
      const audit = await t.db.pool.query("SELECT 1 FROM audit_events WHERE type = 'ACCESS_DENIED' AND actor = 'system:case-system-b' AND subject = $1", [FA_A]);
      expect(audit.rows.length).toBeGreaterThan(0);
    });

    it('answers another inbox\'s message exactly like a message that does not exist (404), for GET and DELETE', async () => {
      const foreign = await api(`/v1/sdk/messages/${aMessage.id}`, { token: tokenB });
      const missing = await api(`/v1/sdk/messages/${randomUUID()}`, { token: tokenB });
      expect(foreign.status).toBe(404);
      expect(missing.status).toBe(404);
      const strip = (b: Record<string, unknown>) => ({ ...b, correlationId: undefined, instance: undefined });
      expect(strip((await foreign.json()) as Record<string, unknown>)).toEqual(strip((await missing.json()) as Record<string, unknown>));
      expect((await api(`/v1/sdk/messages/${aMessage.id}`, { method: 'DELETE', token: tokenB })).status).toBe(404);
      expect((await get(aMessage.id)).attributes.messageStatus).toBe('ACCEPTED');
    });

    it('refuses a filter naming a non-granted address (403), also an address nobody has', async () => {
      for (const address of [FA_A, FA_HIDDEN]) {
        const r = await list(`?filter[senderAttention.subOrganization.extension]=${encodeURIComponent(address)}`, tokenB);
        expect(r.status).toBe(403);
        expect(r.body).toMatchObject({ code: 'FUNCTION_ADDRESS_NOT_GRANTED' });
      }
    });

    it('lists silently only the caller\'s own addresses when unfiltered', async () => {
      const b = await list('?page[size]=500', tokenB);
      expect(b.status).toBe(200);
      expect(b.items.length).toBeGreaterThan(0);
      expect(b.items.every((m) => m.attributes.recipientAttention.subOrganization.extension === FA_B)).toBe(true);
      expect(b.items.some((m) => m.id === aMessage.id)).toBe(false);
      const a = await list('?page[size]=500', tokenA);
      expect(a.items.every((m) => m.attributes.senderAttention?.subOrganization.extension === FA_A)).toBe(true);
      expect(a.items.some((m) => m.id === aMessage.id)).toBe(true);
    });

    it('refuses a token without the operation\'s scope (403 INSUFFICIENT_SCOPE)', async () => {
      const narrow = await systemToken(t.gw, 'case-system', 'dev-case-secret', ['urn:sdk.api:getMessage']);
      const r = await list('', narrow);
      expect(r.status).toBe(403);
      expect(r.body).toMatchObject({ code: 'INSUFFICIENT_SCOPE' });
      expect((await api('/v1/sdk/messages', { method: 'POST', token: narrow, body: message({ participant: OURS, address: FA_B }) })).status).toBe(403);
    });
  });

  it('filters combine with AND, page, and never return digitalDocument', async () => {
    const r = await list(`?filter[messageStatus]=ACCEPTED&filter[senderAttention.subOrganization.extension]=${encodeURIComponent(FA_A)}&filter[creationDateTimeStart]=2020-01-01T00:00:00Z&page[size]=1`);
    expect(r.status).toBe(200);
    expect(r.items).toHaveLength(1);
    expect(r.items[0]!.attributes.messageStatus).toBe('ACCEPTED');
    expect(r.items[0]!.attributes.digitalDocument).toBeUndefined();
    expect(r.body.meta).toMatchObject({ version: 'sdk api 1.0.0', page: { number: 1, size: 1 } });
    expect((r.body.links as { next?: string }).next).toContain('page[number]=2');
    const none = await list(`?filter[messageStatus]=NEW&filter[senderAttention.subOrganization.extension]=${encodeURIComponent(FA_A)}`);
    expect(none).toMatchObject({ status: 200, items: [] });
    const future = await list('?filter[creationDateTimeStart]=2999-01-01T00:00:00Z');
    expect(future.items).toEqual([]);
    const bad = await list('?filter[messageStatus]=NOPE');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ type: 'urn:problem-type:sdk:badRequest' });
  });

  it('returns the same message for a repeated Idempotency-Key and 409 for a different body', async () => {
    const body = message({ participant: OURS, address: FA_B });
    const a = await api('/v1/sdk/messages', { method: 'POST', body, key: 'sdk-idem-1' });
    const b = await api('/v1/sdk/messages', { method: 'POST', body, key: 'sdk-idem-1' });
    expect(a.status).toBe(201);
    expect(b.status).toBe(200);
    const idA = ((await a.json()) as { data: Resource }).data.id;
    expect(((await b.json()) as { data: Resource }).data.id).toBe(idA);
    const c = await api('/v1/sdk/messages', { method: 'POST', body: message({ participant: OURS, address: FA_B }, { label: 'Annat' }), key: 'sdk-idem-1' });
    expect(c.status).toBe(409);
    expect(await c.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    const dup = await api('/v1/sdk/messages', { method: 'POST', body: message({ participant: OURS, address: FA_B }, { messageId: idA }) });
    expect(dup.status).toBe(409);
    expect(await dup.json()).toMatchObject({ code: 'SDK_MESSAGE_ID_EXISTS' });
  });

  it.each([
    ['without label', (b: ReturnType<typeof message>) => { delete b.data.attributes.label; }, '/body/data/attributes/label'],
    ['without confidentiality', (b: ReturnType<typeof message>) => { delete b.data.attributes.confidentiality; }, '/body/data/attributes/confidentiality'],
    ['without senderAttention', (b: ReturnType<typeof message>) => { delete b.data.attributes.senderAttention; }, '/body/data/attributes/senderAttention'],
    ['with a label over 256 characters', (b: ReturnType<typeof message>) => { b.data.attributes.label = 'x'.repeat(257); }, '/body/data/attributes/label'],
    ['with a document without text or file', (b: ReturnType<typeof message>) => { b.data.attributes.digitalDocument = [{ documentId: 'tom' }]; }, '/body/data/attributes/digitalDocument/0'],
    ['to an unknown function address of our own organisation', (b: ReturnType<typeof message>) => {
      (b.data.attributes.recipientAttention as { subOrganization: { extension: string } }).subOrganization.extension = 'sdk:finns-inte:0007:2120000000';
    }, '/body/data/attributes/recipientAttention/subOrganization/extension'],
  ])('refuses a message %s with 400 urn:problem-type:sdk:badRequest naming the field, storing nothing', async (_what, patch, field) => {
    const body = message({ participant: OURS, address: FA_B });
    patch(body);
    // Outbound rows only: an inbound copy of an earlier test's message to ourselves may still be arriving.
    const before = await t.db.pool.query("SELECT count(*)::int AS n FROM sdk_messages WHERE direction = 'out'");
    const res = await api('/v1/sdk/messages', { method: 'POST', body });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const p = (await res.json()) as { type: string; title: string; status: number; instance: string; eventIssues: Issue[] };
    expect(p).toMatchObject({ type: 'urn:problem-type:sdk:badRequest', title: 'Bad Request', status: 400, instance: expect.any(String) });
    expect(p.eventIssues.map((i) => i.in)).toContain(field);
    expect(p.eventIssues.every((i) => i.typeCode === 'MESSAGE_EXCHANGE_ERROR')).toBe(true);
    const after = await t.db.pool.query("SELECT count(*)::int AS n FROM sdk_messages WHERE direction = 'out'");
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  describe('a 32 MB message is refused with too-long before it is buffered', () => {
    const MB32 = 32 * 1024 * 1024;

    /** POST a body of `total` bytes, written slowly in 1 MiB chunks; stops writing when the answer arrives. */
    function streamingPost(total: number, declareLength: boolean): Promise<{ status: number; body: Record<string, unknown>; written: number }> {
      return new Promise((resolve, reject) => {
        const url = new URL('/v1/sdk/messages', t.gw.url);
        let written = 0;
        let answered = false;
        const req = http.request(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${tokenA}`, 'content-type': 'application/json', ...(declareLength ? { 'content-length': String(total) } : {}) },
        }, (res) => {
          answered = true;
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => { text += c; });
          res.on('end', () => { req.destroy(); resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown>, written }); });
        });
        req.on('error', (err) => { if (!answered) reject(err); });
        const chunk = Buffer.alloc(1024 * 1024, 0x41);
        const head = Buffer.from('{"data":{"type":"messages","attributes":{"label":"');
        const pump = (): void => {
          while (!answered && written < total) {
            const piece = written === 0 ? head : chunk.subarray(0, Math.min(chunk.length, total - written));
            written += piece.length;
            // Slow enough that the server's answer comes before the client could have sent everything.
            if (!req.write(piece)) { req.once('drain', () => setTimeout(pump, 5)); return; }
          }
        };
        pump();
      });
    }

    it('when Content-Length declares it: 400 too-long at once, without reading the body', async () => {
      const r = await streamingPost(MB32, true);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ type: 'urn:problem-type:sdk:badRequest', title: 'Payload Too Large', code: 'SDK_TOO_LONG', detail: 'Request message must not be larger than 30 MB.' });
      expect((r.body.eventIssues as Issue[])[0]).toMatchObject({ typeCode: 'MESSAGE_EXCHANGE_ERROR', title: 'too-long' });
      expect(r.written).toBeLessThan(MB32);
    });

    it('when the body streams chunked: 400 too-long as soon as it passes 30 MiB', async () => {
      const r = await streamingPost(MB32 + 4 * 1024 * 1024, false);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ code: 'SDK_TOO_LONG', title: 'Payload Too Large' });
      expect(r.written).toBeLessThan(MB32 + 4 * 1024 * 1024);
      // The gateway is still healthy and nothing was stored.
      expect((await fetch(`${t.gw.url}/healthz`)).status).toBe(200);
    });
  });

  it('deletes a received message in NEW (202), after which it is gone for its owner', async () => {
    const sent = await send(message({ participant: OURS, address: FA_B }));
    let id = '';
    await waitFor(async () => {
      const l = await inbox(sent.attributes.messageId);
      id = l[0]?.id ?? '';
      return l[0]?.attributes.messageStatus === 'NEW';
    }, 'the message in B\'s inbox', 30000, 100);
    const del = await api(`/v1/sdk/messages/${id}`, { method: 'DELETE', token: tokenB });
    expect(del.status).toBe(202);
    expect((await api(`/v1/sdk/messages/${id}`, { token: tokenB })).status).toBe(404);
    expect(await inbox(sent.attributes.messageId)).toEqual([]);
    const row = await t.db.pool.query("SELECT deleted_at IS NOT NULL AS deleted, payload IS NULL AS cleared FROM sdk_messages WHERE id = $1", [id]);
    expect(row.rows).toEqual([{ deleted: true, cleared: true }]);
  });

  it('ends in MESSAGE_EXCHANGE_ERROR when the recipient is not registered (no encryption certificate in CertPub)', async () => {
    await listInAddressBook(t.gw, admin, '0007:5555555555', ['sdk:inkorg:0007:5555555555']);
    const sent = await send(message({ participant: '0007:5555555555', address: 'sdk:inkorg:0007:5555555555' }));
    const out = await settled(sent.id);
    expect(out.attributes.messageStatus).toBe('MESSAGE_EXCHANGE_ERROR');
    expect(out.attributes.events!.eventIssues[0]).toMatchObject({ typeCode: 'MESSAGE_EXCHANGE_ERROR', detail: 'SDK_RECIPIENT_NOT_REGISTERED' });
    expect(out.attributes.events!.eventIssues[1]).toMatchObject({ typeCode: 'MESSAGE_EXCHANGE_ERROR', title: 'SDK_RECIPIENT_NOT_REGISTERED', detail: 'The recipient has no encryption certificate in CertPub.' });
  });

  it('ends a message without a receipt within the receipt timeout in MESSAGE_EXCHANGE_ERROR', async () => {
    const sent = await send(message({ participant: peer().participant, address: peer().functionAddress }));
    await settled(sent.id);
    // Put it back to waiting, submitted two days ago (the peer never answers late on its own).
    await t.db.pool.query("UPDATE sdk_messages SET status = 'WAITING_FOR_RECEIPT' WHERE id = $1", [sent.id]);
    await t.db.pool.query("UPDATE sdk_message_events SET at = now() - interval '2 days' WHERE sdk_message_id = $1 AND type_code = 'SUBMITTED'", [sent.id]);
    const { logger } = await import('../support/logger.js').then((m) => m.testLogger());
    expect(await expireOverdue({ store: createSdkStore(t.db.pool), receiptTimeoutMs: 24 * 3600_000, logger })).toBeGreaterThanOrEqual(1);
    const out = await get(sent.id);
    expect(out.attributes.messageStatus).toBe('MESSAGE_EXCHANGE_ERROR');
    expect(out.attributes.events!.eventIssues[0]).toMatchObject({ typeCode: 'MESSAGE_EXCHANGE_ERROR', detail: 'RECEIPT_TIMEOUT' });
  });

  it('never writes a personnummer, label or message text to the log', () => {
    const log = t.lines.join('');
    expect(log).not.toContain(PNR);
    expect(log).not.toContain('Begäran om yttrande');
    expect(log).not.toContain(BODY_TEXT);
    expect(log).not.toContain(PDF_B64);
  });
});
