// Issue 7 "Certificates and addresses" and "Simulators" (../shared/specs/sdk.md §3, §5 row 9, §10 SCHEDULED, §16.5):
// the gateway keeps a local read copy of the national SDK address book, downloaded over HTTPS from the
// address-book simulator (real sockets, TLS checked against the dev CA), stored in PostgreSQL and refreshed
// periodically. Outgoing recipient function addresses and incoming ones are checked against it; an administrator
// sees (admin API, `sandebud sdk addresses missing`) which of our function addresses the national book lacks.
// The development world also runs an SMP/CertPub simulator listing our participant and the dev peer.
import { randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { ROOT, startGateway, type Gateway } from '../../src/main.js';
import { resolvePath } from '../../src/config/index.js';
import { run } from '../../src/cli/sandebud.js';
import { FUNCTION_ADDRESS_ROOT, type MessageId, type ParticipantId, type SdkMessage } from '../../src/domain/sdk/index.js';
import { ensureDevPki } from '../../scripts/dev-pki.js';
import { createSmpCertificateDirectory, createSmpClient, createSmpTrust, createStaticSmpLocator } from '../../adapters/sdk/smp/index.js';
import { startAddressBookSimulator, type AddressBookSimulator } from '../../adapters/sdk/address-book/simulator/index.js';
import { listInAddressBook, startTestGateway, systemToken, type TestGateway } from '../support/gateway.js';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../support/db.js';
import { testLogger, waitFor } from '../support/logger.js';
import { runCli } from '../support/cli.js';

const OURS = '0007:2120000000';
const PEER = '0007:2321000016';
const PEER_INBOX = `sdk:inkorg:${PEER}`;
const OUR_INBOX = `sdk:inkorg:${OURS}`;
const SDK_SCOPES = ['urn:sdk.api:sendMessage', 'urn:sdk.api:getMessage', 'urn:sdk.api:getMessageByFilter'];
const RECIPIENT_FA = '/body/data/attributes/recipientAttention/subOrganization/extension';

interface Issue { typeCode: string; title: string; detail: string; in: string }
interface BookView {
  source: string;
  copy: { fetchedAt: string | null; lastAttemptAt: string | null; lastError: string | null; organisations: number; addresses: number; stale: boolean };
  ownAddresses: null | { missing: string[]; registeredElsewhere: { address: string; organisation: { participantId: string; organizationNumber: string; name: string } }[]; present: string[] };
}

function body(from: string, to: { participant: string; address: string }): unknown {
  return { data: { type: 'messages', attributes: {
    confidentiality: false, label: 'Adressboken', sender: OURS, recipient: to.participant,
    senderAttention: { subOrganization: { extension: from } },
    recipientAttention: { subOrganization: { extension: to.address } },
    digitalDocument: [{ documentId: 'd1', contentTextBody: ['Text.'] }],
  } } };
}

/** A message from the simulated peer organisation to one of our function addresses. */
function fromPeer(address: string): SdkMessage {
  const id = randomUUID() as MessageId;
  const attention = (fa: string) => ({ persons: [], references: [], subOrganization: { organizationId: { root: FUNCTION_ADDRESS_ROOT, extension: fa } } });
  return {
    creationDateTime: new Date().toISOString(), messageId: id, conversationId: id, label: 'Från regionen', confidentiality: false,
    recipient: { id: OURS as ParticipantId, attention: attention(address) },
    sender: { id: PEER as ParticipantId, attention: attention(PEER_INBOX) },
    documents: [{ documentId: 'd', files: [], texts: ['Hej.'] }],
  };
}

async function gatewayApi(gw: Gateway, token: string, path: string, init: { method?: string; body?: unknown } = {}): Promise<Response> {
  return fetch(`${gw.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
}

async function addOwnAddress(gw: Gateway, admin: string, address: string): Promise<void> {
  const created = await gatewayApi(gw, admin, '/v1/admin/function-addresses', { method: 'POST', body: { address, name: `Test ${address}` } });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const g = await gatewayApi(gw, admin, `/v1/admin/function-addresses/${id}/grants`, { method: 'POST', body: { principalId: 'system:case-system', permissions: ['send', 'read'] } });
  expect(g.status).toBe(201);
}

describe('SDK address book and SMP in the development world', () => {
  let t: TestGateway;
  let admin: string;
  let caseSystem: string;
  const FROM = 'sdk:utkorg:0007:2120000000';

  beforeAll(async () => {
    t = await startTestGateway();
    [admin, caseSystem] = await Promise.all([
      systemToken(t.gw, 'admin-cli', 'dev-admin-cli-secret', ['urn:sandebud:admin']),
      systemToken(t.gw, 'case-system', 'dev-case-secret', SDK_SCOPES),
    ]);
    await addOwnAddress(t.gw, admin, FROM);
    await listInAddressBook(t.gw, admin, OURS, [FROM]);
  }, 90000);
  afterAll(async () => { await t.stop(); });

  const peer = () => t.gw.sdk.peer!;
  const count = async (): Promise<number> => (await t.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM sdk_messages WHERE direction = 'out'")).rows[0]!.n;
  const view = async (): Promise<BookView> => {
    const res = await gatewayApi(t.gw, admin, '/v1/admin/sdk/address-book');
    expect(res.status).toBe(200);
    return (await res.json()) as BookView;
  };

  it('starts the SMP/CertPub and address-book simulators over HTTPS, listing our participant and the dev peer', async () => {
    const { smp, addressBook } = t.gw.simulators;
    expect(smp).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(addressBook).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    // Defaulted upstream URLs point at them (production refuses such defaults: test/unit/config.test.ts).
    expect(t.gw.config.SMP_URL).toBe(smp);
    expect(t.gw.config.ADDRESS_BOOK_URL).toBe(addressBook);

    const ca = readFileSync(resolvePath(t.gw.config, t.gw.config.TRUST_CA_FILE), 'utf8');
    const agent = new Agent({ connect: { ca } });
    try {
      const get = async (p: string) => (await (await request(`${addressBook}${p}`, { dispatcher: agent })).body.json()) as { data: { attributes: Record<string, string> }[] };
      const orgs = await get('/api/v1/organizations?page[size]=50');
      expect(orgs.data.map((o) => o.attributes.participantIdentifier).sort()).toEqual([OURS, PEER]);
      const addrs = await get('/api/v1/addresses?page[size]=50');
      expect(addrs.data.map((a) => a.attributes.identifier)).toEqual(expect.arrayContaining([OUR_INBOX, PEER_INBOX]));
    } finally {
      await agent.close();
    }

    // CertPub through the real SMP client: signed metadata, verified against the dev CA, with the dev certificates.
    const pki = await ensureDevPki(resolvePath(t.gw.config, t.gw.config.CERTS_DIR));
    const client = createSmpClient({ locator: createStaticSmpLocator(smp!), trust: createSmpTrust(ca), tls: { caPem: ca }, cacheTtlMs: 0 });
    const dir = createSmpCertificateDirectory(client);
    const der = (pem: string) => new X509Certificate(pem).raw.toString('base64');
    expect(der((await dir.encryptionCertificate(PEER as ParticipantId))!.pem)).toBe(der(readFileSync(pki.cert('peer1-enc'), 'utf8')));
    expect(der((await dir.encryptionCertificate(OURS as ParticipantId))!.pem)).toBe(der(readFileSync(pki.cert('org-enc'), 'utf8')));
    expect((await dir.signingCertificates(PEER as ParticipantId)).map((c) => der(c.pem))).toEqual([der(readFileSync(pki.cert('peer1-sign'), 'utf8'))]);
  });

  it('refuses a recipient function address the national book does not list: 400 naming the field, nothing stored or sent', async () => {
    const before = await count();
    const res = await gatewayApi(t.gw, caseSystem, '/v1/sdk/messages', { method: 'POST', body: body(FROM, { participant: PEER, address: 'sdk:okand:0007:2321000016' }) });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const p = (await res.json()) as { type: string; code: string; eventIssues: Issue[]; errors: { field: string }[] };
    expect(p).toMatchObject({ type: 'urn:problem-type:sdk:badRequest', code: 'SDK_UNKNOWN_FUNCTION_ADDRESS' });
    expect(p.eventIssues).toEqual([expect.objectContaining({ typeCode: 'MESSAGE_EXCHANGE_ERROR', title: 'not-found', in: RECIPIENT_FA, detail: 'not listed in the national SDK address book' })]);
    expect(p.errors.map((e) => e.field)).toEqual([RECIPIENT_FA]);
    expect(await count()).toBe(before);
    expect(peer().received.some((r) => r.functionAddress === 'sdk:okand:0007:2321000016')).toBe(false);
  });

  it('refuses a function address the book lists for another organisation, naming the address and the recipient', async () => {
    await listInAddressBook(t.gw, admin, '0007:2021000001', ['sdk:grannens:0007:2021000001'], 'Grannkommun (dev)');
    const before = await count();
    const res = await gatewayApi(t.gw, caseSystem, '/v1/sdk/messages', { method: 'POST', body: body(FROM, { participant: PEER, address: 'sdk:grannens:0007:2021000001' }) });
    expect(res.status).toBe(400);
    const p = (await res.json()) as { eventIssues: Issue[] };
    expect(p.eventIssues.map((i) => [i.in, i.title])).toEqual([[RECIPIENT_FA, 'not-found'], ['/body/data/attributes/recipient', 'not-found']]);
    expect(await count()).toBe(before);
  });

  it('sends to a function address the national book lists for the recipient (the peer\'s inbox)', async () => {
    const res = await gatewayApi(t.gw, caseSystem, '/v1/sdk/messages', { method: 'POST', body: body(FROM, { participant: PEER, address: PEER_INBOX }) });
    expect(res.status).toBe(201);
    const id = ((await res.json()) as { data: { id: string } }).data.id;
    await waitFor(async () => {
      const m = (await (await gatewayApi(t.gw, caseSystem, `/v1/sdk/messages/${id}`)).json()) as { data: { attributes: { messageStatus: string } } };
      return m.data.attributes.messageStatus === 'ACCEPTED';
    }, 'the peer\'s ACCEPTED receipt', 30000, 100);
  });

  it('answers an incoming message to our address that the national book lacks with REJECTED/BV/not-found; accepts it once listed', async () => {
    const LOCAL = 'sdk:lokal:0007:2120000000';
    await addOwnAddress(t.gw, admin, LOCAL);
    const first = fromPeer(LOCAL);
    await peer().send(first);
    await waitFor(() => peer().receipts.some((r) => r.documentReference === first.messageId), 'the receipt', 30000, 50);
    const rejected = peer().receipts.find((r) => r.documentReference === first.messageId)!;
    expect(rejected.status).toBe('REJECTED');
    expect(rejected.lines[0]).toMatchObject({ code: 'BV', detail: 'not-found' });
    expect((await t.db.pool.query('SELECT 1 FROM sdk_messages WHERE message_id = $1', [first.messageId])).rows).toEqual([]);

    // The administrator sees why: the address is ours but missing from the national book.
    expect((await view()).ownAddresses?.missing).toContain(LOCAL);

    await listInAddressBook(t.gw, admin, OURS, [LOCAL]);
    const second = fromPeer(LOCAL);
    await peer().send(second);
    await waitFor(() => peer().receipts.some((r) => r.documentReference === second.messageId), 'the second receipt', 30000, 50);
    expect(peer().receipts.find((r) => r.documentReference === second.messageId)!.status).toBe('ACCEPTED');
    const inbox = await t.db.pool.query("SELECT recipient_address FROM sdk_messages WHERE direction = 'in' AND message_id = $1", [second.messageId]);
    expect(inbox.rows).toEqual([{ recipient_address: LOCAL }]);
    const after = await view();
    expect(after.ownAddresses?.missing).not.toContain(LOCAL);
    expect(after.ownAddresses?.present).toContain(LOCAL);
  });

  it('shows the administrator the copy and our addresses that are missing or listed under another organisation', async () => {
    const HIDDEN = 'sdk:ej-anmald:0007:2120000000';
    const SHARED = 'sdk:delad:0007:2120000000';
    await addOwnAddress(t.gw, admin, HIDDEN);
    await addOwnAddress(t.gw, admin, SHARED);
    await listInAddressBook(t.gw, admin, PEER, [SHARED]);
    const v = await view();
    expect(v.source).toBe(t.gw.simulators.addressBook);
    expect(v.copy).toMatchObject({ lastError: null, stale: false, organisations: 3 });
    expect(Date.parse(v.copy.fetchedAt!)).toBeGreaterThan(Date.now() - 60_000);
    expect(v.ownAddresses!.missing).toEqual(expect.arrayContaining([HIDDEN]));
    expect(v.ownAddresses!.missing).not.toContain(SHARED);
    expect(v.ownAddresses!.registeredElsewhere).toEqual([{ address: SHARED, organisation: { participantId: PEER, organizationNumber: '2321000016', name: 'Region Dev' } }]);
    expect(v.ownAddresses!.present).toEqual(expect.arrayContaining([FROM]));
    // Only administrators and auditors: a case system's token is refused.
    expect((await gatewayApi(t.gw, caseSystem, '/v1/admin/sdk/address-book')).status).toBe(403);
    expect((await gatewayApi(t.gw, caseSystem, '/v1/admin/sdk/address-book/refresh', { method: 'POST' })).status).toBe(403);

    // `sandebud sdk addresses missing` prints the same report.
    const out: string[] = [];
    const io = { stdout: (s: string) => { out.push(s); }, stderr: (s: string) => { out.push(s); } };
    const common = ['--url', t.gw.url, '--issuer', t.gw.simulators.identityProvider!];
    expect(await run(['sdk', 'addresses', 'missing', ...common], io)).toBe(0);
    const text = out.join('');
    expect(text).toContain(`national SDK address book: ${t.gw.simulators.addressBook}`);
    expect(text).toMatch(new RegExp(`missing \\(\\d+\\):\\n(    .*\\n)*    ${HIDDEN}\\n`));
    expect(text).toContain(`listed under another organisation (1):\n    ${SHARED}  (${PEER}, Region Dev)\n`);
    // As a real process, with client credentials from the environment, JSON on stdout.
    const r = await runCli(['sdk', 'addresses', 'missing', '--refresh', '--json', ...common], { SANDEBUD_CLIENT_ID: 'admin-cli', SANDEBUD_CLIENT_SECRET: 'dev-admin-cli-secret' });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as BookView).ownAddresses!.missing).toContain(HIDDEN);
  }, 60000);
});

describe('SDK address book unavailable, then refreshed periodically and kept in PostgreSQL', () => {
  let db: TestDatabase;
  let sim: AddressBookSimulator;
  let gw: Gateway | undefined;
  let lines: string[] = [];

  async function start(): Promise<Gateway> {
    const l = testLogger();
    lines = l.lines;
    return startGateway({
      NODE_ENV: 'test', PORT: '0', SIMULATORS_PORT_BASE: '0', DATABASE_URL: db.url, REDIS_URL, QUEUE_NAME: `ab-${randomBytes(4).toString('hex')}`,
      QUEUE_BACKOFF_BASE_MS: '100', QUEUE_BACKOFF_MAX_MS: '500', OUTBOX_RECONCILE_INTERVAL_MS: '500', OUTBOX_STALE_AFTER_MS: '1000',
      ADDRESS_BOOK_URL: sim.url, ADDRESS_BOOK_REFRESH_MS: '300',
    }, { logger: l.logger });
  }

  beforeAll(async () => {
    db = await createTestDatabase('abook');
    // The gateway trusts certs-dev/ca-bundle.crt (TRUST_CA_FILE default), so the simulator uses the same dev PKI.
    const pki = await ensureDevPki(path.join(ROOT, 'certs-dev'));
    const read = (f: string) => readFileSync(f, 'utf8');
    // "The national address book", down from the start.
    sim = await startAddressBookSimulator({
      tls: { keyPem: read(pki.key('addressbook-tls')), certPem: read(pki.cert('addressbook-tls')), caPem: read(pki.caBundleFile) },
      entries: [
        { organisation: { participantId: OURS, organizationNumber: '2120000000', name: 'Sändebuds kommun (dev)' }, addresses: [{ identifier: OUR_INBOX }] },
        { organisation: { participantId: PEER, organizationNumber: '2321000016', name: 'Region Dev' }, addresses: [{ identifier: PEER_INBOX }] },
      ],
    });
    sim.setAvailable(false);
  });
  afterAll(async () => {
    await gw?.stop();
    await sim.close();
    await db.drop();
  });

  it('without any copy: refuses sending with 503 (nothing stored), checks incoming addresses against our own table, and counts it', async () => {
    gw = await start();
    const [admin, caseSystem] = await Promise.all([
      systemToken(gw, 'admin-cli', 'dev-admin-cli-secret', ['urn:sandebud:admin']),
      systemToken(gw, 'case-system', 'dev-case-secret', SDK_SCOPES),
    ]);
    await addOwnAddress(gw, admin, OUR_INBOX);
    const v = (await (await gatewayApi(gw, admin, '/v1/admin/sdk/address-book')).json()) as BookView;
    expect(v).toMatchObject({ source: sim.url, copy: { fetchedAt: null, lastError: 'ADDRESS_BOOK_UNAVAILABLE', stale: true }, ownAddresses: null });

    const res = await gatewayApi(gw, caseSystem, '/v1/sdk/messages', { method: 'POST', body: body(OUR_INBOX, { participant: PEER, address: PEER_INBOX }) });
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({ status: 503, code: 'ADDRESS_BOOK_UNAVAILABLE' });
    expect((await db.pool.query('SELECT 1 FROM sdk_messages')).rows).toEqual([]);

    // Inbound: our own table answers (docs/sdk.md "Address book"): the peer's message is accepted.
    const msg = fromPeer(OUR_INBOX);
    await gw.sdk.peer!.send(msg);
    await waitFor(() => gw!.sdk.peer!.receipts.some((r) => r.documentReference === msg.messageId), 'the receipt', 30000, 50);
    expect(gw.sdk.peer!.receipts.find((r) => r.documentReference === msg.messageId)!.status).toBe('ACCEPTED');
    expect(lines.some((l) => l.includes('"event":"SDK_ADDRESS_BOOK_UNAVAILABLE"') && l.includes('"direction":"inbound"'))).toBe(true);

    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(Number(/^sandebud_sdk_address_book_unavailable_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
    expect(metrics).toMatch(/^sandebud_sdk_address_book_age_seconds -1$/m);
  }, 90000);

  it('picks the book up on its next periodic refresh, and sends', async () => {
    const [admin, caseSystem] = await Promise.all([
      systemToken(gw!, 'admin-cli', 'dev-admin-cli-secret', ['urn:sandebud:admin']),
      systemToken(gw!, 'case-system', 'dev-case-secret', SDK_SCOPES),
    ]);
    sim.setAvailable(true);
    await waitFor(async () => ((await (await gatewayApi(gw!, admin, '/v1/admin/sdk/address-book')).json()) as BookView).copy.fetchedAt !== null, 'a periodic refresh', 10000, 100);
    const res = await gatewayApi(gw!, caseSystem, '/v1/sdk/messages', { method: 'POST', body: body(OUR_INBOX, { participant: PEER, address: PEER_INBOX }) });
    expect(res.status).toBe(201);
    const stored = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM sdk_address_book_copy');
    expect(stored.rows[0]!.n).toBe(1);
  }, 60000);

  it('after a restart during an outage, uses the copy stored in PostgreSQL', async () => {
    await gw!.stop();
    gw = undefined;
    sim.setAvailable(false);
    gw = await start();
    const [admin, caseSystem] = await Promise.all([
      systemToken(gw, 'admin-cli', 'dev-admin-cli-secret', ['urn:sandebud:admin']),
      systemToken(gw, 'case-system', 'dev-case-secret', SDK_SCOPES),
    ]);
    const res = await gatewayApi(gw, caseSystem, '/v1/sdk/messages', { method: 'POST', body: body(OUR_INBOX, { participant: PEER, address: PEER_INBOX }) });
    expect(res.status).toBe(201);
    const refused = await gatewayApi(gw, caseSystem, '/v1/sdk/messages', { method: 'POST', body: body(OUR_INBOX, { participant: PEER, address: 'sdk:okand:0007:2321000016' }) });
    expect(refused.status).toBe(400);
    const v = (await (await gatewayApi(gw, admin, '/v1/admin/sdk/address-book')).json()) as BookView;
    expect(v.copy.fetchedAt).not.toBeNull();
    expect(v.copy.lastError).toBe('ADDRESS_BOOK_UNAVAILABLE');
    expect(v.ownAddresses).toMatchObject({ missing: [], present: [OUR_INBOX] });
  }, 90000);
});

describe('SDK_ACCESS_POINT=as4 with the development SMP/CertPub simulator', () => {
  let t: TestGateway;
  beforeAll(async () => { t = await startTestGateway({ SDK_ACCESS_POINT: 'as4', SDK_AS4_LISTEN_PORT: '0' }); }, 90000);
  afterAll(async () => { await t.stop(); });

  it('publishes our access point\'s real URL in the simulated SMP and delivers a message to our own inbox over AS4', async () => {
    const smp = t.gw.world!.smp;
    const ours = smp.participants().find((p) => p.id === OURS)!;
    expect(ours.endpoint.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/as4$/);
    const [admin, caseSystem] = await Promise.all([
      systemToken(t.gw, 'admin-cli', 'dev-admin-cli-secret', ['urn:sandebud:admin']),
      systemToken(t.gw, 'case-system', 'dev-case-secret', SDK_SCOPES),
    ]);
    await addOwnAddress(t.gw, admin, OUR_INBOX);
    const res = await gatewayApi(t.gw, caseSystem, '/v1/sdk/messages', { method: 'POST', body: body(OUR_INBOX, { participant: OURS, address: OUR_INBOX }) });
    expect(res.status).toBe(201);
    const id = ((await res.json()) as { data: { id: string } }).data.id;
    let status = '';
    await waitFor(async () => {
      status = ((await (await gatewayApi(t.gw, caseSystem, `/v1/sdk/messages/${id}`)).json()) as { data: { attributes: { messageStatus: string } } }).data.attributes.messageStatus;
      return status === 'ACCEPTED' || status === 'MESSAGE_EXCHANGE_ERROR';
    }, 'our own receipt over AS4', 30000, 100);
    expect(status).toBe('ACCEPTED');
    // The message went through our AS4 access point (duplicate store) after SMP/CertPub look-ups of our participant.
    expect((await t.db.pool.query('SELECT state FROM sdk_as4_received')).rows).toContainEqual({ state: 'delivered' });
    expect(smp.requests.some((r) => r.includes(`iso6523-actorid-upis::${OURS}/services/`))).toBe(true);
    const inbox = await t.db.pool.query("SELECT status FROM sdk_messages WHERE direction = 'in' AND message_id = $1", [id]);
    expect(inbox.rows).toEqual([{ status: 'NEW' }]);
  }, 60000);
});
