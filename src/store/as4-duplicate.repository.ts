// docs/as4.md "Duplicate store in PostgreSQL" (../shared/specs/sdk.md §8 "Reliability", duplicate elimination by
// ebMS MessageId): the durable DuplicateStore of the built-in AS4 access point (adapters/sdk/as4), on table
// sdk_as4_received (migration 0006). Structurally typed so the store layer does not import an adapter.
import type { Queryable } from '../ports/queryable.port.js';

export type As4DuplicateClaim = 'new' | 'delivered' | 'in-progress';

export interface As4DuplicateRepository {
  claim(messageId: string, fromPartyId: string): Promise<As4DuplicateClaim>;
  complete(messageId: string, fromPartyId: string): Promise<void>;
  release(messageId: string, fromPartyId: string): Promise<void>;
  /** Forget ids older than the retention (longer than any sender's retry window). Returns how many. */
  prune(): Promise<number>;
}

export interface As4DuplicateRepositoryOptions {
  /** An 'in-progress' claim older than this belongs to a crashed delivery and may be taken over. Default 5 minutes. */
  staleClaimMs?: number;
  /** How long a delivered id is remembered. Default 30 days. */
  retentionMs?: number;
}

export function createAs4DuplicateRepository(db: Queryable, opts: As4DuplicateRepositoryOptions = {}): As4DuplicateRepository {
  const staleMs = opts.staleClaimMs ?? 5 * 60_000;
  const retentionMs = opts.retentionMs ?? 30 * 86_400_000;
  return {
    async claim(messageId, fromPartyId) {
      const inserted = await db.query(
        `INSERT INTO sdk_as4_received (from_party, message_id, state) VALUES ($1, $2, 'in-progress')
         ON CONFLICT (from_party, message_id) DO NOTHING RETURNING message_id`, [fromPartyId, messageId]);
      if (inserted.rows.length === 1) return 'new';
      // Someone else holds it: a crashed delivery's old claim is taken over, otherwise report its state.
      const taken = await db.query(
        `UPDATE sdk_as4_received SET claimed_at = now()
          WHERE from_party = $1 AND message_id = $2 AND state = 'in-progress' AND claimed_at < now() - ($3::bigint * interval '1 millisecond')
          RETURNING message_id`, [fromPartyId, messageId, staleMs]);
      if (taken.rows.length === 1) return 'new';
      const row = await db.query<{ state: string }>('SELECT state FROM sdk_as4_received WHERE from_party = $1 AND message_id = $2', [fromPartyId, messageId]);
      const state = row.rows[0]?.state;
      // Released between our INSERT and SELECT: the sender retries and then gets a fresh claim.
      if (state === 'delivered') return 'delivered';
      return 'in-progress';
    },
    async complete(messageId, fromPartyId) {
      await db.query(
        `INSERT INTO sdk_as4_received (from_party, message_id, state) VALUES ($1, $2, 'delivered')
         ON CONFLICT (from_party, message_id) DO UPDATE SET state = 'delivered', claimed_at = now()`, [fromPartyId, messageId]);
    },
    async release(messageId, fromPartyId) {
      await db.query(`DELETE FROM sdk_as4_received WHERE from_party = $1 AND message_id = $2 AND state = 'in-progress'`, [fromPartyId, messageId]);
    },
    async prune() {
      const r = await db.query(`DELETE FROM sdk_as4_received WHERE claimed_at < now() - ($1::bigint * interval '1 millisecond')`, [retentionMs]);
      return r.rowCount ?? 0;
    },
  };
}
