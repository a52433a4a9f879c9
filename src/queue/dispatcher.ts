// Outbox dispatcher and reconciler (issue 3 §4): the queue says "look at outbox row N"; the row in PostgreSQL
// decides what happens. A row is claimed with a lease, handled, and finished in the handler's transaction.
import type pg from 'pg';
import { AppError, isAppError } from '../domain/errors.js';
import type { QueuePort, DispatchJob, JobInfo } from '../ports/queue.port.js';
import type { JobContext, JobHandler } from '../ports/job-handler.port.js';
import { claimOutbox, findStaleOutbox, getOutbox, markOutboxDead, markOutboxDone, releaseOutbox } from '../store/outbox.repository.js';
import { runWithCorrelationId } from '../lib/correlation.js';
import type { Logger } from '../lib/logger.js';


export interface DispatcherOptions {
  pool: pg.Pool;
  queue: QueuePort;
  handlers: Record<string, JobHandler>;
  leaseMs: number;
  logger: Logger;
}

export function createOutboxProcessor(opts: DispatcherOptions): (job: DispatchJob, info: JobInfo) => Promise<void> {
  return (job, info) => runWithCorrelationId(job.correlationId ?? `outbox-${job.outboxId}`, () => processOne(opts, job, info));
}

async function processOne(opts: DispatcherOptions, job: DispatchJob, info: JobInfo): Promise<void> {
  const { pool, logger } = opts;
  const row = await claimOutbox(pool, job.outboxId, opts.leaseMs);
  if (!row) {
    // Done, dead, or leased by a live worker: nothing to do here. A lease whose holder died is found by the reconciler.
    const existing = await getOutbox(pool, job.outboxId);
    logger.debug({ event: 'OUTBOX_SKIPPED', outboxId: job.outboxId, status: existing?.status ?? 'missing' }, 'outbox row not claimable');
    return;
  }
  const ctx: JobContext = {
    outboxId: row.id, refId: row.refId, kind: row.kind, attempt: info.attempt, maxAttempts: info.maxAttempts,
    correlationId: row.correlationId ?? job.correlationId,
  };
  const handler = opts.handlers[row.kind];
  if (!handler) {
    await markOutboxDead(pool, row.id, 'NO_HANDLER');
    logger.error({ event: 'OUTBOX_NO_HANDLER', outboxId: row.id, kind: row.kind }, 'no handler for outbox kind');
    return;
  }
  try {
    await handler.handle(ctx);
    // Completes the row unless the handler already did so in its own transaction (then this is a no-op).
    await markOutboxDone(pool, row.id);
    logger.info({ event: 'OUTBOX_DONE', outboxId: row.id, kind: row.kind, attempt: info.attempt }, 'outbox row handled');
  } catch (err) {
    const appErr = isAppError(err) ? err : new AppError('INTERNAL', 'handler failed', { cause: err, retryable: true });
    const last = info.attempt >= info.maxAttempts;
    if (appErr.retryable && !last) {
      await releaseOutbox(pool, row.id, appErr.code);
      logger.warn({ event: 'OUTBOX_RETRY', outboxId: row.id, kind: row.kind, attempt: info.attempt, code: appErr.code }, 'transient failure; will retry');
      throw appErr; // the queue schedules the next attempt with backoff
    }
    await markOutboxDead(pool, row.id, appErr.code);
    logger.error({ event: 'OUTBOX_DEAD', outboxId: row.id, kind: row.kind, attempt: info.attempt, code: appErr.code, err: appErr.cause ?? appErr }, 'outbox row dead');
    if (handler.onDead) await handler.onDead(ctx, appErr);
    if (last && appErr.retryable) throw appErr; // every attempt used: let the queue dead-letter the job too
  }
}

export interface Reconciler {
  /** One pass; returns how many rows were re-enqueued. */
  runOnce(): Promise<number>;
  start(intervalMs: number): void;
  stop(): Promise<void>;
}

/**
 * Re-enqueue outbox rows that have no live job: after a crash between commit and enqueue, a Redis flush, or a
 * worker that died holding a lease. Safe to run on every replica: enqueue is idempotent per outbox id and a
 * row is claimed by exactly one worker.
 */
export function createReconciler(opts: { pool: pg.Pool; queue: QueuePort; staleMs: number; logger: Logger }): Reconciler {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  const runOnce = async (): Promise<number> => {
    const rows = await findStaleOutbox(opts.pool, opts.staleMs, 500);
    let n = 0;
    for (const row of rows) {
      if (await opts.queue.hasLiveJob(row.id)) continue;
      // The job may have finished between the scan and the check: re-read the row before re-enqueueing.
      const now = await getOutbox(opts.pool, row.id);
      if (!now || now.status === 'done' || now.status === 'dead') continue;
      await opts.queue.forget(row.id);
      await opts.queue.enqueue({ outboxId: row.id, correlationId: row.correlationId ?? undefined });
      n++;
    }
    if (n > 0) opts.logger.warn({ event: 'OUTBOX_REENQUEUED', count: n }, 're-enqueued outbox rows without a live job');
    return n;
  };
  return {
    runOnce,
    start(intervalMs) {
      const tick = () => {
        if (running) return; // never two passes at once
        running = runOnce().catch((err: unknown) => {
          opts.logger.error({ event: 'RECONCILER_FAILED', err }, 'outbox reconciliation failed');
          return 0;
        }).finally(() => { running = undefined; });
      };
      tick();
      timer = setInterval(tick, intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
