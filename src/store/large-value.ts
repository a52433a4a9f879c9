// Writing a large bytea value (an SDK payload or envelope, up to ~40 MB) without a second payload-sized copy
// (issue 7 memory; docs/sdk.md "Memory"). As one parameter, node-postgres copies the whole value into its Bind
// message while the caller still holds it. In parts, each statement copies only its part: the parts are staged
// in large_value_parts (migration 0008) and joined by the server into the target column, in the caller's
// transaction, which removes them again. PostgreSQL does the joining (string_agg over bytea), so the work is
// linear in the value's size, unlike appending part after part to the column (which rewrites it each time).
import { randomUUID } from 'node:crypto';
import { youngGarbageRelease } from '../lib/memory.js';
import type { Queryable } from '../ports/queryable.port.js';

/** Values up to this size are written as one parameter. */
export const PARTED_WRITE_FROM_BYTES = 1024 * 1024;
/** One staged part. */
export const PART_BYTES = 2 * 1024 * 1024;

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

export interface ByteaTarget {
  table: string;
  column: string;
  /** The row's `id`. */
  id: string;
}

/**
 * `UPDATE table SET column = value WHERE id = $id`, in parts when the value is large. Must run inside a
 * transaction (`db` is its client): the row never shows a partly written value and no part outlives it.
 * Returns the number of rows updated.
 */
export async function writeBytea(db: Queryable, target: ByteaTarget, value: Buffer | null): Promise<number> {
  if (!IDENTIFIER.test(target.table) || !IDENTIFIER.test(target.column)) throw new Error(`not an identifier: ${target.table}.${target.column}`);
  const set = `UPDATE ${target.table} SET ${target.column} = `;
  if (value === null || value.length <= PARTED_WRITE_FROM_BYTES) {
    return (await db.query(`${set}$2 WHERE id = $1`, [target.id, value])).rowCount ?? 0;
  }
  const writeId = randomUUID();
  // Each statement leaves its part's Bind buffer behind as garbage (src/lib/memory.ts).
  const release = youngGarbageRelease(value.length);
  for (let at = 0, seq = 0; at < value.length; at += PART_BYTES, seq++) {
    const part = value.subarray(at, Math.min(at + PART_BYTES, value.length));
    await db.query('INSERT INTO large_value_parts (write_id, seq, part) VALUES ($1, $2, $3)', [writeId, seq, part]);
    release(part.length);
  }
  const updated = await db.query<{ length: number }>(
    `${set}(SELECT string_agg(part, ''::bytea ORDER BY seq) FROM large_value_parts WHERE write_id = $2) WHERE id = $1
     RETURNING octet_length(${target.column}) AS length`, [target.id, writeId]);
  await db.query('DELETE FROM large_value_parts WHERE write_id = $1', [writeId]);
  // A part lost on the way would otherwise store a shorter value without complaint.
  if (updated.rows.some((r) => r.length !== value.length)) throw new Error(`${target.table}.${target.column}: wrote ${updated.rows[0]?.length} of ${value.length} bytes`);
  return updated.rowCount ?? 0;
}
