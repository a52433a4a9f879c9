// Start-up as a user runs it (issue 3 "Must show"): the real `src/main.ts` process in embedded mode
// (no DATABASE_URL, no REDIS_URL) and against the local servers; bad config and the production profile.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../support/db.js';
import { runMainProcess, startMainProcess } from '../../scripts/main-process.js';

const startMain = (env: Record<string, string | undefined>) => startMainProcess(env);
const runMain = runMainProcess;

describe('gateway start-up', () => {
  let db: TestDatabase;
  let varDir: string;
  beforeAll(async () => {
    db = await createTestDatabase('startup');
    varDir = mkdtempSync(path.join(os.tmpdir(), 'sandebud-var-'));
  });
  afterAll(async () => {
    await db.drop();
    rmSync(varDir, { recursive: true, force: true });
  });

  it('comes up in embedded mode (no DATABASE_URL, no REDIS_URL) and is ready', async () => {
    const gw = await startMain({ EMBEDDED_DB_DIR: path.join(varDir, 'pglite'), QUEUE_NAME: 'startup-embedded' });
    try {
      expect(gw.stdout()).toMatch(/API docs: +http:\/\/localhost:\d+\/docs/);
      expect(gw.stdout()).toMatch(/Health: +http:\/\/localhost:\d+\/healthz/);
      // The banner lists the running simulators, the SDK ones (issue 7) included.
      expect(gw.stdout()).toMatch(/Simulators \(development only\):/);
      expect(gw.stdout()).toMatch(/SMP\/CertPub: +https:\/\/127\.0\.0\.1:\d+\n/);
      expect(gw.stdout()).toMatch(/Address book: +https:\/\/127\.0\.0\.1:\d+\n/);
      const res = await fetch(`${gw.url}/readyz`);
      const body = await res.json() as { status: string; checks: { name: string; ok: boolean; detail?: string }[] };
      expect(res.status).toBe(200);
      expect(body.checks.find((c) => c.name === 'database')?.detail).toMatch(/embedded/);
      expect(body.checks.find((c) => c.name === 'queue')?.detail).toBe('bullmq on postgres');
    } finally {
      expect(await gw.stop()).toBe(0);
    }
  }, 120000);

  it('comes up against the PostgreSQL and Redis servers and is ready', async () => {
    const gw = await startMain({ DATABASE_URL: db.url, REDIS_URL, QUEUE_NAME: `startup-${Date.now()}` });
    try {
      const res = await fetch(`${gw.url}/readyz`);
      const body = await res.json() as { checks: { name: string; detail?: string }[] };
      expect(res.status).toBe(200);
      expect(body.checks.find((c) => c.name === 'database')?.detail).toBe('PostgreSQL');
      expect(body.checks.find((c) => c.name === 'queue')?.detail).toBe('bullmq on redis');
      const health = await fetch(`${gw.url}/healthz`);
      expect(await health.json()).toEqual({ status: 'ok' });
      const metrics = await (await fetch(`${gw.url}/metrics`)).text();
      expect(metrics).toContain('sandebud_http_requests_total');
    } finally {
      expect(await gw.stop()).toBe(0);
    }
  }, 120000);

  it('stops on a bad configuration value, naming the key', async () => {
    const r = await runMain({ PORT: 'eighty', DATABASE_URL: db.url });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('PORT');
    expect(r.stderr).toContain('expected an integer');
  });

  it('refuses development defaults in the production profile', async () => {
    const r = await runMain({ NODE_ENV: 'production', DATABASE_URL: db.url, REDIS_URL });
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/NODE_ENV=production refuses development defaults/);
    expect(r.stderr).toMatch(/SIMULATORS|ORG_SIGN_CERT_FILE|FAR_URL/);
  });
});
