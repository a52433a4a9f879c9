// Administration API, mounted at /v1/admin (issue 4 "Grants per function address"; oidc-loa3.md §7.4, §8.5):
// the organisation's function addresses, who may send from / read them, users and roles. Persons need the admin
// role to change anything (admin or auditor to read); systems need the urn:sandebud:admin scope. Every change is
// written to the audit trail in the same database transaction as the change itself. Also (issue 7) the state of
// the local copy of the national SDK address book and which of our function addresses it lacks (sdk.md §3).
import express, { type Request, type RequestHandler } from 'express';
import type pg from 'pg';
import type { Auth } from '../../auth/index.js';
import { SCOPE_ADMIN, principalOf } from '../../auth/index.js';
import { identityHash, isValidHsaId, isValidOrgAffiliation, isValidPersonalNumber, type IdentityType } from '../../auth/identity.js';
import { AppError, forbidden, isAppError, notFound, validationError } from '../../domain/errors.js';
import { principalId, type Principal, type Role } from '../../domain/principal.js';
import type { AuditTrail } from '../../ports/audit.port.js';
import type { AddressBookAdministration, OwnAddressReport } from '../../ports/sdk.port.js';
import { PgAuditTrail } from '../../store/audit.repository.js';
import { withTransaction } from '../../store/database.js';
import { FunctionAddressRepository, type FunctionAddressRecord } from '../../store/function-address.repository.js';
import { GrantRepository, PERMISSIONS, type GrantRecord, type Permission } from '../../store/grant.repository.js';
import { SessionRepository } from '../../store/session.repository.js';
import { ROLES, UserRepository, type UserRecord } from '../../store/user.repository.js';

export interface AdminRouterDeps {
  auth: Auth;
  pool: pg.Pool;
  audit: AuditTrail;
  /** The local read copy of the national SDK address book (issue 7); without it its routes answer 503. */
  sdkAddressBook?: AddressBookAdministration;
}

// Request bodies, path parameters and queries are validated against contracts/api/parts/admin.yaml by
// express-openapi-validator before this router runs (src/http.ts; style.md: one validator, not two). The
// helpers below only narrow those already-checked values to their TypeScript types; should the router ever be
// mounted without the validator, a value of the wrong type is still refused (400 naming the field), never used.
type Json = Record<string, unknown>;
type Guard<T> = (v: unknown) => v is T;

const isString: Guard<string> = (v): v is string => typeof v === 'string';
const isBoolean: Guard<boolean> = (v): v is boolean => typeof v === 'boolean';
const isNullableString: Guard<string | null> = (v): v is string | null => v === null || typeof v === 'string';
const oneOf = <T extends string>(values: readonly T[]): Guard<T> => (v): v is T => typeof v === 'string' && (values as readonly string[]).includes(v);
const listOf = <T>(item: Guard<T>): Guard<T[]> => (v): v is T[] => Array.isArray(v) && v.every(item);

const IDENTITY_TYPES: readonly IdentityType[] = ['personalIdentityNumber', 'coordinationNumber', 'orgAffiliation', 'employeeHsaId'];
const isRoleValue = oneOf(ROLES);
const isPermission = oneOf(PERMISSIONS);
const isIdentityType = oneOf(IDENTITY_TYPES);

const notAsDocumented = (pointer: string): AppError => validationError([{ field: pointer, message: 'not as documented in the API contract' }]);

/** The JSON object body (an absent body reads as {}: PATCH /users/{id} may omit it). */
function bodyOf(req: Request): Json {
  const b: unknown = req.body;
  if (b === undefined) return {};
  if (typeof b === 'object' && b !== null && !Array.isArray(b)) return b as Json;
  throw notAsDocumented('/body');
}

function required<T>(body: Json, name: string, ok: Guard<T>): T {
  const v = body[name];
  if (!ok(v)) throw notAsDocumented(`/body/${name}`);
  return v;
}

function optional<T>(body: Json, name: string, ok: Guard<T>): T | undefined {
  const v = body[name];
  if (v === undefined) return undefined;
  if (!ok(v)) throw notAsDocumented(`/body/${name}`);
  return v;
}

/** A single-valued query parameter, or undefined when absent. */
function queryParam<T>(req: Request, name: string, ok: Guard<T>): T | undefined {
  const v: unknown = req.query[name];
  if (v === undefined) return undefined;
  if (!ok(v)) throw notAsDocumented(`/query/${name}`);
  return v;
}

function validIdentity(type: IdentityType, value: string): boolean {
  switch (type) {
    case 'personalIdentityNumber': return isValidPersonalNumber(value);
    case 'coordinationNumber': return isValidPersonalNumber(value, true);
    case 'orgAffiliation': return isValidOrgAffiliation(value);
    case 'employeeHsaId': return isValidHsaId(value);
  }
}

const toFunctionAddress = (f: FunctionAddressRecord): Record<string, unknown> => ({ id: f.id, address: f.address, name: f.name, createdBy: f.createdBy, createdAt: f.createdAt.toISOString() });
const toGrant = (g: GrantRecord): Record<string, unknown> => ({
  functionAddressId: g.functionAddressId, functionAddress: g.address, principalId: g.principalId, permission: g.permission, grantedBy: g.grantedBy, grantedAt: g.grantedAt.toISOString(),
});
// Never the identity value: the table holds only its hash, and responses must not carry personnummer.
const toUser = (u: UserRecord): Record<string, unknown> => ({
  id: u.id, displayName: u.displayName, identityType: u.identityType, principalId: u.sub !== null ? `person:${u.sub}` : null,
  enabled: u.enabled, roles: u.roles, createdBy: u.createdBy, createdAt: u.createdAt.toISOString(), lastLoginAt: u.lastLoginAt?.toISOString() ?? null,
});

/**
 * GET /v1/admin/sdk/address-book: the state of the local read copy of the national SDK address book and which of
 * our function addresses it lacks or lists under another organisation (issue 7; sdk.md §3). `ownAddresses` is
 * null while there is no copy at all.
 */
async function addressBookView(book: AddressBookAdministration): Promise<Record<string, unknown>> {
  const st = book.status();
  let own: OwnAddressReport | undefined;
  try {
    own = await book.missingOwnAddresses();
  } catch (err) {
    if (!(isAppError(err) && err.code === 'ADDRESS_BOOK_UNAVAILABLE')) throw err;
  }
  return {
    source: book.source,
    copy: {
      fetchedAt: st.fetchedAt?.toISOString() ?? null, lastAttemptAt: st.lastAttemptAt?.toISOString() ?? null, lastError: st.lastError ?? null,
      organisations: st.organisations, addresses: st.addresses, stale: st.stale,
    },
    ownAddresses: own === undefined ? null : {
      checkedAt: own.checkedAt.toISOString(), copyFetchedAt: own.copyFetchedAt.toISOString(), missing: own.missing,
      registeredElsewhere: own.registeredElsewhere.map((r) => ({ address: r.identifier, organisation: r.organisation })), present: own.present,
    },
  };
}

function actorOf(res: express.Response): Principal {
  const p = principalOf(res);
  if (p === undefined) throw new AppError('UNAUTHENTICATED', 'Authentication is required.', { status: 401 });
  return p;
}

/** Persons: one of `roles`; systems: the admin scope (already checked by requireScopes). */
function allow(...roles: Role[]): RequestHandler {
  return (_req, res, next) => {
    const p = actorOf(res);
    if (p.kind === 'system' || p.roles.some((r) => roles.includes(r))) {
      next();
      return;
    }
    next(forbidden('ROLE_REQUIRED', `This operation requires the role ${roles.join(' or ')}.`));
  };
}

const param = (req: Request, name: string): string => {
  const v: unknown = req.params[name];
  return typeof v === 'string' ? v : '';
};

export function createAdminRouter(deps: AdminRouterDeps): express.Router {
  const { auth, pool, audit } = deps;
  const addresses = new FunctionAddressRepository();
  const grants = new GrantRepository();
  const users = new UserRepository();
  const sessions = new SessionRepository();
  const auditList = new PgAuditTrail(pool);
  const readers = allow('admin', 'auditor');
  const admins = allow('admin');
  const fresh = auth.requireRecentAuthentication;

  const r = express.Router();
  r.use(express.json({ limit: '64kb' }), auth.authenticate, auth.requireScopes(SCOPE_ADMIN), auth.csrf);

  // --- function addresses
  r.get('/function-addresses', readers, async (_req, res) => {
    res.json({ items: (await addresses.list(pool)).map(toFunctionAddress) });
  });

  r.post('/function-addresses', admins, async (req, res) => {
    const b = bodyOf(req);
    const body = { address: required(b, 'address', isString), name: required(b, 'name', isString) };
    const actor = principalId(actorOf(res));
    const created = await withTransaction(pool, async (db) => {
      const f = await addresses.create(db, { address: body.address, name: body.name, createdBy: actor });
      await audit.record({ type: 'FUNCTION_ADDRESS_ADDED', actor, subject: f.address, outcome: 'success', details: { id: f.id, name: f.name } }, db);
      return f;
    });
    res.status(201).location(`${req.baseUrl}/function-addresses/${created.id}`).json(toFunctionAddress(created));
  });

  r.get('/function-addresses/:id', readers, async (req, res) => {
    const f = await addresses.findById(pool, param(req, 'id'));
    if (f === undefined) throw notFound('The function address');
    res.json({ ...toFunctionAddress(f), grants: (await grants.list(pool, { functionAddressId: f.id })).map(toGrant) });
  });

  r.delete('/function-addresses/:id', admins, fresh, async (req, res) => {
    const actor = principalId(actorOf(res));
    const done = await withTransaction(pool, async (db) => {
      const d = await addresses.delete(db, param(req, 'id'));
      if (d === undefined) return undefined;
      await audit.record({ type: 'FUNCTION_ADDRESS_DELETED', actor, subject: d.deleted.address, outcome: 'success', details: { id: d.deleted.id, grantsRemoved: d.grantsRemoved } }, db);
      return d;
    });
    if (done === undefined) throw notFound('The function address');
    res.status(204).end();
  });

  // --- grants
  r.get('/grants', readers, async (req, res) => {
    const filter: { functionAddressId?: string; principalId?: string } = {};
    if (typeof req.query.principalId === 'string') filter.principalId = req.query.principalId;
    if (typeof req.query.functionAddressId === 'string') {
      const f = await addresses.findById(pool, req.query.functionAddressId);
      if (f === undefined) throw notFound('The function address');
      filter.functionAddressId = f.id;
    }
    res.json({ items: (await grants.list(pool, filter)).map(toGrant) });
  });

  r.get('/function-addresses/:id/grants', readers, async (req, res) => {
    const f = await addresses.findById(pool, param(req, 'id'));
    if (f === undefined) throw notFound('The function address');
    res.json({ items: (await grants.list(pool, { functionAddressId: f.id })).map(toGrant) });
  });

  r.post('/function-addresses/:id/grants', admins, fresh, async (req, res) => {
    const b = bodyOf(req);
    const body = { principalId: required(b, 'principalId', isString), permissions: required(b, 'permissions', listOf(isPermission)) };
    const actor = principalId(actorOf(res));
    const result = await withTransaction(pool, async (db) => {
      const f = await addresses.findById(db, param(req, 'id'));
      if (f === undefined) return undefined;
      const added: Permission[] = [];
      for (const permission of [...new Set(body.permissions)]) {
        if (await grants.add(db, { functionAddressId: f.id, principalId: body.principalId, permission, grantedBy: actor })) {
          added.push(permission);
          await audit.record({ type: 'GRANT_ADDED', actor, subject: f.address, outcome: 'success', details: { principalId: body.principalId, permission } }, db);
        }
      }
      return { added, items: await grants.list(db, { functionAddressId: f.id, principalId: body.principalId }) };
    });
    if (result === undefined) throw notFound('The function address');
    res.status(result.added.length > 0 ? 201 : 200).json({ added: result.added, items: result.items.map(toGrant) });
  });

  r.delete('/function-addresses/:id/grants/:principalId', admins, async (req, res) => {
    const principal = param(req, 'principalId');
    // The contract has checked the principalId pattern (400 naming /path/principalId) and the permission enum.
    const q = queryParam(req, 'permission', isPermission);
    const which: Permission[] = q !== undefined ? [q] : [...PERMISSIONS];
    const actor = principalId(actorOf(res));
    const removed = await withTransaction(pool, async (db) => {
      const f = await addresses.findById(db, param(req, 'id'));
      if (f === undefined) return undefined;
      const out: Permission[] = [];
      for (const permission of which) {
        if (await grants.remove(db, { functionAddressId: f.id, principalId: principal, permission })) {
          out.push(permission);
          await audit.record({ type: 'GRANT_REVOKED', actor, subject: f.address, outcome: 'success', details: { principalId: principal, permission } }, db);
        }
      }
      return out;
    });
    if (removed === undefined) throw notFound('The function address');
    if (removed.length === 0) throw notFound('The grant');
    res.status(204).end();
  });

  // --- SDK: the national address book as this gateway sees it (issue 7)
  const book = (): AddressBookAdministration => {
    if (deps.sdkAddressBook === undefined) throw new AppError('ADDRESS_BOOK_NOT_CONFIGURED', 'No SDK address book is configured.', { status: 503 });
    return deps.sdkAddressBook;
  };
  r.get('/sdk/address-book', readers, async (_req, res) => {
    res.json(await addressBookView(book()));
  });
  r.post('/sdk/address-book/refresh', admins, async (_req, res) => {
    const b = book();
    await b.refresh();
    res.json(await addressBookView(b));
  });

  // --- users and roles
  r.get('/users', readers, async (_req, res) => {
    res.json({ items: (await users.list(pool)).map(toUser) });
  });

  r.post('/users', admins, fresh, async (req, res) => {
    const b = bodyOf(req);
    const body = {
      identityType: required(b, 'identityType', isIdentityType),
      identityValue: required(b, 'identityValue', isString),
      displayName: optional(b, 'displayName', isString),
      roles: optional(b, 'roles', listOf(isRoleValue)) ?? [],
    };
    if (!validIdentity(body.identityType, body.identityValue)) throw validationError([{ field: '/body/identityValue', message: `not a valid ${body.identityType}` }]);
    const actor = principalId(actorOf(res));
    const created = await withTransaction(pool, async (db) => {
      const u = await users.create(db, {
        identityType: body.identityType, identityHash: identityHash({ type: body.identityType, value: body.identityValue }),
        roles: [...new Set(body.roles)], createdBy: actor, ...(body.displayName !== undefined ? { displayName: body.displayName } : {}),
      });
      await audit.record({ type: 'USER_CREATED', actor, subject: u.id, outcome: 'success', details: { identityType: body.identityType, roles: u.roles } }, db);
      if (u.roles.length > 0) await audit.record({ type: 'ROLE_CHANGED', actor, subject: u.id, outcome: 'success', details: { added: u.roles, removed: [] } }, db);
      return u;
    });
    res.status(201).location(`${req.baseUrl}/users/${created.id}`).json(toUser(created));
  });

  r.get('/users/:id', readers, async (req, res) => {
    const u = await users.findById(pool, param(req, 'id'));
    if (u === undefined) throw notFound('The user');
    res.json({ ...toUser(u), sessions: await sessions.countForUser(pool, u.id) });
  });

  r.put('/users/:id/roles', admins, fresh, async (req, res) => {
    const body = { roles: required(bodyOf(req), 'roles', listOf(isRoleValue)) };
    const actorP = actorOf(res);
    const actor = principalId(actorP);
    const result = await withTransaction(pool, async (db) => {
      const u = await users.findById(db, param(req, 'id'));
      if (u === undefined) return undefined;
      const roles = [...new Set(body.roles)];
      const change = await users.setRoles(db, u.id, roles, actor);
      // Never leave the organisation without an administrator (the bootstrap list is honoured only while none exists).
      if (change.removed.includes('admin') && (await users.countAdmins(db)) === 0) {
        throw new AppError('LAST_ADMIN', 'The last administrator cannot lose the admin role.', { status: 409 });
      }
      if (change.added.length > 0 || change.removed.length > 0) {
        await audit.record({ type: 'ROLE_CHANGED', actor, subject: u.id, outcome: 'success', details: change }, db);
      }
      return { change, user: await users.findById(db, u.id) };
    });
    if (result?.user === undefined) throw notFound('The user');
    res.json({ ...toUser(result.user), added: result.change.added, removed: result.change.removed });
  });

  r.patch('/users/:id', admins, async (req, res) => {
    const b = bodyOf(req);
    const body = { enabled: optional(b, 'enabled', isBoolean), displayName: optional(b, 'displayName', isNullableString) };
    const actor = principalId(actorOf(res));
    const updated = await withTransaction(pool, async (db) => {
      const u = await users.findById(db, param(req, 'id'));
      if (u === undefined) return undefined;
      if (body.displayName !== undefined) await users.setDisplayName(db, u.id, body.displayName);
      if (body.enabled !== undefined && (await users.setEnabled(db, u.id, body.enabled))) {
        if (!body.enabled && u.roles.includes('admin') && (await users.countAdmins(db)) === 0) {
          throw new AppError('LAST_ADMIN', 'The last administrator cannot be disabled.', { status: 409 });
        }
        // Disabling a user ends all their sessions (ASVS 5 7.4.2).
        const ended = body.enabled ? 0 : await sessions.deleteForUser(db, u.id);
        await audit.record({ type: body.enabled ? 'USER_ENABLED' : 'USER_DISABLED', actor, subject: u.id, outcome: 'success', details: { sessionsEnded: ended } }, db);
      }
      return users.findById(db, u.id);
    });
    if (updated === undefined) throw notFound('The user');
    res.json(toUser(updated));
  });

  // --- the audit trail (read-only)
  r.get('/audit-events', readers, async (req, res) => {
    const q: { type?: string; subject?: string; actor?: string; beforeId?: string; limit?: number } = {};
    if (typeof req.query.type === 'string') q.type = req.query.type;
    if (typeof req.query.subject === 'string') q.subject = req.query.subject;
    if (typeof req.query.actor === 'string') q.actor = req.query.actor;
    if (typeof req.query.beforeId === 'string' && /^[0-9]{1,18}$/.test(req.query.beforeId)) q.beforeId = req.query.beforeId;
    if (typeof req.query.limit === 'string' && /^[0-9]{1,4}$/.test(req.query.limit)) q.limit = Number(req.query.limit);
    const items = await auditList.list(q);
    res.json({ items: items.map((e) => ({ ...e, at: e.at.toISOString() })) });
  });

  return r;
}
