// The local read copy of the national SDK address book (sdk.md §3; docs/sdk.md "Address book"), kept in one row
// of table sdk_address_book_copy (migration 0007) so that a restart during an address-book outage still has the
// last complete copy. Implements the adapter's AddressBookStore (load/save of one JSON snapshot) structurally, so
// the store layer does not import an adapter; the snapshot is our own JSON, written only after a complete,
// validated download.
import type { Queryable } from '../ports/queryable.port.js';

export interface AddressBookCopyRepository<T extends { fetchedAt: string }> {
  load(): Promise<T | null>;
  save(snapshot: T): Promise<void>;
}

export function createAddressBookCopyRepository<T extends { fetchedAt: string }>(db: Queryable): AddressBookCopyRepository<T> {
  return {
    async load() {
      const { rows } = await db.query<{ snapshot: T }>('SELECT snapshot FROM sdk_address_book_copy WHERE id');
      return rows[0]?.snapshot ?? null;
    },
    async save(snapshot) {
      await db.query(
        `INSERT INTO sdk_address_book_copy (id, snapshot, fetched_at, saved_at) VALUES (true, $1::jsonb, $2, now())
         ON CONFLICT (id) DO UPDATE SET snapshot = EXCLUDED.snapshot, fetched_at = EXCLUDED.fetched_at, saved_at = now()`,
        [JSON.stringify(snapshot), snapshot.fetchedAt],
      );
    },
  };
}
