// The `sandebud` command as a user runs it (issue 3 §8): help, unknown command, migrate against a real database.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const run = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, '../../bin/sandebud.js');
const env = (extra: Record<string, string> = {}) => ({ ...process.env, NODE_OPTIONS: '', ...extra });

describe('sandebud CLI', () => {
  let db: TestDatabase;
  beforeAll(async () => { db = await createTestDatabase('cli'); });
  afterAll(async () => { await db.drop(); });

  it('prints help listing its commands', async () => {
    const { stdout } = await run(process.execPath, [BIN, '--help'], { env: env() });
    expect(stdout).toMatch(/Usage: sandebud <command>/);
    for (const c of ['certs', 'migrate', 'config']) expect(stdout).toContain(c);
  });

  it('exits 2 on an unknown command', async () => {
    await expect(run(process.execPath, [BIN, 'frobnicate'], { env: env() })).rejects.toMatchObject({ code: 2 });
  });

  it('migrate reports an up-to-date database (the test database is already migrated)', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'migrate'], { env: env({ DATABASE_URL: db.url }) });
    expect(stdout).toContain('database is up to date');
  });

  it('migrate names the bad key when the configuration is wrong', async () => {
    await expect(run(process.execPath, [BIN, 'migrate'], { env: env({ DATABASE_URL: 'nonsense' }) })).rejects.toMatchObject({ stderr: expect.stringContaining('DATABASE_URL') });
  });
});
