// sdk.md §8 "Reliability": duplicate detection by ebMS MessageId on the receiving AP (P-mode
// duplicateDetection=true). The store is a port of this adapter: the in-memory default serves tests and a
// single process; the gateway MUST back it with PostgreSQL (docs/as4.md gives the table and statements),
// because a retransmission may arrive after a restart or at another replica.

/** The outcome of claiming a received MessageId. */
export type DuplicateClaim =
  /** First time seen: the caller now owns the delivery and must call complete() or release(). */
  | 'new'
  /** Already delivered: answer with a receipt again, do not deliver. */
  | 'delivered'
  /** Another request is delivering it right now: ask the sender to retry later. */
  | 'in-progress';

export interface DuplicateStore {
  /**
   * Atomically record `messageId` from AS4 party `fromPartyId` as being delivered, unless already known. Keyed by
   * both, so one (authenticated) AP cannot suppress another AP's message by sending its MessageId first.
   */
  claim(messageId: string, fromPartyId: string): Promise<DuplicateClaim>;
  /** The delivery succeeded: later copies are duplicates. */
  complete(messageId: string, fromPartyId: string): Promise<void>;
  /** The delivery failed: forget the claim so a retransmission is delivered. */
  release(messageId: string, fromPartyId: string): Promise<void>;
}

export interface MemoryDuplicateStoreOptions {
  /** How long a delivered MessageId is remembered. Default 30 days (longer than any sender's retry window). */
  retentionMs?: number;
  /** Upper bound on remembered ids; the oldest are forgotten first. Default 1,000,000. */
  maxEntries?: number;
  clock?: () => number;
}

/** In-memory duplicate store for one process (development, tests). */
export function createMemoryDuplicateStore(opts: MemoryDuplicateStoreOptions = {}): DuplicateStore {
  const retention = opts.retentionMs ?? 30 * 24 * 3600_000;
  const max = opts.maxEntries ?? 1_000_000;
  const now = opts.clock ?? Date.now;
  // Insertion order = age order, so pruning walks from the front.
  const entries = new Map<string, { state: 'in-progress' | 'delivered'; at: number }>();
  const key = (messageId: string, fromPartyId: string): string => `${fromPartyId}\u0000${messageId}`;
  const prune = (): void => {
    const cutoff = now() - retention;
    for (const [id, e] of entries) {
      const expired = e.at < cutoff;
      if (!expired && entries.size <= max) break;
      // A claim older than the retention belongs to a delivery that never finished (crashed): drop it too.
      if (expired || e.state === 'delivered') entries.delete(id);
    }
  };
  return {
    async claim(messageId, fromPartyId) {
      prune();
      const k = key(messageId, fromPartyId);
      const e = entries.get(k);
      if (e !== undefined) return e.state;
      entries.set(k, { state: 'in-progress', at: now() });
      return 'new';
    },
    async complete(messageId, fromPartyId) {
      const k = key(messageId, fromPartyId);
      entries.delete(k);
      entries.set(k, { state: 'delivered', at: now() });
    },
    async release(messageId, fromPartyId) {
      const k = key(messageId, fromPartyId);
      if (entries.get(k)?.state === 'in-progress') entries.delete(k);
    },
  };
}
