// The QueuePort contract, run against both backends (issue 3 §4): Redis and bullmq's PostgreSQL backend.
import { randomBytes } from 'node:crypto';
import { createBullmqQueue } from '../../src/queue/bullmq.queue.js';
import type { DispatchJob, QueuePort } from '../../src/ports/queue.port.js';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../support/db.js';
import { testLogger, waitFor } from '../support/logger.js';

const backends: ['redis' | 'postgres'][] = [['redis'], ['postgres']];

describe.each(backends)('QueuePort on %s', (backend) => {
  let db: TestDatabase;
  let queue: QueuePort;
  const { logger } = testLogger();

  beforeAll(async () => {
    db = await createTestDatabase(`q${backend}`);
  });
  beforeEach(async () => {
    queue = await createBullmqQueue({
      name: `qc-${randomBytes(4).toString('hex')}`,
      redisUrl: backend === 'redis' ? REDIS_URL : undefined,
      postgresUrl: db.url,
      attempts: 3, backoffBaseMs: 20, backoffMaxMs: 50, logger,
    });
  });
  afterEach(async () => { await queue.close(); });
  afterAll(async () => { await db.drop(); });

  it('reports its backend', () => {
    expect(queue.backend).toBe(backend);
  });

  it('delivers each enqueued job once, even when enqueued twice', async () => {
    const seen: string[] = [];
    await queue.enqueue({ outboxId: '1' });
    await queue.enqueue({ outboxId: '1' });
    await queue.enqueue({ outboxId: '2', correlationId: 'corr-12345678' });
    const got: DispatchJob[] = [];
    await queue.startWorker(async (job) => { seen.push(job.outboxId); got.push(job); }, { concurrency: 2 });
    await waitFor(() => seen.length >= 2, 'two jobs');
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.sort()).toEqual(['1', '2']);
    expect(got.find((j) => j.outboxId === '2')?.correlationId).toBe('corr-12345678');
  });

  it('enqueues many at once, each delivered once', async () => {
    const seen = new Set<string>();
    let calls = 0;
    await queue.enqueueMany(Array.from({ length: 1200 }, (_, i) => ({ outboxId: `m${i}` })));
    await queue.startWorker(async (job) => { calls++; seen.add(job.outboxId); }, { concurrency: 8 });
    await waitFor(() => seen.size === 1200, '1200 jobs', 30000);
    expect(calls).toBe(1200);
  });

  it('retries a failing job with backoff and passes the attempt number', async () => {
    const attempts: number[] = [];
    await queue.startWorker(async (_job, info) => {
      attempts.push(info.attempt);
      expect(info.maxAttempts).toBe(3);
      if (info.attempt < 3) throw new Error('transient');
    }, { concurrency: 1 });
    await queue.enqueue({ outboxId: '7' });
    await waitFor(() => attempts.length === 3, 'three attempts');
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('dead-letters a job that used every attempt', async () => {
    await queue.startWorker(async () => { throw new Error('always'); }, { concurrency: 1 });
    await queue.enqueue({ outboxId: '9' });
    await waitFor(async () => (await queue.deadLetters()).some((j) => j.outboxId === '9'), 'dead letter', 30000, 200);
    expect(await queue.hasLiveJob('9')).toBe(false);
  });

  it('knows which jobs are live, and can re-enqueue a forgotten one', async () => {
    await queue.enqueue({ outboxId: '5' }, { delayMs: 60000 });
    expect(await queue.hasLiveJob('5')).toBe(true);
    expect(await queue.hasLiveJob('6')).toBe(false);
    await queue.ping();
  });
});
