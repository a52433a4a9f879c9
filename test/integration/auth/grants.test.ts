// Grants per function address (issue 4; oidc-loa3.md §6.5, §10 rows 30, 32, 33): a principal without a grant
// gets 403 for that address, and lists never show other inboxes. The message routes are stubs in
// test/support/auth-app.ts that use the real GrantChecker the lead wires into the real routes.
import { STUB_MESSAGES, loginAs, startAuthApp, type AuthTestApp } from '../../support/auth-app.js';
import { API_AUDIENCE } from '../../support/idp.js';

const EKONOMI = 'sdk:inkorg-ekonomi:2120000000';
const SOCIAL = 'sdk:inkorg-social:2120000000';
const BYGG = 'sdk:inkorg-bygg:2120000000';

describe('grants per function address', () => {
  let app: AuthTestApp;
  beforeAll(async () => {
    app = await startAuthApp({ label: 'authgrants' });
    await app.provision('caseworker1', ['caseworker']);
    await app.provision('caseworker2', ['caseworker']);
    await app.grant(EKONOMI, 'person:caseworker1', ['read', 'send']);
    await app.grant(SOCIAL, 'person:caseworker2', ['read']);
    await app.grant(EKONOMI, 'system:case-system', ['read']);
    await app.grant(BYGG, 'system:case-system', ['read', 'send']);
    await app.grant(SOCIAL, 'system:case-system-b', ['read']);
    Object.assign(STUB_MESSAGES, { [EKONOMI]: ['m-ek-1', 'm-ek-2'], [SOCIAL]: ['m-so-1'], [BYGG]: ['m-by-1'] });
  });
  afterAll(async () => { await app.close(); });

  const json = async (res: Response): Promise<Record<string, unknown>> => (await res.json()) as Record<string, unknown>;

  it('rejects a case worker reading a function address they have no grant for (403, audited)', async () => {
    const { client } = await loginAs(app, 'caseworker1');
    const res = await client.request(`${app.url}/test/function-addresses/${encodeURIComponent(SOCIAL)}/messages`);
    expect(res.status).toBe(403);
    expect((await json(res)).code).toBe('FUNCTION_ADDRESS_NOT_GRANTED');
    const denied = await app.audit.list({ type: 'ACCESS_DENIED', limit: 1 });
    expect(denied[0]).toMatchObject({ actor: 'person:caseworker1', subject: SOCIAL, outcome: 'failure', details: { permission: 'read' } });
    const own = await client.request(`${app.url}/test/function-addresses/${encodeURIComponent(EKONOMI)}/messages`);
    expect(own.status).toBe(200);
    expect((await json(own)).messages).toEqual(['m-ek-1', 'm-ek-2']);
  });

  it('rejects a case worker filtering the message list on another function address, and lists only granted ones', async () => {
    const { client } = await loginAs(app, 'caseworker2');
    const filtered = await client.request(`${app.url}/test/messages?functionAddress=${encodeURIComponent(EKONOMI)}`);
    expect(filtered.status).toBe(403);
    const all = await json(await client.request(`${app.url}/test/messages`));
    expect(all.items).toEqual([{ id: 'm-so-1', functionAddress: SOCIAL }]);
  });

  it('rejects a system listing messages of another function address; its unfiltered list omits them', async () => {
    const token = await app.idp.clientCredentialsToken('case-system');
    const headers = { authorization: `Bearer ${token}` };
    const other = await fetch(`${app.url}/test/messages?functionAddress=${encodeURIComponent(SOCIAL)}`, { headers });
    expect(other.status).toBe(403);
    expect((await json(other)).code).toBe('FUNCTION_ADDRESS_NOT_GRANTED');
    const byId = await fetch(`${app.url}/test/function-addresses/${encodeURIComponent(SOCIAL)}/messages`, { headers });
    expect(byId.status).toBe(403);
    const list = await json(await fetch(`${app.url}/test/messages`, { headers }));
    const seen = (list.items as { functionAddress: string }[]).map((i) => i.functionAddress);
    expect(new Set(seen)).toEqual(new Set([EKONOMI, BYGG]));
    expect(seen).not.toContain(SOCIAL);
  });

  it('intersects grants with the token\'s urn:sdk.digg.se:auth_id claim (the token may narrow, never widen)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await app.idp.forge({
      iss: app.idp.issuer, aud: API_AUDIENCE, sub: 'case-system', client_id: 'case-system', scope: 'urn:sdk.api:getMessageByFilter urn:sdk.api:getMessage',
      iat: now, exp: now + 300, jti: 'authid-1', 'urn:sdk.digg.se:auth_id': [BYGG, SOCIAL],
    });
    const headers = { authorization: `Bearer ${token}` };
    const list = await json(await fetch(`${app.url}/test/messages`, { headers }));
    expect(list.items).toEqual([{ id: 'm-by-1', functionAddress: BYGG }]);
    expect((await fetch(`${app.url}/test/messages?functionAddress=${encodeURIComponent(SOCIAL)}`, { headers })).status).toBe(403);
    expect((await fetch(`${app.url}/test/messages?functionAddress=${encodeURIComponent(EKONOMI)}`, { headers })).status).toBe(403);
  });

  it('applies a revoked grant at once', async () => {
    const { client } = await loginAs(app, 'caseworker1');
    const path = `${app.url}/test/function-addresses/${encodeURIComponent(EKONOMI)}/messages`;
    expect((await client.request(path)).status).toBe(200);
    await app.db.pool.query("DELETE FROM grants WHERE principal_id = 'person:caseworker1' AND permission = 'read'");
    expect((await client.request(path)).status).toBe(403);
    await app.grant(EKONOMI, 'person:caseworker1', ['read']);
  });

  it('answers canSend / canRead per permission', async () => {
    const p = { kind: 'person' as const, sub: 'caseworker2', issuer: app.idp.issuer, acr: 'x', roles: [], sessionId: 's' };
    expect(await app.auth.grants.canRead(p, SOCIAL)).toBe(true);
    expect(await app.auth.grants.canSend(p, SOCIAL)).toBe(false);
    expect(await app.auth.grants.readableAddresses(p)).toEqual([SOCIAL]);
    expect(await app.auth.grants.sendableAddresses(p)).toEqual([]);
  });
});
