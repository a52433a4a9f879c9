// Negative login tests (issue 4 "Must show"; oidc-loa3.md §10 rows 1–4, 6–9, 12–16, 19–21), each named for
// what it rejects. They run against the real dev OP; ID-token tampering replaces the token-endpoint response
// through openid-client's customFetch hook, re-signing with the OP's own key (to reach claim checks) or with a
// rogue key (to reach the signature check) — oidc-loa3.md §9.6.
import * as jose from 'jose';
import type { OidcFetch } from '../../../src/auth/oidc.js';
import { CookieClient, loginAs, startAuthApp, type AuthTestApp, type LoginResult } from '../../support/auth-app.js';
import type { ForgeOptions } from '../../support/idp.js';

const LOA2 = 'http://id.elegnamnden.se/loa/1.0/loa2';
const LOA3 = 'http://id.elegnamnden.se/loa/1.0/loa3';

type Tamper = (claims: jose.JWTPayload, idToken: string) => { claims?: jose.JWTPayload; raw?: string; forge?: ForgeOptions };

/** The active ID-token tamper, and every genuine ID token seen (for the replay test). */
const state: { tamper?: Tamper; seen: string[]; app?: AuthTestApp } = { seen: [] };

const oidcFetch: OidcFetch = async (url, options) => {
  const res = await fetch(url, options as RequestInit);
  if (!url.endsWith('/token') || state.app === undefined) return res;
  const json = (await res.json()) as Record<string, unknown>;
  const idToken = typeof json.id_token === 'string' ? json.id_token : undefined;
  if (idToken !== undefined) {
    state.seen.push(idToken);
    if (state.tamper !== undefined) {
      const t = state.tamper(jose.decodeJwt(idToken), idToken);
      json.id_token = t.raw ?? await state.app.idp.forge(t.claims ?? jose.decodeJwt(idToken), { typ: 'JWT', ...t.forge });
    }
  }
  return new Response(JSON.stringify(json), { status: res.status, headers: { 'content-type': 'application/json' } });
};

async function expectRefused(app: AuthTestApp, r: LoginResult, reason: string, text?: RegExp): Promise<void> {
  expect(r.url).toContain('/auth/callback');
  expect(r.status).toBe(403);
  expect(r.body).toContain(`data-reason="${reason}"`);
  if (text !== undefined) expect(r.body).toMatch(text);
  expect(r.client.cookies(app.url).has('sb_sid')).toBe(false);
  const { rows } = await app.db.pool.query('SELECT 1 FROM sessions');
  expect(rows).toHaveLength(0);
  const refused = await app.audit.list({ type: 'LOGIN_REFUSED', limit: 1 });
  expect(refused[0]).toMatchObject({ actor: 'anonymous', outcome: 'failure', details: { reason } });
  expect(JSON.stringify(refused)).not.toMatch(/19[0-9]{10}/);
}

const LOA_PAGE = /tillitsnivå 3 eller högre/;

describe('login refusals', () => {
  let app: AuthTestApp;
  beforeAll(async () => {
    app = await startAuthApp({ label: 'authrefuse', oidcFetch });
    state.app = app;
    for (const u of ['caseworker1', 'lena', 'auditor']) await app.provision(u, ['caseworker']);
  });
  afterAll(async () => { await app.close(); });
  afterEach(async () => {
    state.tamper = undefined;
    app.idp.mode.ignoreEssentialAcr = false;
    const lena = app.idp.users.find((u) => u.username === 'lena');
    if (lena) lena.acr = LOA2;
    const cw = app.idp.users.find((u) => u.username === 'caseworker1');
    if (cw) cw.acr = LOA3;
    await app.db.pool.query('DELETE FROM sessions');
  });

  it('rejects a lower acr (LoA2) that a misbehaving OP asserts despite the essential acr request', async () => {
    app.idp.mode.ignoreEssentialAcr = true;
    const r = await loginAs(app, 'lena');
    await expectRefused(app, r, 'ACR_NOT_ACCEPTED', LOA_PAGE);
    expect(r.body).toContain(LOA2);
    expect((await app.audit.list({ type: 'LOGIN_REFUSED', limit: 1 }))[0]?.details).toMatchObject({ acr: LOA2 });
  });

  it('rejects the LoA2 user when an honest OP answers unmet_authentication_requirements', async () => {
    const r = await loginAs(app, 'lena');
    await expectRefused(app, r, 'IDP_ERROR', LOA_PAGE);
    expect(r.body).toContain('unmet_authentication_requirements');
  });

  it('rejects a missing acr', async () => {
    app.idp.mode.ignoreEssentialAcr = true;
    const cw = app.idp.users.find((u) => u.username === 'caseworker1');
    if (cw) cw.acr = null;
    const r = await loginAs(app, 'caseworker1');
    await expectRefused(app, r, 'ACR_MISSING', LOA_PAGE);
  });

  it('rejects uncertified-loa3 (a self-declared level 3) unless configured', async () => {
    app.idp.mode.ignoreEssentialAcr = true;
    const cw = app.idp.users.find((u) => u.username === 'caseworker1');
    if (cw) cw.acr = 'http://id.swedenconnect.se/loa/1.0/uncertified-loa3';
    const r = await loginAs(app, 'caseworker1');
    await expectRefused(app, r, 'ACR_NOT_ACCEPTED', LOA_PAGE);
  });

  it('rejects an ID token whose acr was lowered after signing by the OP key (acr checked by us, not by openid-client)', async () => {
    state.tamper = (c) => ({ claims: { ...c, acr: LOA2 } });
    await expectRefused(app, await loginAs(app, 'caseworker1'), 'ACR_NOT_ACCEPTED');
  });

  it('rejects an ID token with the wrong aud', async () => {
    state.tamper = (c) => ({ claims: { ...c, aud: 'some-other-client' } });
    await expectRefused(app, await loginAs(app, 'caseworker1'), 'ID_TOKEN_INVALID');
  });

  it('rejects an ID token with several audiences and a foreign azp', async () => {
    state.tamper = (c) => ({ claims: { ...c, aud: ['sandebud-web', 'other'], azp: 'other' } });
    await expectRefused(app, await loginAs(app, 'caseworker1'), 'ID_TOKEN_INVALID');
  });

  it('rejects an ID token with the wrong iss', async () => {
    state.tamper = (c) => ({ claims: { ...c, iss: 'http://localhost:1/evil' } });
    await expectRefused(app, await loginAs(app, 'caseworker1'), 'ID_TOKEN_INVALID');
  });

  it('rejects an ID token without nonce', async () => {
    state.tamper = (c) => {
      const { nonce: _n, ...rest } = c;
      return { claims: rest };
    };
    await expectRefused(app, await loginAs(app, 'caseworker1'), 'NONCE_MISMATCH');
  });

  it('rejects a replayed ID token (nonce of an earlier login)', async () => {
    const first = await loginAs(app, 'caseworker1');
    expect(first.status).toBe(200);
    const captured = state.seen[state.seen.length - 1];
    expect(captured).toBeDefined();
    await app.db.pool.query('DELETE FROM sessions');
    state.tamper = () => ({ raw: captured });
    await expectRefused(app, await loginAs(app, 'caseworker1'), 'NONCE_MISMATCH');
  });

  it('rejects an expired ID token', async () => {
    const now = Math.floor(Date.now() / 1000);
    state.tamper = (c) => ({ claims: { ...c, iat: now - 400, exp: now - 100 } });
    await expectRefused(app, await loginAs(app, 'caseworker1'), 'ID_TOKEN_INVALID');
  });

  it('rejects an ID token signed by an unknown key', async () => {
    state.tamper = (c) => ({ claims: c, forge: { key: 'rogue' } });
    await expectRefused(app, await loginAs(app, 'caseworker1'), 'ID_TOKEN_INVALID');
  });

  it('rejects an ID token signed by another key under the OP key id', async () => {
    state.tamper = (c) => ({ claims: c, forge: { key: 'rogue-same-kid' } });
    await expectRefused(app, await loginAs(app, 'caseworker1'), 'ID_TOKEN_INVALID');
  });

  it('rejects an unsigned ID token (alg none)', async () => {
    state.tamper = (c) => ({ raw: new jose.UnsecuredJWT(c).encode() });
    await expectRefused(app, await loginAs(app, 'caseworker1'), 'ID_TOKEN_INVALID');
  });

  it('rejects an auth_time older than the login transaction (reused OP session)', async () => {
    state.tamper = (c) => ({ claims: { ...c, auth_time: Math.floor(Date.now() / 1000) - 3600 } });
    await expectRefused(app, await loginAs(app, 'caseworker1'), 'AUTH_TIME_INVALID');
  });

  it('rejects a personnummer with a bad check digit', async () => {
    state.tamper = (c) => ({ claims: { ...c, 'https://id.oidc.se/claim/personalIdentityNumber': '197802142394' } });
    await expectRefused(app, await loginAs(app, 'caseworker1'), 'IDENTITY_CLAIM_MALFORMED');
  });

  it('rejects a valid LoA3 person who is not provisioned', async () => {
    const r = await loginAs(app, 'caseworker2');
    await expectRefused(app, r, 'USER_NOT_PROVISIONED', /inget aktivt konto/);
  });

  it('rejects a disabled user', async () => {
    const id = await app.provision('auditor', ['auditor']);
    await app.db.pool.query('UPDATE users SET enabled = false WHERE id = $1', [id]);
    await expectRefused(app, await loginAs(app, 'auditor'), 'USER_DISABLED');
    await app.db.pool.query('UPDATE users SET enabled = true WHERE id = $1', [id]);
  });

  it('rejects a callback without the login-transaction cookie', async () => {
    const client = new CookieClient();
    const r = await client.follow(`${app.url}/auth/callback?code=abc&state=def&iss=${encodeURIComponent(app.idp.issuer)}`);
    expect(r.res.status).toBe(403);
    expect(r.body).toContain('data-reason="LOGIN_TX_INVALID"');
  });

  it('rejects a replayed callback after a successful login (the transaction was used once)', async () => {
    const ok = await loginAs(app, 'caseworker1');
    expect(ok.status).toBe(200);
    const callback = ok.client.hops.find((h) => h.includes('/auth/callback?'));
    expect(callback).toBeDefined();
    const again = await ok.client.follow(callback ?? '');
    expect(again.res.status).toBe(403);
    expect(again.body).toContain('data-reason="LOGIN_TX_INVALID"');
  });

  it('rejects a callback whose state belongs to another login transaction', async () => {
    const ok = await loginAs(app, 'caseworker1');
    const callback = ok.client.hops.find((h) => h.includes('/auth/callback?')) ?? '';
    // A fresh transaction cookie, but the code/state of the old response.
    await ok.client.request(`${app.url}/login`);
    const r = await ok.client.follow(callback);
    expect(r.res.status).toBe(403);
    expect(r.body).toContain('data-reason="STATE_MISMATCH"');
  });

  it('rejects a login the user cancelled at the OP (access_denied)', async () => {
    const client = new CookieClient();
    const start = await client.follow(`${app.url}/login`);
    const m = /action="(\/interaction\/[^"]+\/abort)"/.exec(start.body);
    const r = await client.follow(new URL(m?.[1] ?? '', start.url).href, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(r.res.status).toBe(403);
    expect(r.body).toContain('data-reason="IDP_ERROR"');
    expect(r.body).toContain('avbröts');
  });
});

describe('login refusals with OIDC_ACR_REQUEST_MODE=acr_values', () => {
  let app: AuthTestApp;
  beforeAll(async () => {
    app = await startAuthApp({ label: 'authacrv', env: { OIDC_ACR_REQUEST_MODE: 'acr_values' } });
    await app.provision('lena', ['caseworker']);
    await app.provision('caseworker1', ['caseworker']);
  });
  afterAll(async () => { await app.close(); });

  it('rejects a lower acr: acr_values is voluntary, the OP issues LoA2 and Sändebud refuses it', async () => {
    const r = await loginAs(app, 'lena');
    const authz = new URL(r.startHops.find((h) => h.startsWith(`${app.idp.issuer}/auth?`)) ?? 'http://x');
    expect(authz.searchParams.get('acr_values')?.split(' ')[0]).toBe(LOA3);
    expect(authz.searchParams.get('claims')).toBeNull();
    await expectRefused(app, r, 'ACR_NOT_ACCEPTED', LOA_PAGE);
  });

  it('still accepts a LoA3 login', async () => {
    const r = await loginAs(app, 'caseworker1');
    expect(r.status).toBe(200);
    expect(r.url).toBe(`${app.url}/me`);
  });
});
