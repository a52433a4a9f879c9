import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, KEYS, configTable, developmentDefaultsInUse, loadConfig } from '../../src/config/index.js';

describe('configuration', () => {
  it('runs on documented defaults in development', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(3000);
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.QUEUE_ATTEMPTS).toBe(8);
    expect(c.OIDC_ACCEPTED_ACR).toContain('http://id.elegnamnden.se/loa/1.0/loa3');
    expect(Object.isFrozen(c)).toBe(true);
  });

  it.each([
    ['PORT', 'abc', /PORT.*integer/],
    ['PORT', '70000', /PORT.*between/],
    ['FAR_URL', 'not a url', /FAR_URL.*URL/],
    ['NODE_ENV', 'staging', /NODE_ENV.*one of/],
    ['TRUST_PROXY', 'maybe', /TRUST_PROXY.*true or false/],
    ['JSON_BODY_LIMIT', 'lots', /JSON_BODY_LIMIT/],
    ['ORG_NUMBER', '123', /ORG_NUMBER.*10 digits/],
  ])('refuses %s=%s naming the key', (key, value, re) => {
    expect(() => loadConfig({ [key]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [key]: value })).toThrow(re);
  });

  it('refuses client-certificate checks without TLS in the gateway, and half a TLS key pair', () => {
    expect(() => loadConfig({ MTLS_CLIENT_CA_FILE: 'ca.pem' })).toThrow(/MTLS_CLIENT_CA_FILE.*TLS_SERVER_CERT_FILE/);
    expect(() => loadConfig({ TLS_SERVER_CERT_FILE: 'server.crt' })).toThrow(/TLS_SERVER_KEY_FILE/);
  });

  it('reads secrets from *_FILE and refuses both forms at once', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cfg-'));
    const f = path.join(dir, 'secret');
    writeFileSync(f, 'from-file\n');
    expect(loadConfig({ OIDC_CLIENT_SECRET_FILE: f }).OIDC_CLIENT_SECRET).toBe('from-file');
    expect(() => loadConfig({ OIDC_CLIENT_SECRET_FILE: f, OIDC_CLIENT_SECRET: 'x' })).toThrow(/either/);
    expect(() => loadConfig({ OIDC_CLIENT_SECRET_FILE: path.join(dir, 'missing') })).toThrow(/OIDC_CLIENT_SECRET_FILE/);
  });

  it('refuses every development default in production, naming the first key', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/DATABASE_URL/);
    const dev = developmentDefaultsInUse(loadConfig({}));
    const keys = dev.map((d) => d.key);
    expect(keys).toEqual(expect.arrayContaining(['DATABASE_URL', 'SIMULATORS', 'ORG_SIGN_KEY_FILE', 'FAR_URL', 'OIDC_ISSUER', 'OIDC_CLIENT_SECRET']));
  });

  it('refuses the SDK address book and SMP simulator URLs in production, naming the key (issue 7)', () => {
    const dev = developmentDefaultsInUse(loadConfig({}));
    expect(dev.filter((d) => ['SMP_URL', 'ADDRESS_BOOK_URL'].includes(d.key)).map((d) => d.why)).toEqual(['points at a local simulator', 'points at a local simulator']);
    expect(developmentDefaultsInUse(loadConfig({ ADDRESS_BOOK_URL: 'https://adressbok.example' })).map((d) => d.key)).not.toContain('ADDRESS_BOOK_URL');
    expect(loadConfig({}).ADDRESS_BOOK_REFRESH_MS).toBe(3_600_000);
    expect(() => loadConfig({ ADDRESS_BOOK_REFRESH_MS: 'hourly' })).toThrow(/ADDRESS_BOOK_REFRESH_MS.*integer/);
    expect(() => loadConfig({ ADDRESS_BOOK_URL: 'not a url' })).toThrow(/ADDRESS_BOOK_URL.*URL/);
  });

  it('starts in production once every development default is replaced', () => {
    const env: Record<string, string> = {
      NODE_ENV: 'production', DATABASE_URL: 'postgres://db.example/sandebud', SIMULATORS: 'false', OIDC_CLIENT_SECRET: 's3cret', BOOTSTRAP_ADMINS: '',
      ORG_SIGN_CERT_FILE: '/etc/sandebud/sign.crt', ORG_SIGN_KEY_FILE: '/etc/sandebud/sign.key', ORG_ENC_CERT_FILE: '/etc/sandebud/enc.crt',
      ORG_ENC_KEY_FILE: '/etc/sandebud/enc.key', ORG_SEAL_CERT_FILE: '/etc/sandebud/seal.crt', ORG_SEAL_KEY_FILE: '/etc/sandebud/seal.key', SIGNING_SERVICE_CERT_FILE: '/etc/sandebud/signservice.crt', TLS_CLIENT_CERT_FILE: '/etc/sandebud/tls.crt', TLS_CLIENT_KEY_FILE: '/etc/sandebud/tls.key', TRUST_CA_FILE: '/etc/sandebud/ca.crt',
      FAR_URL: 'https://far.example/Recipient', PRINT_PROVIDER_URL: 'https://print.example/v1', SMP_URL: 'https://smp.example', ADDRESS_BOOK_URL: 'https://ab.example',
      ACCESS_POINT_URL: 'https://ap.example/as4', SIGNING_SERVICE_URL: 'https://sign.example', OIDC_ISSUER: 'https://idp.example',
    };
    // BOOTSTRAP_ADMINS='' falls back to its default, which production refuses: a real deployment names its own admins.
    expect(() => loadConfig(env)).toThrow(/BOOTSTRAP_ADMINS/);
    const { ADDRESS_BOOK_URL: _ab, ...withoutAddressBook } = env;
    expect(() => loadConfig({ ...withoutAddressBook, BOOTSTRAP_ADMINS: '198112289874' })).toThrow(/Configuration error in ADDRESS_BOOK_URL: .*local simulator/);
    expect(loadConfig({ ...env, BOOTSTRAP_ADMINS: '198112289874' }).NODE_ENV).toBe('production');
  });

  it('documents every key once, and the README lists each of them', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');
    for (const row of configTable()) {
      expect(row.doc.length).toBeGreaterThan(10);
      expect(readme).toContain(`\`${row.key}\``);
    }
    expect(configTable()).toHaveLength(Object.keys(KEYS).length);
  });
});
