// What a use case provides to the outbox dispatcher for one job kind (src/queue/dispatcher.ts runs it).
import type { AppError } from '../domain/errors.js';

export interface JobContext {
  outboxId: string;
  refId: string;
  kind: string;
  /** 1-based attempt number. */
  attempt: number;
  maxAttempts: number;
  correlationId: string | undefined;
}

export interface JobHandler {
  /**
   * Do the work. Complete the outbox row inside your own transaction (UnitOfWork.completeOutbox) when the
   * work changes state, so both commit together; otherwise the dispatcher completes it after you return.
   * Throw an AppError with retryable=true for a transient failure; anything else is permanent.
   */
  handle(ctx: JobContext): Promise<void>;
  /** Called once when the row goes dead (permanent error, or every attempt used). */
  onDead?(ctx: JobContext, error: AppError): Promise<void>;
}
