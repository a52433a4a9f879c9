// Grants per function address (issue 4 "Grants per function address"; oidc-loa3.md §6.5, §7.4, §11.12).
// Roles and scopes decide which *operations* a principal may call; grants decide which function addresses'
// *data* it may touch. Read from the database on every call, so a revoked grant applies at once.
import type { RequestHandler, Request } from 'express';
import type pg from 'pg';
import { AppError } from '../domain/errors.js';
import { principalId, type Principal } from '../domain/principal.js';
import type { AuditTrail } from '../ports/audit.port.js';
import { GrantRepository, type Permission } from '../store/grant.repository.js';
import { principalOf } from './locals.js';

export interface GrantChecker {
  /** May the principal send from this function address? */
  canSend(p: Principal, functionAddress: string): Promise<boolean>;
  /** May the principal read (and delete) messages of this function address? */
  canRead(p: Principal, functionAddress: string): Promise<boolean>;
  /** Every function address the principal may read: filter lists with it so nothing else leaks. */
  readableAddresses(p: Principal): Promise<string[]>;
  /** Every function address the principal may send from. */
  sendableAddresses(p: Principal): Promise<string[]>;
  /** Throws 403 FUNCTION_ADDRESS_NOT_GRANTED (and writes ACCESS_DENIED to the audit trail) unless granted. */
  assert(p: Principal, permission: Permission, functionAddress: string): Promise<void>;
  /**
   * Route guard: the function address comes from the request (`pick`); 403 when not granted. Mount after
   * requirePrincipal. A missing address (pick returns undefined) is the route's own validation problem: next().
   */
  require(permission: Permission, pick: (req: Request) => string | undefined): RequestHandler;
}

/** `urn:sdk.digg.se:auth_id` values may end in `*` (a prefix wildcard); they only narrow existing grants. */
function allowedByAuthIds(authIds: readonly string[] | undefined, address: string): boolean {
  if (authIds === undefined) return true;
  return authIds.some((v) => (v.endsWith('*') ? address.startsWith(v.slice(0, -1)) : v === address));
}

export function createGrantChecker(deps: { pool: pg.Pool; audit: AuditTrail }): GrantChecker {
  const repo = new GrantRepository();
  const authIdsOf = (p: Principal): string[] | undefined => (p.kind === 'system' ? p.authIds : undefined);

  const can = async (p: Principal, permission: Permission, address: string): Promise<boolean> =>
    allowedByAuthIds(authIdsOf(p), address) && (await repo.has(deps.pool, principalId(p), address, permission));

  const list = async (p: Principal, permission: Permission): Promise<string[]> => {
    const all = await repo.addresses(deps.pool, principalId(p), permission);
    const ids = authIdsOf(p);
    return all.filter((a) => allowedByAuthIds(ids, a));
  };

  const assert = async (p: Principal, permission: Permission, address: string): Promise<void> => {
    if (await can(p, permission, address)) return;
    await deps.audit.record({
      type: 'ACCESS_DENIED', actor: principalId(p), subject: address, outcome: 'failure',
      details: { reason: 'FUNCTION_ADDRESS_NOT_GRANTED', permission },
    });
    throw new AppError('FUNCTION_ADDRESS_NOT_GRANTED', `You have no ${permission} grant for this function address.`, { status: 403 });
  };

  return {
    canSend: (p, a) => can(p, 'send', a),
    canRead: (p, a) => can(p, 'read', a),
    readableAddresses: (p) => list(p, 'read'),
    sendableAddresses: (p) => list(p, 'send'),
    assert,
    require: (permission, pick) => async (req, res, next) => {
      const p = principalOf(res);
      if (p === undefined) {
        next(new AppError('UNAUTHENTICATED', 'Authentication is required.', { status: 401 }));
        return;
      }
      const address = pick(req);
      if (address === undefined) {
        next();
        return;
      }
      await assert(p, permission, address);
      next();
    },
  };
}
