// Optional mutual TLS for systems (issue 4): the gateway serves HTTPS, and with MTLS_CLIENT_CA_FILE a bearer call
// also needs a client certificate from that CA. Real TLS sockets, dev PKI certificates, a real token.
import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { ensureDevPki, type DevPki } from '../../scripts/dev-pki.js';
import { startTestGateway, systemToken, type TestGateway } from '../support/gateway.js';

describe('gateway over HTTPS with mutual TLS for systems', () => {
  let t: TestGateway;
  let pki: DevPki;
  let token: string;
  beforeAll(async () => {
    pki = await ensureDevPki(path.join(os.tmpdir(), 'sandebud-test-pki'));
    t = await startTestGateway({
      TLS_SERVER_CERT_FILE: pki.cert('org-tls-server'), TLS_SERVER_KEY_FILE: pki.key('org-tls-server'), MTLS_CLIENT_CA_FILE: pki.caBundleFile,
      CERTS_DIR: path.dirname(pki.caBundleFile),
    });
    token = await systemToken(t.gw, 'case-system', 'dev-case-secret', ['urn:sandebud:digital-post:read']);
  }, 90000);
  afterAll(async () => { await t.stop(); });

  const agent = (withClientCert: boolean) => new Agent({
    connect: {
      ca: readFileSync(pki.caBundleFile), servername: 'localhost',
      ...(withClientCert ? { cert: readFileSync(pki.cert('case-system-client')), key: readFileSync(pki.key('case-system-client')) } : {}),
    },
  });
  const url = (p: string) => `https://localhost:${t.gw.port}${p}`;

  it('serves HTTPS', async () => {
    expect(t.gw.url).toMatch(/^https:/);
    const res = await request(url('/healthz'), { dispatcher: agent(false) });
    expect(res.statusCode).toBe(200);
    await res.body.json();
  });

  it('refuses a bearer call without a client certificate', async () => {
    const res = await request(url('/v1/digital-post/letters/00000000-0000-4000-8000-000000000000'), { dispatcher: agent(false), headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(401);
    expect(await res.body.json()).toMatchObject({ code: 'CLIENT_CERTIFICATE_REQUIRED' });
  });

  it('accepts the same call with a client certificate from the configured CA', async () => {
    const res = await request(url('/v1/digital-post/letters/00000000-0000-4000-8000-000000000000'), { dispatcher: agent(true), headers: { authorization: `Bearer ${token}` } });
    // Authenticated: the letter simply does not exist.
    expect(res.statusCode).toBe(404);
    await res.body.json();
  });
});
