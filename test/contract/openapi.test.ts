// The served API must match contracts/api/openapi.yaml (style.md convention 10): every /v1 route is documented,
// every documented /v1 operation exists, the served document is the committed one, and errors are problem+json.
import path from 'node:path';
import { loadOpenApi } from '../../src/api/ops.router.js';
import { startTestGateway, systemToken, type TestGateway } from '../support/gateway.js';

const SPEC_FILE = path.resolve(import.meta.dirname, '../../contracts/api/openapi.yaml');
type Spec = { paths: Record<string, Record<string, unknown>> };

describe('OpenAPI contract', () => {
  let t: TestGateway;
  beforeAll(async () => { t = await startTestGateway(); }, 60000);
  afterAll(async () => { await t.stop(); });

  it('documents exactly the /v1 routes the app serves', () => {
    const spec = loadOpenApi(SPEC_FILE) as Spec;
    const documented = Object.entries(spec.paths)
      .filter(([p]) => p.startsWith('/v1/'))
      .flatMap(([p, ops]) => Object.keys(ops).filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m)).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    expect(t.gw.routes).toEqual(documented);
  });

  it('serves the committed document (base plus feature parts) at /openapi.json', async () => {
    const served = await (await fetch(`${t.gw.url}/openapi.json`)).json();
    expect(served).toEqual(loadOpenApi(SPEC_FILE));
  });

  it('answers an undocumented /v1 route with a problem+json 404', async () => {
    const res = await fetch(`${t.gw.url}/v1/not-a-route`, { headers: { 'x-request-id': 'test-correlation-1' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({ status: 404, code: 'NOT_FOUND', correlationId: 'test-correlation-1' });
  });

  it('names each bad field in errors[] and stores nothing', async () => {
    const token = await systemToken(t.gw);
    const res = await fetch(`${t.gw.url}/v1/diagnostics/pings`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ note: 5, extra: true }) });
    expect(res.status).toBe(400);
    const body = await res.json() as { code: string; errors: { field: string }[] };
    expect(body.code).toBe('VALIDATION_FAILED');
    const fields = body.errors.map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['/headers/idempotency-key', '/body/note', '/body/extra']));
    const rows = await t.db.pool.query('SELECT 1 FROM deliveries');
    expect(rows.rows).toHaveLength(0);
  });

  it('answers an anonymous caller of a protected operation 401 before judging its body', async () => {
    const res = await fetch(`${t.gw.url}/v1/diagnostics/pings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ note: 5, extra: true }) });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="sandebud"/);
    const body = await res.json() as { code: string; errors?: unknown[] };
    expect(body.code).toBe('TOKEN_MISSING');
    expect(body.errors ?? []).toEqual([]); // nothing about which fields were wrong
  });

  it('gives the auth layer\'s reason for a bad token, not a field list', async () => {
    const res = await fetch(`${t.gw.url}/v1/diagnostics/pings`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer not-a-jwt' }, body: JSON.stringify({ note: 5 }) });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect((await res.json() as { code: string }).code).not.toBe('VALIDATION_FAILED');
  });

  it('still validates an operation the contract leaves open (security: []) for an anonymous caller', async () => {
    const res = await fetch(`${t.gw.url}/v1/signing/responses`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'unexpected=1' });
    expect(res.status).toBe(400);
  });

  it('refuses an oversized body with 413 problem+json', async () => {
    const res = await fetch(`${t.gw.url}/v1/diagnostics/pings`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'big-body-1' }, body: JSON.stringify({ note: 'x'.repeat(6 * 1024 * 1024) }) });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  it('serves interactive docs and sets security headers', async () => {
    const res = await fetch(`${t.gw.url}/docs`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('swagger-ui');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect((await fetch(`${t.gw.url}/docs/assets/swagger-ui-bundle.js`)).status).toBe(200);
  });
});
