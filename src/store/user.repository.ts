// Provisioned users and their roles (oidc-loa3.md §7.4: roles live in Sändebud's tables, read on every request;
// no account is created by logging in). Users are found by a hash of their identity claim (src/auth/identity.ts).
import { z } from 'zod';
import { AppError } from '../domain/errors.js';
import type { Role } from '../domain/principal.js';
import type { Queryable } from '../ports/queryable.port.js';

export const ROLES: readonly Role[] = ['admin', 'auditor', 'caseworker'];

export function isRole(v: unknown): v is Role {
  return typeof v === 'string' && (ROLES as readonly string[]).includes(v);
}

export interface UserRecord {
  id: string;
  identityType: string;
  displayName: string | null;
  issuer: string | null;
  sub: string | null;
  enabled: boolean;
  roles: Role[];
  createdBy: string;
  createdAt: Date;
  lastLoginAt: Date | null;
}

const Row = z.object({
  id: z.string(),
  identity_type: z.string(),
  display_name: z.string().nullable(),
  issuer: z.string().nullable(),
  sub: z.string().nullable(),
  enabled: z.boolean(),
  roles: z.array(z.string()).nullable(),
  created_by: z.string(),
  created_at: z.date(),
  last_login_at: z.date().nullable(),
});

const SELECT = `SELECT u.id, u.identity_type, u.display_name, u.issuer, u.sub, u.enabled, u.created_by, u.created_at, u.last_login_at,
  (SELECT array_agg(r.role ORDER BY r.role) FROM user_roles r WHERE r.user_id = u.id) AS roles FROM users u`;

function toUser(r: unknown): UserRecord {
  const p = Row.parse(r);
  return {
    id: p.id, identityType: p.identity_type, displayName: p.display_name, issuer: p.issuer, sub: p.sub, enabled: p.enabled,
    roles: (p.roles ?? []).filter(isRole), createdBy: p.created_by, createdAt: p.created_at, lastLoginAt: p.last_login_at,
  };
}

export interface NewUser {
  identityType: string;
  identityHash: string;
  displayName?: string;
  roles: Role[];
  createdBy: string;
}

export class UserRepository {
  async findByIdentity(db: Queryable, identityType: string, identityHash: string): Promise<UserRecord | undefined> {
    const { rows } = await db.query(`${SELECT} WHERE u.identity_type = $1 AND u.identity_hash = $2`, [identityType, identityHash]);
    return rows[0] === undefined ? undefined : toUser(rows[0]);
  }

  async findById(db: Queryable, id: string): Promise<UserRecord | undefined> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
    const { rows } = await db.query(`${SELECT} WHERE u.id = $1`, [id]);
    return rows[0] === undefined ? undefined : toUser(rows[0]);
  }

  async list(db: Queryable): Promise<UserRecord[]> {
    const { rows } = await db.query(`${SELECT} ORDER BY u.created_at, u.id`);
    return rows.map(toUser);
  }

  /** Enabled users holding the admin role. */
  async countAdmins(db: Queryable): Promise<number> {
    const { rows } = await db.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM users u JOIN user_roles r ON r.user_id = u.id WHERE r.role = 'admin' AND u.enabled");
    return Number(rows[0]?.n ?? '0');
  }

  /** Insert a user with roles; 409 USER_EXISTS when the identity is already provisioned. */
  async create(db: Queryable, u: NewUser): Promise<UserRecord> {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO users (identity_type, identity_hash, display_name, created_by) VALUES ($1, $2, $3, $4)
       ON CONFLICT (identity_type, identity_hash) DO NOTHING RETURNING id`,
      [u.identityType, u.identityHash, u.displayName ?? null, u.createdBy]);
    const id = rows[0]?.id;
    if (id === undefined) throw new AppError('USER_EXISTS', 'A user with this identity already exists.', { status: 409 });
    for (const role of u.roles) {
      await db.query('INSERT INTO user_roles (user_id, role, granted_by) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [id, role, u.createdBy]);
    }
    const created = await this.findById(db, id);
    if (created === undefined) throw new AppError('INTERNAL', 'user vanished after insert');
    return created;
  }

  /** Replace the user's roles; returns what changed (for the audit trail). */
  async setRoles(db: Queryable, userId: string, roles: readonly Role[], by: string): Promise<{ added: Role[]; removed: Role[] }> {
    const { rows } = await db.query<{ role: string }>('SELECT role FROM user_roles WHERE user_id = $1 FOR UPDATE', [userId]);
    const before = rows.map((r) => r.role).filter(isRole);
    const added = roles.filter((r) => !before.includes(r));
    const removed = before.filter((r) => !roles.includes(r));
    for (const role of added) await db.query('INSERT INTO user_roles (user_id, role, granted_by) VALUES ($1, $2, $3)', [userId, role, by]);
    if (removed.length > 0) await db.query('DELETE FROM user_roles WHERE user_id = $1 AND role = ANY($2::text[])', [userId, removed]);
    if (added.length > 0 || removed.length > 0) await db.query('UPDATE users SET updated_at = now() WHERE id = $1', [userId]);
    return { added, removed };
  }

  async setEnabled(db: Queryable, userId: string, enabled: boolean): Promise<boolean> {
    const { rowCount } = await db.query('UPDATE users SET enabled = $2, updated_at = now() WHERE id = $1 AND enabled <> $2', [userId, enabled]);
    return (rowCount ?? 0) > 0;
  }

  async setDisplayName(db: Queryable, userId: string, displayName: string | null): Promise<void> {
    await db.query('UPDATE users SET display_name = $2, updated_at = now() WHERE id = $1', [userId, displayName]);
  }

  /** Remember the OP subject of the last login (grants name persons as `person:<sub>`). */
  async recordLogin(db: Queryable, userId: string, issuer: string, sub: string, displayName: string | undefined): Promise<void> {
    // A subject belongs to one user: a re-provisioned identity takes it over from the older row.
    await db.query('UPDATE users SET sub = NULL WHERE issuer = $1 AND sub = $2 AND id <> $3', [issuer, sub, userId]);
    await db.query(
      'UPDATE users SET issuer = $2, sub = $3, last_login_at = now(), display_name = COALESCE($4, display_name) WHERE id = $1',
      [userId, issuer, sub, displayName ?? null]);
  }
}
