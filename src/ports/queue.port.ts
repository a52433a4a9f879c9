// The dispatch queue (issue 3 §4). PostgreSQL's outbox is the truth; the queue only says "look at outbox row N".
// Implemented by bullmq 6 on Redis or on its PostgreSQL backend (src/queue/bullmq.queue.ts): one code path.

/** A job carries only an outbox id (and the correlation id for logs); the worker re-reads state. */
export interface DispatchJob {
  outboxId: string;
  correlationId?: string;
}

export interface JobInfo {
  /** 1-based attempt number of this run. */
  attempt: number;
  maxAttempts: number;
}

export type JobProcessor = (job: DispatchJob, info: JobInfo) => Promise<void>;

export interface QueuePort {
  /** Which backend carries the jobs: 'redis' or 'postgres'. */
  readonly backend: 'redis' | 'postgres';
  /** Enqueue; idempotent per outbox id (a live job for the same id is not duplicated). */
  enqueue(job: DispatchJob, opts?: { delayMs?: number }): Promise<void>;
  /** Enqueue many at once (a mass mailing); same guarantees as enqueue. */
  enqueueMany(jobs: DispatchJob[]): Promise<void>;
  /** True when a waiting, delayed or active job exists for this outbox id. */
  hasLiveJob(outboxId: string): Promise<boolean>;
  /** Remove a finished (completed/failed) job so the id can be enqueued again. */
  forget(outboxId: string): Promise<void>;
  /** Start consuming. A processor that throws is retried with backoff until maxAttempts, then dead-lettered. */
  startWorker(processor: JobProcessor, opts: { concurrency: number }): Promise<void>;
  /** Stop consuming; `force` abandons active jobs (they are picked up again after their lock expires). */
  stopWorker(force?: boolean): Promise<void>;
  /** Ids in the dead-letter queue (jobs that used every attempt). */
  deadLetters(): Promise<DispatchJob[]>;
  /** Readiness probe: throws when the backend is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
