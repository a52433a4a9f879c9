// QueuePort on bullmq 6 (issue 3 §4; dependencies.md "bull or bullmq"): the Redis backend when REDIS_URL is
// set, otherwise bullmq's PostgreSQL backend on the gateway's own database — one queue code path.
// Retries use exponential backoff with full jitter; a job that used every attempt is copied to a
// dead-letter queue. Jobs carry only an outbox id.
import { Queue, Worker, withBackend, createPostgresBackend, type Job, type ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { DispatchJob, JobProcessor, QueuePort } from '../ports/queue.port.js';
import type { Logger } from '../lib/logger.js';

export interface BullmqQueueOptions {
  name: string;
  redisUrl?: string;
  /** PostgreSQL connection string for the PostgreSQL backend (used when redisUrl is unset). */
  postgresUrl?: string;
  attempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** bullmq lock duration and stalled-job check interval: a crashed worker's active jobs resume within ~2× this. */
  lockMs?: number;
  logger: Logger;
}

/** Exponential backoff with full jitter: uniform in [0, min(max, base·2^(n-1))], at least 10% of the cap. */
export function backoffDelay(attemptsMade: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(cap * (0.1 + 0.9 * random()));
}

const BULLMQ_SCHEMA = 'bullmq';
const jobId = (outboxId: string) => `ob-${outboxId}`;
const LIVE_STATES = new Set(['waiting', 'delayed', 'active', 'prioritized', 'waiting-children']);

type AnyQueue = Queue<DispatchJob>;
type AnyWorker = Worker<DispatchJob>;

export async function createBullmqQueue(opts: BullmqQueueOptions): Promise<QueuePort> {
  const backend: 'redis' | 'postgres' = opts.redisUrl !== undefined ? 'redis' : 'postgres';
  let makeQueue: (name: string) => AnyQueue;
  let makeWorker: (name: string, processor: (job: Job<DispatchJob>) => Promise<void>, concurrency: number) => AnyWorker;
  const redisClients: Redis[] = [];

  if (opts.redisUrl !== undefined) {
    const redisUrl = opts.redisUrl;
    // bullmq's workers need maxRetriesPerRequest: null on their blocking connection.
    const conn = (): ConnectionOptions => {
      const r = new Redis(redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
      redisClients.push(r);
      return r;
    };
    makeQueue = (name) => new Queue<DispatchJob>(name, { connection: conn(), prefix: 'sandebud' });
    makeWorker = (name, processor, concurrency) =>
      new Worker<DispatchJob>(name, processor, { connection: conn(), prefix: 'sandebud', concurrency, lockDuration: opts.lockMs ?? 30000, stalledInterval: opts.lockMs ?? 30000, settings: { backoffStrategy: strategy } });
  } else {
    if (opts.postgresUrl === undefined) throw new Error('createBullmqQueue: neither redisUrl nor postgresUrl given');
    const pgConn = { connectionString: opts.postgresUrl, schema: BULLMQ_SCHEMA, migrate: true, max: 4 };
    const B = withBackend(createPostgresBackend);
    makeQueue = (name) => new B.Queue<DispatchJob>(name, { connection: pgConn }) as unknown as AnyQueue;
    makeWorker = (name, processor, concurrency) =>
      new B.Worker<DispatchJob>(name, processor, { connection: pgConn, concurrency, lockDuration: opts.lockMs ?? 30000, stalledInterval: opts.lockMs ?? 30000, settings: { backoffStrategy: strategy } }) as unknown as AnyWorker;
  }

  function strategy(attemptsMade: number): number {
    return backoffDelay(attemptsMade, opts.backoffBaseMs, opts.backoffMaxMs);
  }

  const queue = makeQueue(opts.name);
  const dead = makeQueue(`${opts.name}-dead`);
  let worker: AnyWorker | undefined;
  await queue.waitUntilReady();
  await dead.waitUntilReady();

  const port: QueuePort = {
    backend,
    async enqueue(job, o) {
      await queue.add('dispatch', job, {
        jobId: jobId(job.outboxId),
        attempts: opts.attempts,
        backoff: { type: 'custom' },
        delay: o?.delayMs,
        removeOnComplete: true,
        removeOnFail: true,
      });
    },
    async enqueueMany(jobs) {
      for (let i = 0; i < jobs.length; i += 500) {
        await queue.addBulk(jobs.slice(i, i + 500).map((job) => ({
          name: 'dispatch', data: job,
          opts: { jobId: jobId(job.outboxId), attempts: opts.attempts, backoff: { type: 'custom' }, removeOnComplete: true, removeOnFail: true },
        })));
      }
    },
    async hasLiveJob(outboxId) {
      const job = await queue.getJob(jobId(outboxId));
      if (!job) return false;
      const state = await job.getState();
      return LIVE_STATES.has(state);
    },
    async forget(outboxId) {
      const job = await queue.getJob(jobId(outboxId));
      if (!job) return;
      const state = await job.getState();
      if (!LIVE_STATES.has(state)) await job.remove();
    },
    async startWorker(processor: JobProcessor, wo) {
      if (worker) throw new Error('worker already started');
      worker = makeWorker(opts.name, async (job) => {
        await processor(job.data, { attempt: job.attemptsMade + 1, maxAttempts: job.opts.attempts ?? 1 });
      }, wo.concurrency);
      worker.on('failed', (job, err) => {
        if (!job) return;
        const exhausted = job.attemptsMade >= (job.opts.attempts ?? 1);
        opts.logger.warn({ event: exhausted ? 'JOB_DEAD_LETTERED' : 'JOB_RETRY_SCHEDULED', outboxId: job.data.outboxId, attempt: job.attemptsMade, code: (err as { code?: unknown }).code }, 'dispatch attempt failed');
        if (exhausted) {
          dead.add('dead', job.data, { jobId: jobId(job.data.outboxId), removeOnComplete: false }).catch((e: unknown) =>
            opts.logger.error({ event: 'DEAD_LETTER_FAILED', outboxId: job.data.outboxId, err: e }, 'could not dead-letter job'));
        }
      });
      worker.on('error', (err) => opts.logger.error({ event: 'QUEUE_WORKER_ERROR', err }, 'queue worker error'));
      await worker.waitUntilReady();
    },
    async stopWorker(force = false) {
      const w = worker;
      worker = undefined;
      if (w) await w.close(force);
    },
    async deadLetters() {
      const jobs = await dead.getJobs(['waiting', 'delayed', 'completed', 'failed'], 0, 1000);
      return jobs.filter((j): j is Job<DispatchJob> => j !== undefined).map((j) => j.data);
    },
    async ping() {
      await queue.getJobCounts('waiting');
    },
    async close() {
      await port.stopWorker(true);
      await queue.close();
      await dead.close();
      await Promise.all(redisClients.map((r) => r.quit().catch(() => r.disconnect())));
    },
  };
  return port;
}
