// FarRecipientRegistry: the RecipientRegistry port over FaR isReachable (../shared/specs/digital-post.md §5.2
// batching and de-duplication, §5.6 cache, §10 #14; checklist §11 #2–#4). De-duplicates ids, serves what the
// per-sender cache holds, and asks FaR for the rest in calls of at most 1,000 ids.
import type { Agent } from 'undici';
import {
  toWireOrganisationNumber,
  type OrganisationNumber,
  type ReachabilityOutcome,
  type RecipientId,
} from '../../../src/domain/digital-post.js';
import type { ReachabilityOptions, RecipientRegistry } from '../../../src/ports/digital-post.port.js';
import type { Logger } from '../../../src/lib/logger.js';
import { MAX_RECIPIENTS_PER_LOOKUP } from '../shared/namespaces.js';
import { buildIsReachableRequest, mapIsReachableResponse, type ReachabilityPolicy } from './far.mapper.js';
import { callFar } from './far.client.js';

export interface FarRecipientRegistryOptions {
  agent: Agent;
  /** FaR Recipient service endpoint (configuration; the WSDL address is a placeholder). */
  url: string;
  /** Cache lifetime in ms; 0 disables the cache. Default 300,000; at most 3,600,000 (§5.6). */
  cacheTtlMs?: number;
  /** Cached (sender, recipient) answers kept at most. Default 100,000. */
  cacheMaxEntries?: number;
  /** Ids per isReachable call; at most 1,000 (the contract's limit). */
  batchSize?: number;
  /** isReachable calls in flight at once for one isReachable() call. Default 2. */
  concurrency?: number;
  policy?: ReachabilityPolicy;
  logger?: Logger;
  now?: () => Date;
}

interface CacheEntry {
  outcome: ReachabilityOutcome;
  expiresAt: number;
}

export class FarRecipientRegistry implements RecipientRegistry {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly ttl: number;
  private readonly maxEntries: number;
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly now: () => Date;
  /** isReachable calls made (for tests and metrics). */
  farCalls = 0;

  constructor(private readonly opts: FarRecipientRegistryOptions) {
    this.ttl = Math.min(Math.max(opts.cacheTtlMs ?? 300_000, 0), 3_600_000);
    this.maxEntries = opts.cacheMaxEntries ?? 100_000;
    this.batchSize = Math.min(Math.max(opts.batchSize ?? MAX_RECIPIENTS_PER_LOOKUP, 1), MAX_RECIPIENTS_PER_LOOKUP);
    this.concurrency = Math.max(opts.concurrency ?? 2, 1);
    this.now = opts.now ?? (() => new Date());
  }

  async isReachable(ids: readonly RecipientId[], sender: OrganisationNumber, opts: ReachabilityOptions = {}): Promise<Map<RecipientId, ReachabilityOutcome>> {
    const result = new Map<RecipientId, ReachabilityOutcome>();
    const distinct = [...new Set(ids)];
    const toAsk: RecipientId[] = [];
    const nowMs = this.now().getTime();
    for (const id of distinct) {
      const hit = opts.bypassCache || this.ttl === 0 ? undefined : this.cache.get(this.key(sender, id));
      if (hit && hit.expiresAt > nowMs) result.set(id, hit.outcome);
      else toAsk.push(id);
    }
    const batches: RecipientId[][] = [];
    for (let i = 0; i < toAsk.length; i += this.batchSize) batches.push(toAsk.slice(i, i + this.batchSize));

    const senderWire = toWireOrganisationNumber(sender);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        const answer = await this.lookup(senderWire, batch, opts.signal);
        for (const [id, outcome] of answer) {
          result.set(id, outcome);
          this.remember(sender, id, outcome);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, batches.length) }, worker));

    // Callers get the ids back in the order they asked (duplicates collapse to one entry).
    const ordered = new Map<RecipientId, ReachabilityOutcome>();
    for (const id of distinct) ordered.set(id, result.get(id)!);
    return ordered;
  }

  invalidate(sender: OrganisationNumber, id: RecipientId): void {
    this.cache.delete(this.key(sender, id));
  }

  private async lookup(senderWire: string, batch: RecipientId[], signal?: AbortSignal): Promise<Map<RecipientId, ReachabilityOutcome>> {
    const started = Date.now();
    this.farCalls++;
    try {
      const { payload } = await callFar(this.opts.agent, this.opts.url, buildIsReachableRequest(senderWire, batch), { signal });
      const answer = mapIsReachableResponse(payload, batch, this.now(), this.opts.policy);
      if (answer.unexpectedEntries > 0 || answer.duplicateEntries > 0) {
        this.opts.logger?.warn({ event: 'FAR_ANSWER_ANOMALY', unexpectedEntries: answer.unexpectedEntries, duplicateEntries: answer.duplicateEntries }, 'FaR answered for ids we did not ask for, or twice');
      }
      this.opts.logger?.debug({ event: 'FAR_LOOKUP', ids: batch.length, ms: Date.now() - started }, 'FaR isReachable answered');
      return answer.outcomes;
    } catch (e) {
      const details = (e as { details?: { faultCode?: number; callId?: string; httpStatus?: number } }).details;
      this.opts.logger?.warn(
        { event: 'RECIPIENT_LOOKUP_FAILED', code: (e as { code?: unknown }).code, faultCode: details?.faultCode, callId: details?.callId, httpStatus: details?.httpStatus, ids: batch.length, ms: Date.now() - started },
        'FaR isReachable failed',
      );
      throw e;
    }
  }

  private key(sender: OrganisationNumber, id: RecipientId): string {
    return `${sender}:${id}`;
  }

  private remember(sender: OrganisationNumber, id: RecipientId, outcome: ReachabilityOutcome): void {
    if (this.ttl === 0) return;
    const k = this.key(sender, id);
    this.cache.delete(k);
    this.cache.set(k, { outcome, expiresAt: this.now().getTime() + this.ttl });
    while (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
  }
}
