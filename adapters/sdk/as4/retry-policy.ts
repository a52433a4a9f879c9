// sdk.md §8 "Reliability" (reception awareness with retries, Domibus `12;4;CONSTANT`) and style.md §5
// (Domibus RetryStrategy): the retry policy is configuration that computes the next attempt; the sender
// never decides on its own when to retry.

export interface RetryPolicy {
  /**
   * Delay before attempt `attempt + 1`, after attempt number `attempt` (1-based) failed in a retryable way;
   * null when no further attempt may be made.
   */
  nextDelayMs(attempt: number): number | null;
}

export interface BackoffOptions {
  /** Total attempts including the first. */
  attempts: number;
  initialDelayMs: number;
  /** Multiplier per retry (1 = constant interval). */
  factor?: number;
  maxDelayMs?: number;
  /** Random extra delay of up to this fraction of the delay (0–1), so many senders do not retry in step. Default 0. */
  jitter?: number;
}

export function createBackoffPolicy(opts: BackoffOptions): RetryPolicy {
  if (!Number.isInteger(opts.attempts) || opts.attempts < 1) throw new Error('attempts must be a positive integer');
  const factor = opts.factor ?? 2;
  const max = opts.maxDelayMs ?? Number.POSITIVE_INFINITY;
  const jitter = Math.min(Math.max(opts.jitter ?? 0, 0), 1);
  return {
    nextDelayMs(attempt) {
      if (attempt >= opts.attempts) return null;
      const base = Math.min(opts.initialDelayMs * factor ** (attempt - 1), max);
      return Math.round(base + (jitter > 0 ? Math.random() * jitter * base : 0));
    },
  };
}

/**
 * Domibus receptionAwareness notation `<timeout minutes>;<retries>;CONSTANT|PROGRESSIVE`, e.g. `12;4;CONSTANT`:
 * 4 retries after the first attempt; CONSTANT spaces them evenly over the timeout, PROGRESSIVE doubles.
 */
export function parseDomibusRetry(spec: string): RetryPolicy {
  const m = /^\s*(\d+)\s*;\s*(\d+)\s*;\s*(CONSTANT|PROGRESSIVE)\s*$/i.exec(spec);
  if (m === null) throw new Error(`not a Domibus retry specification: ${spec}`);
  const timeoutMs = Number(m[1]) * 60_000;
  const retries = Number(m[2]);
  if (retries === 0) return createBackoffPolicy({ attempts: 1, initialDelayMs: 0 });
  if (m[3]!.toUpperCase() === 'CONSTANT') return createBackoffPolicy({ attempts: retries + 1, initialDelayMs: timeoutMs / retries, factor: 1 });
  // PROGRESSIVE: delays d, 2d, 4d, … summing to the timeout.
  const first = timeoutMs / (2 ** retries - 1);
  return createBackoffPolicy({ attempts: retries + 1, initialDelayMs: first, factor: 2 });
}
