// Issue 7 "Must show" (../shared/specs/sdk.md §1–4, §8): two real gateway processes, each a different
// organisation with its own dev-PKI certificates, exchange an SDK message over the built-in AS4 access point
// with mutual TLS; the receiving AP and the O2O certificates come from an SMP/CertPub simulator started here, and
// both check function addresses against one national address book (its read-API simulator, also started here).
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import os from 'node:os';
import path from 'node:path';
import { ensureDevPki, type DevParty, type DevPki } from '../../scripts/dev-pki.js';
import { startSmpSimulator, type SmpSimParticipant, type SmpSimulator } from '../../adapters/sdk/smp/simulator/index.js';
import { startAddressBookSimulator, type AddressBookSimulator } from '../../adapters/sdk/address-book/simulator/index.js';
import { createAs4DuplicateRepository } from '../../src/store/as4-duplicate.repository.js';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../support/db.js';
import { waitFor } from '../support/logger.js';
import { caseSystemToken, freePort, startMainProcess, type MainProcess } from '../../scripts/main-process.js';

const A = { orgNumber: '2120000000', name: 'Sändebuds kommun (dev)', participant: '0007:2120000000', prefix: 'org', sign: 'org-sign', enc: 'org-enc', ap: 'org-tls-server' } as const;
const B = { orgNumber: '2321000016', name: 'Region Dev', participant: '0007:2321000016', prefix: 'peer1', sign: 'peer1-sign', enc: 'peer1-enc', ap: 'peer1-tls' } as const;
type Org = typeof A | typeof B;

type Child = MainProcess & { issuer: string };

async function startMain(env: Record<string, string>): Promise<Child> {
  const p = await startMainProcess({ NODE_ENV: 'development', ...env }, { waitForIssuer: true });
  if (p.issuer === undefined) throw new Error('gateway started without its identity provider');
  return { ...p, issuer: p.issuer };
}

async function token(gw: Child, scopes: string[]): Promise<string> {
  return caseSystemToken(gw.issuer, scopes);
}

const SCOPES = ['urn:sdk.api:sendMessage', 'urn:sdk.api:getMessage', 'urn:sdk.api:getMessageByFilter'];

describe('SDK between two gateways over AS4 (two processes)', () => {
  let pki: DevPki;
  let smp: SmpSimulator;
  let addressBook: AddressBookSimulator;
  let dbA: TestDatabase;
  let dbB: TestDatabase;
  let a: Child | undefined;
  let b: Child | undefined;
  const ports = { a: 0, b: 0 };

  const file = (p: DevParty, kind: 'crt' | 'key'): string => (kind === 'crt' ? pki.cert(p) : pki.key(p));
  const envOf = (org: Org, db: TestDatabase, port: number): Record<string, string> => ({
    DATABASE_URL: db.url, REDIS_URL, QUEUE_NAME: `as4-${org.prefix}-${Date.now()}`, SIMULATORS: 'true',
    CERTS_DIR: pki.dir, TRUST_CA_FILE: pki.caBundleFile, ORG_NUMBER: org.orgNumber, ORG_NAME: org.name,
    ORG_SIGN_CERT_FILE: file(org.sign, 'crt'), ORG_SIGN_KEY_FILE: file(org.sign, 'key'),
    ORG_ENC_CERT_FILE: file(org.enc, 'crt'), ORG_ENC_KEY_FILE: file(org.enc, 'key'),
    ORG_SEAL_CERT_FILE: file('org-seal', 'crt'), ORG_SEAL_KEY_FILE: file('org-seal', 'key'),
    TLS_CLIENT_CERT_FILE: file('org-tls-client', 'crt'), TLS_CLIENT_KEY_FILE: file('org-tls-client', 'key'),
    SIGNING_SERVICE_CERT_FILE: file('signing-service-sign', 'crt'),
    SDK_ACCESS_POINT: 'as4', SMP_URL: smp.url, ADDRESS_BOOK_URL: addressBook.url, SDK_AS4_LISTEN_PORT: String(port),
    SDK_AS4_CERT_FILE: file(org.ap, 'crt'), SDK_AS4_KEY_FILE: file(org.ap, 'key'),
    // Short AS4 retries and no SMP cache, so the test can take B down and re-register certificates.
    SDK_AS4_RETRY_ATTEMPTS: '60', SDK_AS4_RETRY_INTERVAL_MS: '500', SDK_SMP_CACHE_TTL_MS: '0',
  });
  let envB: Record<string, string> = {};
  let registered: SmpSimParticipant[] = [];

  beforeAll(async () => {
    pki = await ensureDevPki(path.join(os.tmpdir(), 'sandebud-test-pki'));
    const read = (f: string): string => readFileSync(f, 'utf8');
    ports.a = await freePort();
    ports.b = await freePort();
    const participant = (org: Org, port: number): SmpSimParticipant => ({
      id: org.participant,
      endpoint: { url: `https://127.0.0.1:${port}/as4`, certificatePem: read(pki.cert(org.ap)) },
      certificates: { signingPem: [read(pki.cert(org.sign))], encryptionPem: [read(pki.cert(org.enc))] },
    });
    smp = await startSmpSimulator({
      port: 0, tls: { keyPem: read(pki.key('smp-tls')), certPem: read(pki.cert('smp-tls')), caPem: read(pki.caBundleFile) },
      signer: { keyPem: read(pki.key('smp-sign')), certPem: read(pki.cert('smp-sign')) },
      participants: [participant(A, ports.a), participant(B, ports.b)],
    });
    registered = [participant(A, ports.a), participant(B, ports.b)];
    // The national address book both gateways read. sdk:finns-inte:B is listed nationally but B has no such inbox
    // (any more): A may send to it, and B answers REJECTED/BV/not-found.
    addressBook = await startAddressBookSimulator({
      tls: { keyPem: read(pki.key('addressbook-tls')), certPem: read(pki.cert('addressbook-tls')), caPem: read(pki.caBundleFile) },
      entries: [
        { organisation: { participantId: A.participant, organizationNumber: A.orgNumber, name: A.name }, addresses: [{ identifier: `sdk:inkorg:${A.participant}` }] },
        { organisation: { participantId: B.participant, organizationNumber: B.orgNumber, name: B.name }, addresses: [{ identifier: `sdk:inkorg:${B.participant}` }, { identifier: `sdk:finns-inte:${B.participant}` }] },
      ],
    });
    dbA = await createTestDatabase('as4a');
    dbB = await createTestDatabase('as4b');
    envB = envOf(B, dbB, ports.b);
    [a, b] = await Promise.all([startMain(envOf(A, dbA, ports.a)), startMain(envB)]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await smp?.close();
    await addressBook?.close();
    await dbA?.drop();
    await dbB?.drop();
  }, 60_000);

  it('A sends to B\'s function address over AS4 with mutual TLS; B fetches it; A sees ACCEPTED', async () => {
    const gwA = a!;
    const gwB = b!;
    const [tokenA, tokenB] = await Promise.all([token(gwA, SCOPES), token(gwB, SCOPES)]);
    const res = await fetch(`${gwA.url}/v1/sdk/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokenA}`, 'content-type': 'application/json' },
      body: JSON.stringify({ data: { type: 'messages', attributes: {
        confidentiality: false, label: 'Över AS4', sender: A.participant, recipient: B.participant,
        senderAttention: { subOrganization: { extension: `sdk:inkorg:${A.participant}` } },
        recipientAttention: { subOrganization: { extension: `sdk:inkorg:${B.participant}` } },
        digitalDocument: [{ documentId: 'd1', contentTextBody: ['Hej Region Dev, över AS4.'] }],
      } } }),
    });
    expect(res.status).toBe(201);
    const location = res.headers.get('location')!;
    const messageId = location.split('/').pop()!;
    let status = '';
    await waitFor(async () => {
      const m = (await (await fetch(`${gwA.url}${location}`, { headers: { authorization: `Bearer ${tokenA}` } })).json()) as { data: { attributes: { messageStatus: string } } };
      status = m.data.attributes.messageStatus;
      return status === 'ACCEPTED' || status === 'MESSAGE_EXCHANGE_ERROR';
    }, 'B\'s receipt at A', 40_000, 200);
    if (status !== 'ACCEPTED') console.error(gwA.output().slice(-4000), gwB.output().slice(-4000));
    expect(status).toBe('ACCEPTED');

    // B's case system lists its inbox and fetches the message.
    const list = (await (await fetch(`${gwB.url}/v1/sdk/messages?filter[recipientAttention.subOrganization.extension]=${encodeURIComponent(`sdk:inkorg:${B.participant}`)}`, {
      headers: { authorization: `Bearer ${tokenB}` },
    })).json()) as { data: { id: string; attributes: { messageId: string; sender: string; messageStatus: string } }[] };
    const item = list.data.find((d) => d.attributes.messageId === messageId);
    expect(item).toBeDefined();
    expect(item!.attributes.sender).toBe(A.participant);
    expect(item!.attributes.messageStatus).toBe('NEW');
    const fetched = (await (await fetch(`${gwB.url}/v1/sdk/messages/${item!.id}`, { headers: { authorization: `Bearer ${tokenB}` } })).json()) as {
      data: { attributes: { label: string; digitalDocument: { contentTextBody?: string[] }[] } };
    };
    expect(fetched.data.attributes.label).toBe('Över AS4');
    expect(fetched.data.attributes.digitalDocument[0]?.contentTextBody).toEqual(['Hej Region Dev, över AS4.']);

    // The exchange really went through B's AS4 endpoint, found via SMP.
    expect(smp.requests.some((r) => r.includes(encodeURIComponent(B.participant)) || r.includes(B.participant))).toBe(true);
  }, 90_000);

  interface Issue { typeCode: string; title: string; detail?: string }
  interface Out { id: string; attributes: { messageId: string; messageStatus: string; events?: { eventIssues: Issue[] } } }

  async function sendAToB(address: string, label: string): Promise<{ location: string; messageId: string; tokenA: string }> {
    const tokenA = await token(a!, SCOPES);
    const res = await fetch(`${a!.url}/v1/sdk/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokenA}`, 'content-type': 'application/json' },
      body: JSON.stringify({ data: { type: 'messages', attributes: {
        confidentiality: true, label, sender: A.participant, recipient: B.participant,
        senderAttention: { subOrganization: { extension: `sdk:inkorg:${A.participant}` } },
        recipientAttention: { subOrganization: { extension: address } },
        digitalDocument: [{ documentId: 'd1', contentTextBody: ['Text.'] }],
      } } }),
    });
    expect(res.status).toBe(201);
    const location = res.headers.get('location')!;
    return { location, messageId: location.split('/').pop()!, tokenA };
  }

  async function settledAtA(location: string, tokenA: string, timeoutMs = 40_000): Promise<Out> {
    let out: Out | undefined;
    await waitFor(async () => {
      out = ((await (await fetch(`${a!.url}${location}`, { headers: { authorization: `Bearer ${tokenA}` } })).json()) as { data: Out }).data;
      return ['ACCEPTED', 'MESSAGE_EXCHANGE_ERROR'].includes(out.attributes.messageStatus);
    }, 'a final status at A', timeoutMs, 200);
    return out!;
  }

  async function inboxOfB(messageId: string): Promise<Out[]> {
    const tokenB = await token(b!, SCOPES);
    const list = (await (await fetch(`${b!.url}/v1/sdk/messages?page[size]=500`, { headers: { authorization: `Bearer ${tokenB}` } })).json()) as { data: Out[] };
    return list.data.filter((d) => d.attributes.messageId === messageId);
  }

  it('records the received ebMS message in B\'s PostgreSQL duplicate store', async () => {
    const rows = await dbB.pool.query<{ from_party: string; state: string }>('SELECT from_party, state FROM sdk_as4_received');
    expect(rows.rows.length).toBeGreaterThanOrEqual(1);
    expect(rows.rows.every((r) => r.state === 'delivered')).toBe(true);
    expect(new Set(rows.rows.map((r) => r.from_party)).size).toBe(1);
  });

  it('B rejects a message to a function address it does not have: A ends in MESSAGE_EXCHANGE_ERROR with REJECTED/BV', async () => {
    const sent = await sendAToB(`sdk:finns-inte:${B.participant}`, 'Till fel adress');
    const out = await settledAtA(sent.location, sent.tokenA);
    expect(out.attributes.messageStatus).toBe('MESSAGE_EXCHANGE_ERROR');
    const types = out.attributes.events!.eventIssues.map((e) => e.typeCode);
    expect(types.slice(0, 3)).toEqual(['MESSAGE_EXCHANGE_ERROR', 'REJECTED', 'BV']);
    expect(await inboxOfB(sent.messageId)).toEqual([]);
  }, 60_000);

  it('A refuses a recipient function address the national address book does not list: 400 naming the field, nothing sent', async () => {
    const tokenA = await token(a!, SCOPES);
    const before = await dbA.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM sdk_messages');
    const res = await fetch(`${a!.url}/v1/sdk/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokenA}`, 'content-type': 'application/json' },
      body: JSON.stringify({ data: { type: 'messages', attributes: {
        confidentiality: false, label: 'Till okänd adress', sender: A.participant, recipient: B.participant,
        senderAttention: { subOrganization: { extension: `sdk:inkorg:${A.participant}` } },
        recipientAttention: { subOrganization: { extension: `sdk:okand:${B.participant}` } },
        digitalDocument: [{ documentId: 'd1', contentTextBody: ['Text.'] }],
      } } }),
    });
    expect(res.status).toBe(400);
    const p = (await res.json()) as { type: string; eventIssues: { title: string; in: string }[] };
    expect(p.type).toBe('urn:problem-type:sdk:badRequest');
    expect(p.eventIssues[0]).toMatchObject({ title: 'not-found', in: '/body/data/attributes/recipientAttention/subOrganization/extension' });
    const after = await dbA.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM sdk_messages');
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });

  it('a signing certificate of another organisation registered for A is refused by B with SIG', async () => {
    const read = (f: string): string => readFileSync(f, 'utf8');
    const [ra, rb] = registered as [SmpSimParticipant, SmpSimParticipant];
    // CertPub now lists Grannkommun's (peer2) signing certificate for A: A's O2O signature no longer belongs to A.
    smp.setParticipants([{ ...ra, certificates: { ...ra.certificates, signingPem: [read(pki.cert('peer2-sign'))] } }, rb]);
    try {
      const sent = await sendAToB(`sdk:inkorg:${B.participant}`, 'Fel organisation');
      const out = await settledAtA(sent.location, sent.tokenA);
      expect(out.attributes.messageStatus).toBe('MESSAGE_EXCHANGE_ERROR');
      expect(out.attributes.events!.eventIssues.map((e) => e.typeCode)).toContain('SIG');
      expect(await inboxOfB(sent.messageId)).toEqual([]);
    } finally {
      smp.setParticipants(registered);
    }
  }, 60_000);

  interface Relayed { messageId: string | undefined; contentType: string; body: Buffer; answer?: { status: number; body: string } }
  interface Relay { url: string; requests: Relayed[]; dropAnswers: number; close(): Promise<void> }

  /**
   * A TLS-terminating relay registered in SMP as B's access point: it presents B's AP certificate to A, forwards
   * each AS4 request unchanged to B's real access point with A's AP certificate (mutual TLS), records the exact
   * bytes, and can swallow B's answer (a synchronous AS4 receipt lost on its way back) by cutting A's connection.
   */
  async function startRelay(target: string): Promise<Relay> {
    const read = (f: string): string => readFileSync(f, 'utf8');
    const agent = new Agent({ connect: { key: read(pki.key(A.ap)), cert: read(pki.cert(A.ap)), ca: read(pki.caBundleFile) } });
    const relay: Relay = { url: '', requests: [], dropAnswers: 0, close: async () => undefined };
    const server = https.createServer({ key: read(pki.key(B.ap)), cert: read(pki.cert(B.ap)), ca: read(pki.caBundleFile), requestCert: true, rejectUnauthorized: true }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const rec: Relayed = { messageId: /<eb:MessageId>([^<]+)<\/eb:MessageId>/.exec(body.toString('latin1'))?.[1], contentType: String(req.headers['content-type']), body };
        relay.requests.push(rec);
        void (async () => {
          const answer = await request(target, { dispatcher: agent, method: 'POST', headers: { 'content-type': rec.contentType, 'mime-version': '1.0' }, body });
          const text = Buffer.from(await answer.body.arrayBuffer());
          rec.answer = { status: answer.statusCode, body: text.toString('utf8') };
          if (relay.dropAnswers > 0) {
            relay.dropAnswers--;
            req.socket.destroy();
            return;
          }
          res.writeHead(answer.statusCode, { 'content-type': String(answer.headers['content-type']) }).end(text);
        })().catch(() => req.socket.destroy());
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    relay.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/as4`;
    relay.close = async () => {
      await new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
      await agent.close();
    };
    return relay;
  }

  it('a duplicate ebMS message is delivered once: A retransmits after a lost AS4 receipt, and the exact bytes are replayed', async () => {
    const relay = await startRelay(`https://127.0.0.1:${ports.b}/as4`);
    const [ra, rb] = registered as [SmpSimParticipant, SmpSimParticipant];
    smp.setParticipants([ra, { ...rb, endpoint: { ...rb.endpoint, url: relay.url } }]);
    relay.dropAnswers = 1;
    try {
      const sent = await sendAToB(`sdk:inkorg:${B.participant}`, 'Kvittot försvann');
      // B took the first copy, but its AS4 receipt never reached A: A sends the same ebMS MessageId again.
      await waitFor(() => relay.requests.filter((r) => r.answer !== undefined).length >= 2, 'A\'s AS4 retransmission', 30_000, 100);
      const out = await settledAtA(sent.location, sent.tokenA);
      expect(out.attributes.messageStatus).toBe('ACCEPTED');
      const ebmsId = relay.requests[0]!.messageId!;
      expect(ebmsId).toMatch(/@/);
      expect(relay.requests.every((r) => r.messageId === ebmsId)).toBe(true);
      // Each copy, the first included, was answered by B with a signed non-repudiation receipt for that MessageId
      // (AS4 reception awareness with duplicate elimination: a duplicate is acknowledged again, not delivered again).
      for (const r of relay.requests) {
        expect(r.answer?.status).toBe(200);
        expect(r.answer?.body).toContain(`<eb:RefToMessageId>${ebmsId}</eb:RefToMessageId>`);
        expect(r.answer?.body).toContain('ebbp:NonRepudiationInformation');
      }

      // The exact bytes of the first request once more, straight to B's access point, over mutual TLS as A's AP.
      const first = relay.requests[0]!;
      const read = (f: string): string => readFileSync(f, 'utf8');
      const agent = new Agent({ connect: { key: read(pki.key(A.ap)), cert: read(pki.cert(A.ap)), ca: read(pki.caBundleFile) } });
      try {
        const again = await request(`https://127.0.0.1:${ports.b}/as4`, { dispatcher: agent, method: 'POST', headers: { 'content-type': first.contentType, 'mime-version': '1.0' }, body: first.body });
        const text = await again.body.text();
        expect(again.statusCode).toBe(200);
        expect(text).toContain(`<eb:RefToMessageId>${ebmsId}</eb:RefToMessageId>`);
        expect(text).toContain('<ds:SignatureValue>');
      } finally {
        await agent.close();
      }

      // B delivered it once: one duplicate-store row, one stored envelope, one inbox item, fetched by B's case system.
      const dup = await dbB.pool.query('SELECT state FROM sdk_as4_received WHERE message_id = $1', [ebmsId]);
      expect(dup.rows).toEqual([{ state: 'delivered' }]);
      const envelopes = await dbB.pool.query('SELECT xhe_id FROM sdk_inbound_envelopes WHERE transport_message_id = $1', [ebmsId]);
      expect(envelopes.rows).toEqual([{ xhe_id: sent.messageId }]);
      const inbox = await inboxOfB(sent.messageId);
      expect(inbox).toHaveLength(1);
      expect(inbox[0]!.attributes.messageStatus).toBe('NEW');
      const inbound = await dbB.pool.query("SELECT count(*)::int AS n FROM sdk_messages WHERE direction = 'in' AND message_id = $1", [sent.messageId]);
      expect(inbound.rows[0]).toEqual({ n: 1 });
    } finally {
      smp.setParticipants(registered);
      await relay.close();
    }
  }, 90_000);

  it('B down for a while: A retries over AS4 and the message is delivered once', async () => {
    expect(await b!.stop()).toBe(0);
    b = undefined;
    const sent = await sendAToB(`sdk:inkorg:${B.participant}`, 'Medan B är nere');
    // A's access point meets a refused connection and schedules retries.
    await waitFor(async () => {
      const m = ((await (await fetch(`${a!.url}${sent.location}`, { headers: { authorization: `Bearer ${sent.tokenA}` } })).json()) as { data: Out }).data;
      return m.attributes.messageStatus === 'SCHEDULED_FOR_RESEND';
    }, 'SCHEDULED_FOR_RESEND at A', 20_000, 100);
    await new Promise((r) => setTimeout(r, 1500));
    b = await startMain(envB);
    const out = await settledAtA(sent.location, sent.tokenA, 60_000);
    expect(out.attributes.messageStatus).toBe('ACCEPTED');
    const inbox = await inboxOfB(sent.messageId);
    expect(inbox).toHaveLength(1);
    expect(inbox[0]!.attributes.messageStatus).toBe('NEW');
  }, 120_000);

  it('the PostgreSQL duplicate store answers a repeated ebMS MessageId as delivered, per sending party', async () => {
    const store = createAs4DuplicateRepository(dbB.pool);
    const id = `${Date.now()}@dup.test`;
    expect(await store.claim(id, 'ap-a')).toBe('new');
    expect(await store.claim(id, 'ap-a')).toBe('in-progress');
    expect(await store.claim(id, 'ap-other')).toBe('new');
    await store.release(id, 'ap-other');
    expect(await store.claim(id, 'ap-other')).toBe('new');
    await store.complete(id, 'ap-a');
    expect(await store.claim(id, 'ap-a')).toBe('delivered');
    await store.release(id, 'ap-a');
    expect(await store.claim(id, 'ap-a')).toBe('delivered');
    // A claim left behind by a crashed delivery is taken over after the stale period.
    await dbB.pool.query("UPDATE sdk_as4_received SET claimed_at = now() - interval '10 minutes' WHERE message_id = $1 AND from_party = 'ap-other'", [id]);
    expect(await store.claim(id, 'ap-other')).toBe('new');
  });
});
