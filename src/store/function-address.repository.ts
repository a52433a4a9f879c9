// The organisation's own function addresses (funktionsadresser; sdk.md: opaque strings of at most 256
// characters, compared exactly), administered locally (oidc-loa3.md §1, §7.4).
import { z } from 'zod';
import { AppError } from '../domain/errors.js';
import type { Queryable } from '../ports/queryable.port.js';

export interface FunctionAddressRecord {
  id: string;
  address: string;
  name: string;
  createdBy: string;
  createdAt: Date;
}

const Row = z.object({ id: z.string(), address: z.string(), name: z.string(), created_by: z.string(), created_at: z.date() });

function toRecord(r: unknown): FunctionAddressRecord {
  const p = Row.parse(r);
  return { id: p.id, address: p.address, name: p.name, createdBy: p.created_by, createdAt: p.created_at };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class FunctionAddressRepository {
  async list(db: Queryable): Promise<FunctionAddressRecord[]> {
    const { rows } = await db.query('SELECT id, address, name, created_by, created_at FROM function_addresses ORDER BY address');
    return rows.map(toRecord);
  }

  async findById(db: Queryable, id: string): Promise<FunctionAddressRecord | undefined> {
    if (!UUID.test(id)) return undefined;
    const { rows } = await db.query('SELECT id, address, name, created_by, created_at FROM function_addresses WHERE id = $1', [id]);
    return rows[0] === undefined ? undefined : toRecord(rows[0]);
  }

  async findByAddress(db: Queryable, address: string): Promise<FunctionAddressRecord | undefined> {
    const { rows } = await db.query('SELECT id, address, name, created_by, created_at FROM function_addresses WHERE address = $1', [address]);
    return rows[0] === undefined ? undefined : toRecord(rows[0]);
  }

  /** 409 FUNCTION_ADDRESS_EXISTS when the address is already registered. */
  async create(db: Queryable, f: { address: string; name: string; createdBy: string }): Promise<FunctionAddressRecord> {
    const { rows } = await db.query(
      `INSERT INTO function_addresses (address, name, created_by) VALUES ($1, $2, $3)
       ON CONFLICT (address) DO NOTHING RETURNING id, address, name, created_by, created_at`, [f.address, f.name, f.createdBy]);
    if (rows[0] === undefined) throw new AppError('FUNCTION_ADDRESS_EXISTS', 'This function address is already registered.', { status: 409 });
    return toRecord(rows[0]);
  }

  /** Delete the address and (by cascade) its grants; returns the deleted row and how many grants went with it. */
  async delete(db: Queryable, id: string): Promise<{ deleted: FunctionAddressRecord; grantsRemoved: number } | undefined> {
    if (!UUID.test(id)) return undefined;
    const { rows: g } = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM grants WHERE function_address_id = $1', [id]);
    const { rows } = await db.query('DELETE FROM function_addresses WHERE id = $1 RETURNING id, address, name, created_by, created_at', [id]);
    if (rows[0] === undefined) return undefined;
    return { deleted: toRecord(rows[0]), grantsRemoved: Number(g[0]?.n ?? '0') };
  }
}
