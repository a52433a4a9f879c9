// Provisioning users outside the admin API (oidc-loa3.md §7.4: no account is created by logging in): for seed
// scripts and the development start-up, which know a persona's identity value and roles. Audited like the API.
import type pg from 'pg';
import type { Role } from '../domain/principal.js';
import type { AuditTrail } from '../ports/audit.port.js';
import { withTransaction } from '../store/database.js';
import { UserRepository } from '../store/user.repository.js';
import { identityHash, isValidHsaId, isValidOrgAffiliation, isValidPersonalNumber, type IdentityType } from './identity.js';

export interface ProvisionRequest {
  identityType: IdentityType;
  /** Personnummer etc.; stored only as a hash. */
  identityValue: string;
  displayName?: string;
  roles: Role[];
  /** principalId() of whoever provisions, or "system". */
  actor: string;
}

/** Create the user, or set the roles of an existing one. Returns the user id. Idempotent. */
export async function provisionUser(pool: pg.Pool, audit: AuditTrail, r: ProvisionRequest): Promise<string> {
  const valid = r.identityType === 'personalIdentityNumber' ? isValidPersonalNumber(r.identityValue)
    : r.identityType === 'coordinationNumber' ? isValidPersonalNumber(r.identityValue, true)
      : r.identityType === 'orgAffiliation' ? isValidOrgAffiliation(r.identityValue) : isValidHsaId(r.identityValue);
  if (!valid) throw new Error(`provisionUser: not a valid ${r.identityType}`);
  const users = new UserRepository();
  const hash = identityHash({ type: r.identityType, value: r.identityValue });
  return withTransaction(pool, async (db) => {
    const existing = await users.findByIdentity(db, r.identityType, hash);
    if (existing === undefined) {
      const u = await users.create(db, { identityType: r.identityType, identityHash: hash, roles: r.roles, createdBy: r.actor, ...(r.displayName !== undefined ? { displayName: r.displayName } : {}) });
      await audit.record({ type: 'USER_CREATED', actor: r.actor, subject: u.id, outcome: 'success', details: { identityType: r.identityType, roles: u.roles } }, db);
      return u.id;
    }
    const change = await users.setRoles(db, existing.id, [...new Set(r.roles)], r.actor);
    if (change.added.length > 0 || change.removed.length > 0) {
      await audit.record({ type: 'ROLE_CHANGED', actor: r.actor, subject: existing.id, outcome: 'success', details: change }, db);
    }
    return existing.id;
  });
}
