// Issue 4 positive paths against the real dev OP and PostgreSQL: LoA3 login → session → /me, logout
// (RP-initiated), session limits, CSRF and the roles claim (oidc-loa3.md §5.1, §8).
import { CookieClient, loginAs, startAuthApp, type AuthTestApp } from '../../support/auth-app.js';

async function sessionCount(app: AuthTestApp): Promise<number> {
  const { rows } = await app.db.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM sessions');
  return Number(rows[0]?.n);
}

describe('login at LoA3 (people)', () => {
  let app: AuthTestApp;
  beforeAll(async () => {
    app = await startAuthApp({ label: 'authlogin' });
    await app.provision('caseworker1', ['caseworker']);
    await app.provision('tjanste1', ['caseworker']);
  });
  afterAll(async () => { await app.close(); });

  it('logs the bootstrapped admin in at LoA3, creates a server-side session and shows /me', async () => {
    const r = await loginAs(app, 'admin');
    expect(r.status).toBe(200);
    expect(r.url).toBe(`${app.url}/me`);
    expect(r.body).toContain('Astrid Admin');
    expect(r.body).toContain('http://id.elegnamnden.se/loa/1.0/loa3');
    expect(r.body).toMatch(/id="me-roles">admin</);
    // PKCE, state and nonce travelled: the authorization request carried them and prompt=login + essential acr.
    const authz = new URL(r.startHops.find((h) => h.startsWith(`${app.idp.issuer}/auth?`)) ?? 'http://x');
    expect(authz.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authz.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(authz.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(authz.searchParams.get('prompt')).toBe('login');
    expect(JSON.parse(authz.searchParams.get('claims') ?? '{}')).toMatchObject({ id_token: { acr: { essential: true, values: expect.arrayContaining(['http://id.elegnamnden.se/loa/1.0/loa3']) } } });
    const { rows } = await app.db.pool.query<{ acr: string; sub: string; id_hash: Buffer }>('SELECT acr, sub, id_hash FROM sessions');
    expect(rows.map((x) => ({ acr: x.acr, sub: x.sub }))).toEqual([{ acr: 'http://id.elegnamnden.se/loa/1.0/loa3', sub: 'admin' }]);
    // Only the hash of the cookie value is stored.
    const cookie = r.client.cookies(app.url).get('sb_sid') ?? '';
    expect(cookie.length).toBeGreaterThan(40);
    expect(rows[0]?.id_hash.toString('hex')).not.toContain(Buffer.from(cookie).toString('hex'));
    const audit = await app.audit.list({ type: 'LOGIN_SUCCEEDED' });
    expect(audit[0]).toMatchObject({ actor: 'person:admin', outcome: 'success', details: { acr: 'http://id.elegnamnden.se/loa/1.0/loa3' } });
    expect(JSON.stringify(audit)).not.toContain('199001012385');
    await app.db.pool.query('DELETE FROM sessions');
  });

  it('sets the session cookie HttpOnly, SameSite=Lax, Path=/ (no Secure and no __Host- on plain http)', async () => {
    const client = new CookieClient();
    const start = await client.request(`${app.url}/login`);
    expect(start.status).toBe(303);
    const tx = start.headers.getSetCookie().find((c) => c.startsWith('sb_tx='));
    expect(tx).toMatch(/HttpOnly/);
    expect(tx).toMatch(/SameSite=Lax/);
    expect(tx).toMatch(/Max-Age=600/);
    expect(tx).not.toMatch(/Secure/);
  });

  it('uses Secure __Host- cookies when the request came over TLS through a trusted proxy', async () => {
    const proxied = await startAuthApp({ label: 'authproxy', env: { TRUST_PROXY: 'true' } });
    try {
      const res = await fetch(`${proxied.url}/login`, { redirect: 'manual', headers: { 'x-forwarded-proto': 'https' } });
      const tx = res.headers.getSetCookie().find((c) => c.startsWith('__Host-sb_tx='));
      expect(tx).toMatch(/; Secure/);
      expect(tx).toMatch(/Path=\//);
    } finally {
      await proxied.close();
    }
  });

  it('answers /me as JSON for API clients and lists the person\'s readable function addresses only', async () => {
    await app.grant('sdk:inkorg-ekonomi:2120000000', 'person:caseworker1', ['read', 'send']);
    await app.grant('sdk:inkorg-social:2120000000', 'person:caseworker2', ['read']);
    const r = await loginAs(app, 'caseworker1');
    expect(r.status).toBe(200);
    const res = await r.client.request(`${app.url}/me`, { headers: { accept: 'application/json' } });
    const me = (await res.json()) as Record<string, unknown>;
    expect(me).toMatchObject({ kind: 'person', principalId: 'person:caseworker1', roles: ['caseworker'], readable: ['sdk:inkorg-ekonomi:2120000000'], sendable: ['sdk:inkorg-ekonomi:2120000000'] });
    expect(typeof me.csrfToken).toBe('string');
  });

  it('identifies an employee eID without personnummer by orgAffiliation and shows the HSA-id', async () => {
    const r = await loginAs(app, 'tjanste1');
    expect(r.status).toBe(200);
    expect(r.body).toContain('SE2120000000-dev1');
    expect(r.body).toContain('Tove Tjänstekort');
  });

  it('logs out: deletes the session, then sends the browser to the OP end-session endpoint with id_token_hint', async () => {
    const r = await loginAs(app, 'caseworker1');
    const me = (await (await r.client.request(`${app.url}/me`, { headers: { accept: 'application/json' } })).json()) as { csrfToken: string };
    const before = await sessionCount(app);
    const res = await r.client.request(`${app.url}/logout`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: app.url }, body: new URLSearchParams({ _csrf: me.csrfToken }).toString(),
    });
    expect(res.status).toBe(303);
    const target = new URL(res.headers.get('location') ?? '');
    expect(`${target.origin}${target.pathname}`).toBe(`${app.idp.issuer}/session/end`);
    expect(target.searchParams.get('id_token_hint')).toMatch(/^ey/);
    expect(target.searchParams.get('post_logout_redirect_uri')).toBe(`${app.url}/logged-out`);
    expect(await sessionCount(app)).toBe(before - 1);
    const after = await r.client.request(`${app.url}/me`);
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toBe('/login?returnTo=%2Fme');
    expect((await app.audit.list({ type: 'LOGOUT' }))[0]).toMatchObject({ actor: 'person:caseworker1' });
    // The OP's logout page accepts the hint (the registered post-logout URI matches).
    const op = await r.client.follow(target.href);
    expect(op.res.status).toBe(200);
    expect(op.body).toContain('op.logoutForm');
  });

  it('rejects a POST /logout without the CSRF token and keeps the session', async () => {
    const r = await loginAs(app, 'caseworker1');
    const before = await sessionCount(app);
    const res = await r.client.request(`${app.url}/logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(res.status).toBe(403);
    expect(await sessionCount(app)).toBe(before);
  });

  it('rejects a state-changing request with a wrong CSRF token or a foreign Origin, and accepts the right token', async () => {
    const r = await loginAs(app, 'caseworker1');
    const me = (await (await r.client.request(`${app.url}/me`, { headers: { accept: 'application/json' } })).json()) as { csrfToken: string };
    const post = (headers: Record<string, string>): Promise<Response> => r.client.request(`${app.url}/test/state-change`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' });
    const wrong = await post({ 'x-csrf-token': 'not-the-token' });
    expect(wrong.status).toBe(403);
    expect(((await wrong.json()) as { code: string }).code).toBe('CSRF_TOKEN_INVALID');
    const foreign = await post({ 'x-csrf-token': me.csrfToken, origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { code: string }).code).toBe('CSRF_ORIGIN_MISMATCH');
    const crossSite = await post({ 'x-csrf-token': me.csrfToken, 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    const ok = await post({ 'x-csrf-token': me.csrfToken, origin: app.url });
    expect(ok.status).toBe(200);
  });

  it('ends a session idle longer than SESSION_IDLE_MINUTES and deletes its row', async () => {
    const r = await loginAs(app, 'caseworker1');
    const hash = (await app.db.pool.query<{ id_hash: Buffer }>("SELECT id_hash FROM sessions WHERE sub = 'caseworker1' ORDER BY created_at DESC LIMIT 1")).rows[0]?.id_hash;
    await app.db.pool.query("UPDATE sessions SET last_seen_at = now() - interval '31 minutes' WHERE id_hash = $1", [hash]);
    const res = await r.client.request(`${app.url}/test/protected`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { code: string }).code).toBe('SESSION_EXPIRED');
    expect((await app.db.pool.query('SELECT 1 FROM sessions WHERE id_hash = $1', [hash])).rowCount).toBe(0);
  });

  it('ends a session older than SESSION_ABSOLUTE_HOURS even when active', async () => {
    const r = await loginAs(app, 'caseworker1');
    const hash = (await app.db.pool.query<{ id_hash: Buffer }>("SELECT id_hash FROM sessions WHERE sub = 'caseworker1' ORDER BY created_at DESC LIMIT 1")).rows[0]?.id_hash;
    await app.db.pool.query("UPDATE sessions SET created_at = now() - interval '9 hours' WHERE id_hash = $1", [hash]);
    const res = await r.client.request(`${app.url}/me`);
    expect(res.status).toBe(303);
    expect((await app.db.pool.query('SELECT 1 FROM sessions WHERE id_hash = $1', [hash])).rowCount).toBe(0);
  });

  it('redirects only to relative return paths after login (no open redirect)', async () => {
    const evil = await loginAs(app, 'caseworker1', { returnTo: '//evil.example/x' });
    expect(evil.url).toBe(`${app.url}/me`);
    const abs = await loginAs(app, 'caseworker1', { returnTo: 'https://evil.example/' });
    expect(abs.url).toBe(`${app.url}/me`);
    const ok = await loginAs(app, 'caseworker1', { returnTo: '/logged-out' });
    expect(ok.url).toBe(`${app.url}/logged-out`);
  });

  it('requires a principal on protected routes (401 problem+json without credentials)', async () => {
    const res = await fetch(`${app.url}/test/protected`);
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });
});

describe('roles from OIDC_ROLES_CLAIM', () => {
  let app: AuthTestApp;
  beforeAll(async () => { app = await startAuthApp({ label: 'authroles', env: { OIDC_ROLES_CLAIM: 'roles' } }); });
  afterAll(async () => { await app.close(); });

  it('provisions a person on first login when the OP asserts a Sändebud role, and audits it', async () => {
    const r = await loginAs(app, 'auditor');
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/id="me-roles">auditor</);
    expect((await app.audit.list({ type: 'USER_PROVISIONED' })).length).toBe(1);
  });
});
