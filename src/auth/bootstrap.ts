// First administrators from configuration (oidc-loa3.md §7.4 (e); issue 4 "first admin bootstrapped by config"):
// honoured only while no enabled administrator exists, so the list cannot re-grant admin later.
import type pg from 'pg';
import type { Logger } from '../lib/logger.js';
import type { AuditTrail } from '../ports/audit.port.js';
import { withTransaction } from '../store/database.js';
import { UserRepository } from '../store/user.repository.js';
import { identityHash, isValidPersonalNumber, type IdentityKey } from './identity.js';

export async function bootstrapAdmins(deps: { pool: pg.Pool; audit: AuditTrail; logger: Logger }, personalNumbers: readonly string[]): Promise<number> {
  const keys: IdentityKey[] = [];
  for (const n of personalNumbers) {
    if (isValidPersonalNumber(n)) keys.push({ type: 'personalIdentityNumber', value: n });
    else if (isValidPersonalNumber(n, true)) keys.push({ type: 'coordinationNumber', value: n });
    else deps.logger.warn({ event: 'BOOTSTRAP_ADMIN_INVALID' }, 'a BOOTSTRAP_ADMINS entry is not a valid personal identity number; ignored');
  }
  if (keys.length === 0) return 0;
  const users = new UserRepository();
  return withTransaction(deps.pool, async (db) => {
    // Several gateway processes may start at once: serialise the check-and-create.
    await db.query("SELECT pg_advisory_xact_lock(hashtext('sandebud:bootstrap-admins'))");
    if ((await users.countAdmins(db)) > 0) return 0;
    let n = 0;
    for (const key of keys) {
      const hash = identityHash(key);
      const existing = await users.findByIdentity(db, key.type, hash);
      if (existing === undefined) {
        const u = await users.create(db, { identityType: key.type, identityHash: hash, roles: ['admin'], createdBy: 'system' });
        await deps.audit.record({ type: 'USER_CREATED', actor: 'system', subject: u.id, outcome: 'success', details: { via: 'BOOTSTRAP_ADMINS', roles: ['admin'] } }, db);
      } else {
        const { added } = await users.setRoles(db, existing.id, [...new Set([...existing.roles, 'admin' as const])], 'system');
        if (!existing.enabled) await users.setEnabled(db, existing.id, true);
        await deps.audit.record({ type: 'ROLE_CHANGED', actor: 'system', subject: existing.id, outcome: 'success', details: { via: 'BOOTSTRAP_ADMINS', added, removed: [] } }, db);
      }
      n++;
    }
    deps.logger.warn({ event: 'BOOTSTRAP_ADMINS_APPLIED', count: n }, 'no administrator existed: bootstrapped administrators from BOOTSTRAP_ADMINS');
    return n;
  });
}
