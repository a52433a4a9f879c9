// A real worker process for crash tests: the same dispatcher, queue and reconciler the gateway runs, with the
// internal "ping" job kind. Killed with SIGKILL by the test to simulate a crash.
import pg from 'pg';
import { createBullmqQueue } from '../../src/queue/bullmq.queue.js';
import { createOutboxProcessor, createReconciler } from '../../src/queue/dispatcher.js';
import { createDeliveryStore } from '../../src/store/delivery.repository.js';
import { PING_JOB, pingHandler } from '../../src/use-cases/ping.use-case.js';
import { createLogger } from '../../src/lib/logger.js';

const env = process.env;
const logger = createLogger({ level: env.WORKER_LOG_LEVEL ?? 'silent' });
const pool = new pg.Pool({ connectionString: env.WORKER_DB_URL, max: 4 });
const store = createDeliveryStore(pool);
const queue = await createBullmqQueue({
  name: env.WORKER_QUEUE ?? 'crash', redisUrl: env.WORKER_REDIS_URL || undefined, postgresUrl: env.WORKER_DB_URL,
  attempts: 5, backoffBaseMs: 50, backoffMaxMs: 200, lockMs: 1000, logger,
});
const processor = createOutboxProcessor({ pool, queue, handlers: { [PING_JOB]: pingHandler({ store }, { delayMs: Number(env.WORKER_DELAY_MS ?? 0) }) }, leaseMs: Number(env.WORKER_LEASE_MS ?? 1000), logger });
await queue.startWorker(processor, { concurrency: 2 });
const reconciler = createReconciler({ pool, queue, staleMs: Number(env.WORKER_STALE_MS ?? 300), logger });
reconciler.start(Number(env.WORKER_RECONCILE_MS ?? 250));
process.stdout.write('worker-ready\n');
