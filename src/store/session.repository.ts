// Server-side login transactions and sessions (oidc-loa3.md §5.1 step 1, §8.1–8.3). Rows are keyed by the
// SHA-256 of the random id in the cookie, so a database leak yields no usable cookie.
import { z } from 'zod';
import type { Queryable } from '../ports/queryable.port.js';

export interface LoginTransaction {
  state: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
  createdAt: Date;
  /** Age in seconds, computed by the database clock. */
  ageSeconds: number;
}

const TxRow = z.object({
  state: z.string(), nonce: z.string(), code_verifier: z.string(), return_to: z.string(), created_at: z.date(), age: z.coerce.number(),
});

export interface NewSession {
  idHash: Buffer;
  userId: string;
  issuer: string;
  sub: string;
  sid?: string;
  acr: string;
  amr: string[];
  authTime: Date;
  idToken: string;
  csrfToken: string;
  claimRoles: string[];
  displayName?: string;
  orgNumber?: string;
  hsaId?: string;
}

export interface SessionRecord {
  idHash: Buffer;
  userId: string;
  issuer: string;
  sub: string;
  sid: string | null;
  acr: string;
  amr: string[];
  authTime: Date;
  idToken: string;
  csrfToken: string;
  claimRoles: string[];
  displayName: string | null;
  orgNumber: string | null;
  hsaId: string | null;
  createdAt: Date;
  lastSeenAt: Date;
}

const SessionRow = z.object({
  id_hash: z.instanceof(Buffer),
  user_id: z.string(),
  issuer: z.string(),
  sub: z.string(),
  sid: z.string().nullable(),
  acr: z.string(),
  amr: z.array(z.string()),
  auth_time: z.date(),
  id_token: z.string(),
  csrf_token: z.string(),
  claim_roles: z.array(z.string()),
  display_name: z.string().nullable(),
  org_number: z.string().nullable(),
  hsa_id: z.string().nullable(),
  created_at: z.date(),
  last_seen_at: z.date(),
});

function toSession(r: unknown): SessionRecord {
  const p = SessionRow.parse(r);
  return {
    idHash: p.id_hash, userId: p.user_id, issuer: p.issuer, sub: p.sub, sid: p.sid, acr: p.acr, amr: p.amr, authTime: p.auth_time,
    idToken: p.id_token, csrfToken: p.csrf_token, claimRoles: p.claim_roles, displayName: p.display_name, orgNumber: p.org_number,
    hsaId: p.hsa_id, createdAt: p.created_at, lastSeenAt: p.last_seen_at,
  };
}

export interface SessionLimits {
  idleMinutes: number;
  absoluteHours: number;
}

export class SessionRepository {
  async createTransaction(db: Queryable, idHash: Buffer, t: { state: string; nonce: string; codeVerifier: string; returnTo: string }): Promise<void> {
    await db.query('INSERT INTO login_transactions (id_hash, state, nonce, code_verifier, return_to) VALUES ($1, $2, $3, $4, $5)',
      [idHash, t.state, t.nonce, t.codeVerifier, t.returnTo]);
  }

  /** Load and delete in one statement: a transaction is usable exactly once, whatever the outcome. */
  async takeTransaction(db: Queryable, idHash: Buffer): Promise<LoginTransaction | undefined> {
    const { rows } = await db.query(
      `DELETE FROM login_transactions WHERE id_hash = $1
       RETURNING state, nonce, code_verifier, return_to, created_at, extract(epoch FROM now() - created_at) AS age`, [idHash]);
    if (rows[0] === undefined) return undefined;
    const p = TxRow.parse(rows[0]);
    return { state: p.state, nonce: p.nonce, codeVerifier: p.code_verifier, returnTo: p.return_to, createdAt: p.created_at, ageSeconds: p.age };
  }

  async create(db: Queryable, s: NewSession): Promise<void> {
    await db.query(
      `INSERT INTO sessions (id_hash, user_id, issuer, sub, sid, acr, amr, auth_time, id_token, csrf_token, claim_roles, display_name, org_number, hsa_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [s.idHash, s.userId, s.issuer, s.sub, s.sid ?? null, s.acr, s.amr, s.authTime, s.idToken, s.csrfToken, s.claimRoles,
        s.displayName ?? null, s.orgNumber ?? null, s.hsaId ?? null]);
  }

  /**
   * Return the live session and mark it seen, or undefined. A session past its idle or absolute limit is
   * deleted here (oidc-loa3.md §8.3: on expiry the row is deleted). Limits are checked on the database clock.
   */
  async touch(db: Queryable, idHash: Buffer, limits: SessionLimits): Promise<SessionRecord | undefined> {
    const { rows } = await db.query(
      `UPDATE sessions SET last_seen_at = now()
        WHERE id_hash = $1 AND last_seen_at > now() - make_interval(mins => $2) AND created_at > now() - make_interval(hours => $3)
        RETURNING *`, [idHash, limits.idleMinutes, limits.absoluteHours]);
    if (rows[0] !== undefined) return toSession(rows[0]);
    await db.query('DELETE FROM sessions WHERE id_hash = $1', [idHash]);
    return undefined;
  }

  async delete(db: Queryable, idHash: Buffer): Promise<SessionRecord | undefined> {
    const { rows } = await db.query('DELETE FROM sessions WHERE id_hash = $1 RETURNING *', [idHash]);
    return rows[0] === undefined ? undefined : toSession(rows[0]);
  }

  async deleteForUser(db: Queryable, userId: string): Promise<number> {
    const { rowCount } = await db.query('DELETE FROM sessions WHERE user_id = $1', [userId]);
    return rowCount ?? 0;
  }

  async countForUser(db: Queryable, userId: string): Promise<number> {
    const { rows } = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM sessions WHERE user_id = $1', [userId]);
    return Number(rows[0]?.n ?? '0');
  }

  /** Housekeeping: expired sessions and login transactions older than `txMaxAgeSeconds`. */
  async deleteExpired(db: Queryable, limits: SessionLimits, txMaxAgeSeconds: number): Promise<void> {
    await db.query(
      'DELETE FROM sessions WHERE last_seen_at <= now() - make_interval(mins => $1) OR created_at <= now() - make_interval(hours => $2)',
      [limits.idleMinutes, limits.absoluteHours]);
    await db.query('DELETE FROM login_transactions WHERE created_at <= now() - make_interval(secs => $1)', [txMaxAgeSeconds]);
  }
}
