// Start the real gateway in-process for API tests: its own database on the real PostgreSQL, Redis with its own
// queue name, simulators and HTTP on free ports.
import { randomBytes } from 'node:crypto';
import { startGateway, type Gateway } from '../../src/main.js';
import { createTestDatabase, REDIS_URL, type TestDatabase } from './db.js';
import { testLogger } from './logger.js';

export interface TestGateway { gw: Gateway; db: TestDatabase; lines: string[]; stop(): Promise<void> }

export async function startTestGateway(env: Record<string, string> = {}): Promise<TestGateway> {
  const db = await createTestDatabase('gw');
  const { logger, lines } = testLogger();
  const gw = await startGateway({
    NODE_ENV: 'test', PORT: '0', SIMULATORS_PORT_BASE: '0', DATABASE_URL: db.url, REDIS_URL,
    QUEUE_NAME: `gw-${randomBytes(4).toString('hex')}`, QUEUE_BACKOFF_BASE_MS: '100', QUEUE_BACKOFF_MAX_MS: '500',
    OUTBOX_RECONCILE_INTERVAL_MS: '500', OUTBOX_STALE_AFTER_MS: '1000', ...env,
  }, { logger });
  return { gw, db, lines, stop: async () => { await gw.stop(); await db.drop(); } };
}

/** A real client-credentials access token from the gateway's development identity provider. */
export async function systemToken(gw: Gateway, clientId = 'case-system', secret = 'dev-case-secret', scopes?: string[]): Promise<string> {
  const issuer = gw.simulators.identityProvider;
  if (issuer === undefined) throw new Error('the gateway runs no identity provider simulator');
  const meta = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { token_endpoint: string };
  const body = new URLSearchParams({ grant_type: 'client_credentials', resource: gw.config.API_AUDIENCE, ...(scopes ? { scope: scopes.join(' ') } : {}) });
  const res = await fetch(meta.token_endpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  const json = (await res.json()) as { access_token?: string; error?: string };
  if (!json.access_token) throw new Error(`token request failed: ${json.error ?? res.status}`);
  return json.access_token;
}

/**
 * List function addresses for `participant` in the gateway's simulated national SDK address book (sdk.md §3) and
 * let the gateway download it at once through the admin API (POST /v1/admin/sdk/address-book/refresh).
 */
export async function listInAddressBook(gw: Gateway, adminToken: string, participant: string, addresses: string[], name = `Organisation ${participant}`): Promise<void> {
  const sim = gw.world?.addressBook;
  if (sim === undefined) throw new Error('the gateway runs no address book simulator');
  const entries = sim.entries();
  const entry = entries.find((e) => e.organisation.participantId.toLowerCase() === participant.toLowerCase());
  if (entry === undefined) {
    const orgnr = /^0007:(\d{10})$/.exec(participant)?.[1];
    if (orgnr === undefined) throw new Error(`give an ICD 0007 participant, not ${participant}`);
    entries.push({ organisation: { participantId: participant, organizationNumber: orgnr, name }, addresses: addresses.map((identifier) => ({ identifier })) });
  } else {
    for (const identifier of addresses) if (!entry.addresses.some((a) => a.identifier === identifier)) entry.addresses.push({ identifier });
  }
  sim.setEntries(entries);
  const res = await fetch(`${gw.url}/v1/admin/sdk/address-book/refresh`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}` } });
  const body = (await res.json()) as { copy?: { lastError: string | null } };
  if (res.status !== 200 || body.copy?.lastError !== null) throw new Error(`address book refresh failed: ${res.status} ${JSON.stringify(body)}`);
}
