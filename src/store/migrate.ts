// Versioned SQL migrations (issue 3 §3), applied at start and by `npm run migrate`, with node-pg-migrate.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { runner } from 'node-pg-migrate';

export const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

export interface MigrationResult {
  applied: string[];
}

/** Apply every pending migration. Takes its own client so the advisory lock and DDL share one session. */
export async function migrate(connectionString: string, log: (msg: string) => void = () => undefined): Promise<MigrationResult> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const done = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      direction: 'up',
      migrationsTable: 'pgmigrations',
      count: Infinity,
      log: (m: string) => log(m),
      noLock: false,
      checkOrder: true,
    });
    return { applied: done.map((m) => m.name) };
  } finally {
    await client.end();
  }
}
