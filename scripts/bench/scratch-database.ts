// A throwaway PostgreSQL database for one benchmark run: created next to the admin database, dropped at the
// end (WITH (FORCE): a gateway process that was killed may still hold connections). One place for the three
// benchmarks that each made and removed their own.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface ScratchDatabase {
  name: string;
  /** `adminUrl` with this database as its path. */
  url: string;
  /** Drop the database; never throws (a benchmark's clean-up must not hide its result). */
  drop(): Promise<void>;
}

/** Create `<prefix>_<8 hex>` on the server of `adminUrl` (a database URL whose user may CREATE DATABASE). */
export async function createScratchDatabase(adminUrl: string, prefix: string, suffix = randomBytes(4).toString('hex')): Promise<ScratchDatabase> {
  const name = `${prefix}_${suffix}`;
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a database name: ${name}`);
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return {
    name,
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      try {
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } catch {
        // left behind: visible by its prefix, harmless
      } finally {
        await c.end().catch(() => undefined);
      }
    },
  };
}
