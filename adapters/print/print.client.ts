// Transport to the print-and-post provider (../shared/specs/digital-post.md §8.2): JSON over HTTPS with mutual
// TLS, the letter id as Idempotency-Key, timeouts and a response size cap. Shapes are in print.mapper.ts.
import { currentCorrelationId } from '../../src/lib/correlation.js';
import type { Agent } from 'undici';
import { httpExchange, TransportError } from '../shared/mtls-http.js';
import { printHttpError, printTransportError } from './errors.js';

export interface JsonAnswer {
  status: number;
  body: unknown;
}

async function exchange(agent: Agent, url: string, init: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string }): Promise<JsonAnswer> {
  let answer;
  try {
    answer = await httpExchange(agent, { url, method: init.method, headers: { accept: 'application/json', ...correlationHeader(), ...init.headers }, body: init.body, maxResponseBytes: 256 * 1024 });
  } catch (e) {
    if (e instanceof TransportError) throw printTransportError(e);
    throw e;
  }
  let body: unknown;
  try {
    body = answer.body.length === 0 ? undefined : JSON.parse(answer.body.toString('utf8'));
  } catch {
    throw printHttpError(answer.status);
  }
  return { status: answer.status, body };
}

export function postPrintJob(agent: Agent, baseUrl: string, letterId: string, json: string): Promise<JsonAnswer> {
  return exchange(agent, `${baseUrl.replace(/\/+$/, '')}/print-jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': letterId },
    body: json,
  });
}

export function getPrintJob(agent: Agent, baseUrl: string, jobId: string): Promise<JsonAnswer> {
  return exchange(agent, `${baseUrl.replace(/\/+$/, '')}/print-jobs/${encodeURIComponent(jobId)}`, { method: 'GET' });
}

/** The running job's correlation id travels to the provider (issue 3 §5). */
function correlationHeader(): Record<string, string> {
  const id = currentCorrelationId();
  return id === undefined ? {} : { 'x-request-id': id };
}
