// sdk.md §3 "Dynamic discovery" steps 3–5 and §16.15: GET the SignedServiceMetadata of a participant and
// document id from its SMP (path segments percent-encoded, `::` → %3A%3A, `#` → %23), verified by
// smp.mapper.ts, cached with expiry (positive and negative answers separately), concurrent look-ups coalesced.
import { Agent, request } from 'undici';
import { AppError } from '../../../src/domain/errors.js';
import type { Logger } from '../../../src/lib/logger.js';
import { classifyTransportError } from '../../shared/mtls-http.js';
import { DOCUMENT_SCHEME, PARTICIPANT_SCHEME, readSignedServiceMetadata, SmpMetadataError, type ServiceMetadata, type SmpTrust } from './smp.mapper.js';
import type { SmpLocator } from './sml.js';

/** The metadata URL of a participant and document id (sdk.md §3 step 4). */
export function serviceMetadataUrl(smpBaseUrl: string, participant: string, documentId: string): string {
  const seg = (scheme: string, value: string): string => encodeURIComponent(`${scheme}::${value}`);
  return `${smpBaseUrl.replace(/\/+$/, '')}/${seg(PARTICIPANT_SCHEME, participant)}/services/${seg(DOCUMENT_SCHEME, documentId)}`;
}

export interface SmpClientOptions {
  locator: SmpLocator;
  trust: SmpTrust;
  /** For https SMPs: CAs for the server certificate, and optionally our client certificate (PEM contents). */
  tls?: { caPem: string | readonly string[]; certPem?: string; keyPem?: string };
  /** How long verified metadata is reused. Default 1 hour. */
  cacheTtlMs?: number;
  /** How long "not registered" (404) is reused. Default 5 minutes. */
  negativeCacheTtlMs?: number;
  /** Cached entries at most (oldest dropped). Default 10,000. */
  maxEntries?: number;
  timeoutMs?: number;
  maxResponseBytes?: number;
  clock?: () => Date;
  logger?: Logger;
}

export interface SmpClient {
  /** Verified metadata, or null when the participant is not registered for the document id. */
  serviceMetadata(participant: string, documentId: string): Promise<ServiceMetadata | null>;
  /** Drop every cached answer. */
  clearCache(): void;
  close(): Promise<void>;
}

export function createSmpClient(opts: SmpClientOptions): SmpClient {
  const clock = opts.clock ?? (() => new Date());
  const ttl = opts.cacheTtlMs ?? 3_600_000;
  const negativeTtl = opts.negativeCacheTtlMs ?? 300_000;
  const maxEntries = opts.maxEntries ?? 10_000;
  const timeout = opts.timeoutMs ?? 10_000;
  const ca = opts.tls === undefined ? undefined : typeof opts.tls.caPem === 'string' ? [opts.tls.caPem] : [...opts.tls.caPem];
  const agent = new Agent({
    connect: {
      ...(ca !== undefined ? { ca } : {}),
      ...(opts.tls?.certPem !== undefined && opts.tls.keyPem !== undefined ? { cert: opts.tls.certPem, key: opts.tls.keyPem } : {}),
      rejectUnauthorized: true,
      timeout: Math.min(timeout, 5_000),
    },
    headersTimeout: timeout,
    bodyTimeout: timeout,
  });
  const cache = new Map<string, { expires: number; value: ServiceMetadata | null }>();
  const inflight = new Map<string, Promise<ServiceMetadata | null>>();

  async function fetchMetadata(participant: string, documentId: string): Promise<ServiceMetadata | null> {
    let base: string;
    try {
      base = await opts.locator(participant);
    } catch (e) {
      throw new AppError('SMP_DISCOVERY_FAILED', 'The SMP of the participant could not be found.', { status: 502, retryable: true, cause: e });
    }
    const url = serviceMetadataUrl(base, participant, documentId);
    let status: number;
    let body: Buffer;
    try {
      const res = await request(url, { dispatcher: agent, method: 'GET', headers: { accept: 'application/xml, text/xml' } });
      status = res.statusCode;
      const max = opts.maxResponseBytes ?? 1024 * 1024;
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of res.body) {
        const b = Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
        size += b.length;
        if (size > max) {
          res.body.destroy();
          throw new AppError('SMP_ANSWER_TOO_LARGE', 'The SMP answer is too large.', { status: 502 });
        }
        chunks.push(b);
      }
      body = Buffer.concat(chunks);
    } catch (e) {
      if (e instanceof AppError) throw e;
      const t = classifyTransportError(e);
      throw new AppError('SMP_UNAVAILABLE', 'The SMP could not be reached.', { status: 502, retryable: true, cause: t });
    }
    if (status === 404) return null;
    if (status !== 200) throw new AppError('SMP_UNAVAILABLE', `The SMP answered HTTP ${status}.`, { status: 502, retryable: status >= 500 });
    try {
      return readSignedServiceMetadata(body, opts.trust, { participant, documentId }, clock());
    } catch (e) {
      if (e instanceof SmpMetadataError) {
        opts.logger?.warn({ event: 'SMP_METADATA_REFUSED', reason: e.reason, detail: e.message }, 'SMP metadata refused');
        throw new AppError('SMP_METADATA_UNTRUSTED', 'The SMP metadata failed verification.', { status: 502, retryable: false, cause: e });
      }
      throw e;
    }
  }

  return {
    async serviceMetadata(participant, documentId) {
      const key = `${participant.toLowerCase()}|${documentId}`;
      const now = clock().getTime();
      const hit = cache.get(key);
      if (hit !== undefined && hit.expires > now) return hit.value;
      const running = inflight.get(key);
      if (running !== undefined) return running;
      const p = fetchMetadata(participant, documentId)
        .then((value) => {
          cache.delete(key);
          if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
          cache.set(key, { value, expires: clock().getTime() + (value === null ? negativeTtl : ttl) });
          return value;
        })
        .finally(() => inflight.delete(key));
      inflight.set(key, p);
      return p;
    },
    clearCache() {
      cache.clear();
    },
    async close() {
      await agent.close();
    },
  };
}
