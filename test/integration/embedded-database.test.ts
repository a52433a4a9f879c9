// The embedded PostgreSQL (PGlite behind pglite-socket; dependencies.md "Embedded default") is one session
// shared by every pooled connection — the gateway's pool and bullmq's. node-postgres sends each parameterised
// query as Parse/Bind/Describe/Execute/Sync; when another connection's messages are served in between, a Bind
// meets the wrong unnamed statement ("bind message supplies 13 parameters, but prepared statement "" requires
// 15", seen after `npm start`). These tests run many such queries at once from several connections and check
// every answer; without src/store/embedded-query-queue.ts the transaction case fails every time (a query
// outside the transaction comes back with no rows).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabase, withTransaction, type Database } from '../../src/store/database.js';

let dir: string;
let db: Database;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sandebud-embedded-'));
  db = await openDatabase({ url: undefined, embeddedDir: dir, poolMax: 8 });
}, 60_000);
afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('embedded database under concurrent connections', () => {
  it('answers every parameterised query from several connections with its own result', async () => {
    const second = new pg.Pool({ connectionString: db.url, max: 4 }); // like bullmq's own pool
    try {
      const jobs = Array.from({ length: 400 }, (_, i) => {
        const pool = i % 3 === 0 ? second : db.pool;
        // Different parameter counts, so an interleaved Bind fails loudly instead of answering quietly wrong.
        return i % 2 === 0
          ? pool.query<{ s: number }>('SELECT $1::int + $2::int AS s', [i, 1]).then((r) => expect(r.rows[0]!.s).toBe(i + 1))
          : pool.query<{ t: string }>('SELECT $1::text || $2::text || $3::text AS t', ['a', String(i), 'z']).then((r) => expect(r.rows[0]!.t).toBe(`a${i}z`));
      });
      await Promise.all(jobs);
    } finally {
      await second.end();
    }
  }, 60_000);

  it('keeps a transaction on its own connection while others query', async () => {
    await db.pool.query('CREATE TABLE IF NOT EXISTS t_embedded (n int)');
    const inTx = withTransaction(db.pool, async (c) => {
      for (let i = 0; i < 50; i++) await c.query('INSERT INTO t_embedded (n) VALUES ($1)', [i]);
      return (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM t_embedded')).rows[0]!.n;
    });
    const outside = Promise.all(Array.from({ length: 50 }, (_, i) => db.pool.query<{ s: number }>('SELECT $1::int * 2 AS s', [i]).then((r) => r.rows[0]!.s)));
    expect(await inTx).toBe(50);
    expect(await outside).toEqual(Array.from({ length: 50 }, (_, i) => i * 2));
  }, 60_000);
});
