// Correlation ids: accepted from X-Request-Id when well-formed, generated otherwise (issue 3 §5),
// carried into jobs and upstream calls. An AsyncLocalStorage makes the id available to log calls deep in a request.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

const store = new AsyncLocalStorage<{ correlationId: string }>();

// Only short, printable tokens are accepted, so a client cannot inject log lines or huge values.
const SAFE_ID = /^[A-Za-z0-9._:-]{8,128}$/;

export function acceptOrCreateCorrelationId(header: string | undefined): string {
  return header !== undefined && SAFE_ID.test(header) ? header : randomUUID();
}

export function runWithCorrelationId<T>(correlationId: string, fn: () => T): T {
  return store.run({ correlationId }, fn);
}

export function currentCorrelationId(): string | undefined {
  return store.getStore()?.correlationId;
}
