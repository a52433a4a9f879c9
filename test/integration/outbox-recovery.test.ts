// Outbox recovery (issue 3 "Must show"): letters are written, the worker is killed before/while dispatching,
// restarted, and every delivery is dispatched exactly once — on both queue backends.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../support/db.js';
import { waitFor } from '../support/logger.js';
import { createDeliveryStore } from '../../src/store/delivery.repository.js';
import { submitPing } from '../../src/use-cases/ping.use-case.js';
import { createBullmqQueue } from '../../src/queue/bullmq.queue.js';
import { testLogger } from '../support/logger.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

function startWorker(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/worker-process.ts'], {
    cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
    child.stdout?.on('data', (d: Buffer) => { if (process.env.TEST_LOG) process.stdout.write(d); if (d.toString().includes('worker-ready')) { child.removeAllListeners('exit'); resolve(child); } });
  });
}

const kill = (c: ChildProcess) => new Promise<void>((resolve) => { c.once('exit', () => resolve()); c.kill('SIGKILL'); });

describe.each([['redis'], ['postgres']])('outbox recovery with the %s queue backend', (backend) => {
  let db: TestDatabase;
  beforeAll(async () => { db = await createTestDatabase(`rec${backend}`); });
  afterAll(async () => { await db.drop(); });

  it('dispatches every delivery exactly once across a worker crash', async () => {
    const store = createDeliveryStore(db.pool);
    const queueName = `crash-${randomBytes(4).toString('hex')}`;
    const env = { WORKER_DB_URL: db.url, WORKER_REDIS_URL: backend === 'redis' ? REDIS_URL : '', WORKER_QUEUE: queueName, WORKER_DELAY_MS: '150' };
    const { logger } = testLogger();
    const producer = await createBullmqQueue({ name: queueName, redisUrl: backend === 'redis' ? REDIS_URL : undefined, postgresUrl: db.url, attempts: 5, backoffBaseMs: 50, backoffMaxMs: 200, logger });
    const ids: string[] = [];
    // Half are enqueued; half simulate a crash between commit and enqueue (no job at all).
    for (let i = 0; i < 16; i++) {
      const d = await submitPing({ store, queue: i % 2 === 0 ? producer : undefined }, { owner: 'system:test', idempotencyKey: `k${i}` });
      ids.push(d.id);
    }
    await producer.close();
    const delivered = async () => Number((await db.pool.query<{ n: string }>("SELECT count(*)::text AS n FROM deliveries WHERE status = 'DELIVERED'")).rows[0]!.n);

    // First worker: killed with SIGKILL after a few deliveries, with jobs in flight.
    const first = await startWorker(env);
    await waitFor(async () => (await delivered()) >= 3, 'first deliveries', 30000);
    await kill(first);
    const before = await delivered();
    expect(before).toBeLessThan(16);

    // Restarted worker: the reconciler re-enqueues rows with no live job, expired leases are taken over.
    const second = await startWorker(env);
    try {
      await waitFor(async () => (await delivered()) === 16, 'all 16 delivered', 40000, 100);
    } finally {
      await kill(second);
    }
    const events = await db.pool.query<{ delivery_id: string; n: string }>(
      "SELECT delivery_id, count(*)::text AS n FROM delivery_events WHERE status = 'DELIVERED' GROUP BY delivery_id");
    expect(events.rows).toHaveLength(16);
    for (const r of events.rows) expect(r.n).toBe('1');
    expect(new Set(events.rows.map((r) => r.delivery_id))).toEqual(new Set(ids));
    const open = await db.pool.query("SELECT id FROM outbox WHERE status <> 'done'");
    expect(open.rows).toEqual([]);
  });

  it('returns the same delivery for a repeated Idempotency-Key and refuses a different body', async () => {
    const store = createDeliveryStore(db.pool);
    const a = await submitPing({ store }, { owner: 'system:x', idempotencyKey: 'same', note: 'one' });
    const b = await submitPing({ store }, { owner: 'system:x', idempotencyKey: 'same', note: 'one' });
    expect(b.id).toBe(a.id);
    await expect(submitPing({ store }, { owner: 'system:x', idempotencyKey: 'same', note: 'two' })).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', status: 409 });
    const outbox = await db.pool.query('SELECT id FROM outbox WHERE ref_id = $1', [a.id]);
    expect(outbox.rows).toHaveLength(1);
  });
});
