// Systems with bearer JWT access tokens (issue 4 "Systems"; oidc-loa3.md §6.2, §10 rows 16–18, 22–29).
// Real client-credentials tokens from the dev OP; forged ones signed with the OP key (claim checks) or a rogue
// key (signature checks). Each negative test is named for what it rejects.
import * as jose from 'jose';
import { startAuthApp, type AuthTestApp } from '../../support/auth-app.js';
import { API_AUDIENCE } from '../../support/idp.js';

describe('bearer access tokens (systems)', () => {
  let app: AuthTestApp;
  beforeAll(async () => { app = await startAuthApp({ label: 'authbearer' }); });
  afterAll(async () => { await app.close(); });

  const call = (token: string, path = '/test/letters', method = 'POST', extra: Record<string, string> = {}): Promise<Response> =>
    fetch(`${app.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...extra }, ...(method === 'POST' ? { body: '{}' } : {}) });

  const code = async (res: Response): Promise<string> => ((await res.json()) as { code: string }).code;

  /** Claims of a well-formed system token, for forging variants. */
  const good = (over: jose.JWTPayload = {}): jose.JWTPayload => {
    const now = Math.floor(Date.now() / 1000);
    return { iss: app.idp.issuer, aud: API_AUDIENCE, sub: 'case-system', client_id: 'case-system', scope: 'urn:sandebud:digital-post:send', iat: now, exp: now + 600, jti: `j-${Math.random()}`, ...over };
  };

  it('accepts a client-credentials token from the dev OP on a route needing its scope', async () => {
    const token = await app.idp.clientCredentialsToken('case-system');
    const header = jose.decodeProtectedHeader(token);
    expect(header.typ).toBe('at+jwt');
    const claims = jose.decodeJwt(token);
    expect(claims).toMatchObject({ aud: API_AUDIENCE, sub: 'case-system', client_id: 'case-system' });
    const res = await call(token);
    expect(res.status).toBe(202);
    const who = await (await call(token, '/test/protected', 'GET')).json();
    expect(who).toEqual({ principalId: 'system:case-system', kind: 'system' });
  });

  it('accepts a forged-but-correct token signed with the OP key (sanity check for the forge)', async () => {
    expect((await call(await app.idp.forge(good()))).status).toBe(202);
  });

  it('rejects a token missing the route\'s scope with 403 insufficient_scope naming it', async () => {
    const token = await app.idp.clientCredentialsToken('case-system-b');
    const res = await call(token);
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect(res.headers.get('www-authenticate')).toContain('urn:sandebud:digital-post:send');
    expect(await code(res)).toBe('INSUFFICIENT_SCOPE');
  });

  it('rejects a token for another audience', async () => {
    const res = await call(await app.idp.forge(good({ aud: 'urn:someone-else:api' })));
    expect(res.status).toBe(401);
    expect(await code(res)).toBe('TOKEN_AUDIENCE');
  });

  it('rejects a token from the wrong issuer', async () => {
    const res = await call(await app.idp.forge(good({ iss: 'http://localhost:1' })));
    expect(res.status).toBe(401);
    expect(await code(res)).toBe('TOKEN_ISSUER');
  });

  it('rejects an expired token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const res = await call(await app.idp.forge(good({ iat: now - 900, exp: now - 120 })));
    expect(res.status).toBe(401);
    expect(await code(res)).toBe('TOKEN_EXPIRED');
  });

  it('rejects a token that lives longer than 30 minutes', async () => {
    const now = Math.floor(Date.now() / 1000);
    const res = await call(await app.idp.forge(good({ iat: now, exp: now + 3600 })));
    expect(res.status).toBe(401);
    expect(await code(res)).toBe('TOKEN_LIFETIME');
  });

  it('rejects a token signed by an unknown key', async () => {
    const res = await call(await app.idp.forge(good(), { key: 'rogue' }));
    expect(res.status).toBe(401);
    expect(await code(res)).toBe('TOKEN_SIGNATURE');
  });

  it('rejects a token signed by another key under the OP key id', async () => {
    const res = await call(await app.idp.forge(good(), { key: 'rogue-same-kid' }));
    expect(res.status).toBe(401);
    expect(await code(res)).toBe('TOKEN_SIGNATURE');
  });

  it('rejects an unsigned token (alg none)', async () => {
    const res = await call(new jose.UnsecuredJWT(good()).encode());
    expect(res.status).toBe(401);
  });

  it('rejects an HS256 token keyed with the OP public key', async () => {
    const jwks = (await (await fetch(`${app.idp.issuer}/jwks`)).json()) as { keys: jose.JWK[] };
    const secret = new TextEncoder().encode(JSON.stringify(jwks.keys[0]));
    const token = await new jose.SignJWT(good()).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: app.idp.keyId }).sign(secret);
    const res = await call(token);
    expect(res.status).toBe(401);
    expect(await code(res)).toBe('TOKEN_ALGORITHM');
  });

  it('rejects an ID token (typ JWT) used as an access token', async () => {
    const res = await call(await app.idp.forge(good(), { typ: 'JWT' }));
    expect(res.status).toBe(401);
    expect(await code(res)).toBe('TOKEN_TYPE');
  });

  it('rejects a user token on the system API (sub differs from client_id)', async () => {
    const res = await call(await app.idp.forge(good({ sub: 'caseworker1' })));
    expect(res.status).toBe(401);
    expect(await code(res)).toBe('TOKEN_NOT_CLIENT');
  });

  it('rejects a token without client_id or jti', async () => {
    const { client_id: _c, ...noClient } = good();
    expect((await call(await app.idp.forge(noClient))).status).toBe(401);
    const { jti: _j, ...noJti } = good();
    expect((await call(await app.idp.forge(noJti))).status).toBe(401);
  });

  it('rejects two Authorization headers or a token also in the query string with 400', async () => {
    const token = await app.idp.clientCredentialsToken('case-system');
    const res = await call(token, `/test/letters?access_token=${token}`);
    expect(res.status).toBe(400);
    expect(await code(res)).toBe('TOKEN_REQUEST_INVALID');
    const raw = await new Promise<number>((resolve, reject) => {
      const u = new URL(`${app.url}/test/protected`);
      import('node:http').then(({ request }) => {
        const req = request({ host: '127.0.0.1', port: u.port, path: u.pathname, method: 'GET', headers: [['authorization', `Bearer ${token}`], ['authorization', `Bearer ${token}`]] as unknown as Record<string, string> }, (r) => { r.resume(); resolve(r.statusCode ?? 0); });
        req.on('error', reject);
        req.end();
      }, reject);
    });
    expect(raw).toBe(400);
  });

  it('rejects a missing token with 401 and a bare Bearer challenge', async () => {
    const res = await fetch(`${app.url}/test/letters`, { method: 'POST' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('gives systems 403 on role-protected routes (roles are for people)', async () => {
    const token = await app.idp.clientCredentialsToken('admin-cli');
    const res = await call(token, '/test/admin-only', 'GET');
    expect(res.status).toBe(403);
    expect(await code(res)).toBe('ROLE_REQUIRED');
  });

  it('does not let a bearer-authenticated request fall back to a session cookie', async () => {
    const res = await call('garbage.garbage.garbage', '/test/protected', 'GET', { cookie: 'sb_sid=whatever' });
    expect(res.status).toBe(401);
  });
});
