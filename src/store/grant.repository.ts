// Grants per function address (oidc-loa3.md §6.5, §7.4): which person or system may send from / read a
// function address. Keyed on principalId() (src/domain/principal.ts); read on every request, so a change applies at once.
import { z } from 'zod';
import type { Queryable } from '../ports/queryable.port.js';

export type Permission = 'send' | 'read';
export const PERMISSIONS: readonly Permission[] = ['send', 'read'];

export interface GrantRecord {
  functionAddressId: string;
  address: string;
  principalId: string;
  permission: Permission;
  grantedBy: string;
  grantedAt: Date;
}

const Row = z.object({
  function_address_id: z.string(),
  address: z.string(),
  principal_id: z.string(),
  permission: z.enum(['send', 'read']),
  granted_by: z.string(),
  granted_at: z.date(),
});

function toRecord(r: unknown): GrantRecord {
  const p = Row.parse(r);
  return { functionAddressId: p.function_address_id, address: p.address, principalId: p.principal_id, permission: p.permission, grantedBy: p.granted_by, grantedAt: p.granted_at };
}

const SELECT = `SELECT g.function_address_id, f.address, g.principal_id, g.permission, g.granted_by, g.granted_at
  FROM grants g JOIN function_addresses f ON f.id = g.function_address_id`;

export class GrantRepository {
  async list(db: Queryable, filter: { functionAddressId?: string; principalId?: string } = {}): Promise<GrantRecord[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    if (filter.functionAddressId !== undefined) { values.push(filter.functionAddressId); where.push(`g.function_address_id = $${values.length}`); }
    if (filter.principalId !== undefined) { values.push(filter.principalId); where.push(`g.principal_id = $${values.length}`); }
    const { rows } = await db.query(`${SELECT} ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY f.address, g.principal_id, g.permission`, values);
    return rows.map(toRecord);
  }

  /** True when the row was new. */
  async add(db: Queryable, g: { functionAddressId: string; principalId: string; permission: Permission; grantedBy: string }): Promise<boolean> {
    const { rowCount } = await db.query(
      `INSERT INTO grants (function_address_id, principal_id, permission, granted_by) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [g.functionAddressId, g.principalId, g.permission, g.grantedBy]);
    return (rowCount ?? 0) > 0;
  }

  /** True when a row was removed. */
  async remove(db: Queryable, g: { functionAddressId: string; principalId: string; permission: Permission }): Promise<boolean> {
    const { rowCount } = await db.query('DELETE FROM grants WHERE function_address_id = $1 AND principal_id = $2 AND permission = $3',
      [g.functionAddressId, g.principalId, g.permission]);
    return (rowCount ?? 0) > 0;
  }

  /** Does the principal hold `permission` on the address (by its address string)? */
  async has(db: Queryable, principalId: string, address: string, permission: Permission): Promise<boolean> {
    const { rows } = await db.query(
      `SELECT 1 FROM grants g JOIN function_addresses f ON f.id = g.function_address_id
        WHERE g.principal_id = $1 AND f.address = $2 AND g.permission = $3 LIMIT 1`, [principalId, address, permission]);
    return rows.length > 0;
  }

  /** Every address the principal holds `permission` on, sorted. */
  async addresses(db: Queryable, principalId: string, permission: Permission): Promise<string[]> {
    const { rows } = await db.query<{ address: string }>(
      `SELECT f.address FROM grants g JOIN function_addresses f ON f.id = g.function_address_id
        WHERE g.principal_id = $1 AND g.permission = $2 ORDER BY f.address`, [principalId, permission]);
    return rows.map((r) => r.address);
  }
}
