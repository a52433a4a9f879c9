// PostgreSQL access for the whole gateway (issue 3 §3): a node-postgres pool on DATABASE_URL, or — when it is
// unset — an embedded PostgreSQL (PGlite, dependencies.md "Embedded default") served on a loopback socket so
// the very same pg code talks to it. PGlite is ONE session: no named prepared statements, no LISTEN/NOTIFY,
// never wait on another pooled connection while holding a transaction.
import { mkdirSync } from 'node:fs';
import pg from 'pg';
import type { Logger } from '../lib/logger.js';
import { CycleQueryQueue } from './embedded-query-queue.js';

export interface Database {
  pool: pg.Pool;
  /** Connection string the pool uses (for bullmq's PostgreSQL backend and node-pg-migrate). */
  url: string;
  embedded: boolean;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  url: string | undefined;
  embeddedDir: string;
  poolMax: number;
  logger?: Logger;
}

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if (opts.url !== undefined) {
    const pool = new pg.Pool({ connectionString: opts.url, max: opts.poolMax });
    pool.on('error', (err) => opts.logger?.error({ event: 'DB_POOL_ERROR', err }, 'idle PostgreSQL client failed'));
    return { pool, url: opts.url, embedded: false, close: () => pool.end() };
  }
  return openEmbedded(opts);
}

async function openEmbedded(opts: DatabaseOptions): Promise<Database> {
  mkdirSync(opts.embeddedDir, { recursive: true });
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create(opts.embeddedDir);
  // maxConnections well above the pool size: with too few, pg's reconnect after a failed query is refused.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: opts.poolMax + 10 });
  // Serve one extended-protocol cycle at a time (src/store/embedded-query-queue.ts explains why).
  (server as unknown as { queryQueue: CycleQueryQueue }).queryQueue = new CycleQueryQueue(db);
  await server.start();
  const conn = server.getServerConn();
  const url = `postgres://postgres@${conn}/postgres`;
  const pool = new pg.Pool({ connectionString: url, max: opts.poolMax });
  pool.on('error', (err) => opts.logger?.error({ event: 'DB_POOL_ERROR', err }, 'embedded PostgreSQL client failed'));
  opts.logger?.warn({ event: 'EMBEDDED_DATABASE' }, `DEVELOPMENT ONLY: embedded PostgreSQL (PGlite) in ${opts.embeddedDir}; set DATABASE_URL for real use`);
  return {
    pool,
    url,
    embedded: true,
    close: async () => {
      await pool.end();
      await server.stop();
      await db.close();
    },
  };
}

/**
 * Run `fn` in one transaction on one pooled client. Inside `fn`, use only `client`: waiting on another
 * pooled connection while this one holds the transaction deadlocks the embedded database.
 */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
