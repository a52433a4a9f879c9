// Coalescing of FaR lookups across letters (../shared/specs/digital-post.md §5.6 "a coalescer collects pending
// lookups (≤ 1,000 ids per sender organisation, or a short linger such as 50 ms) into one call"; §7.3 target
// far_calls ≤ ceil(letters / 1000) + retries). Workers can look up one letter at a time; concurrent lookups for
// the same sender within the linger window share one isReachable call.
import type { OrganisationNumber, ReachabilityOutcome, RecipientId } from '../../../src/domain/digital-post.js';
import type { ReachabilityOptions, RecipientRegistry } from '../../../src/ports/digital-post.port.js';
import { MAX_RECIPIENTS_PER_LOOKUP } from '../shared/namespaces.js';

export interface CoalescingOptions {
  /** How long the first lookup of a batch waits for others. Default 25 ms. */
  lingerMs?: number;
  /** Flush as soon as this many distinct ids are waiting. Default 1,000 (FaR's per-call limit). */
  maxBatch?: number;
}

interface Waiter {
  ids: readonly RecipientId[];
  resolve: (m: Map<RecipientId, ReachabilityOutcome>) => void;
  reject: (e: unknown) => void;
}

interface Pending {
  ids: Set<RecipientId>;
  waiters: Waiter[];
  timer?: NodeJS.Timeout;
}

export class CoalescingRecipientRegistry implements RecipientRegistry {
  private readonly pending = new Map<OrganisationNumber, Pending>();
  private readonly linger: number;
  private readonly maxBatch: number;

  constructor(private readonly inner: RecipientRegistry, opts: CoalescingOptions = {}) {
    this.linger = Math.max(opts.lingerMs ?? 25, 0);
    this.maxBatch = Math.min(Math.max(opts.maxBatch ?? MAX_RECIPIENTS_PER_LOOKUP, 1), MAX_RECIPIENTS_PER_LOOKUP);
  }

  isReachable(ids: readonly RecipientId[], sender: OrganisationNumber, opts: ReachabilityOptions = {}): Promise<Map<RecipientId, ReachabilityOutcome>> {
    // A forced fresh lookup or a caller-controlled abort cannot share a call with others.
    if (opts.bypassCache || opts.signal || ids.length === 0 || this.linger === 0) return this.inner.isReachable(ids, sender, opts);
    return new Promise((resolve, reject) => {
      let p = this.pending.get(sender);
      if (!p) {
        p = { ids: new Set(), waiters: [] };
        this.pending.set(sender, p);
      }
      for (const id of ids) p.ids.add(id);
      p.waiters.push({ ids, resolve, reject });
      if (p.ids.size >= this.maxBatch) this.flush(sender);
      else if (!p.timer) p.timer = setTimeout(() => this.flush(sender), this.linger);
    });
  }

  invalidate(sender: OrganisationNumber, id: RecipientId): void {
    this.inner.invalidate(sender, id);
  }

  private flush(sender: OrganisationNumber): void {
    const p = this.pending.get(sender);
    if (!p) return;
    this.pending.delete(sender);
    if (p.timer) clearTimeout(p.timer);
    this.inner.isReachable([...p.ids], sender).then(
      (all) => {
        for (const w of p.waiters) {
          const mine = new Map<RecipientId, ReachabilityOutcome>();
          for (const id of w.ids) mine.set(id, all.get(id)!);
          w.resolve(mine);
        }
      },
      // A failed lookup fails every letter in it; each is retried by its own job.
      (e: unknown) => p.waiters.forEach((w) => w.reject(e)),
    );
  }
}
