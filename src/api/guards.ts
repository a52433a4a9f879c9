// Route guards combining the two kinds of caller (issue 4): systems are checked by scope, people by role.
import type { RequestHandler } from 'express';
import type { Role } from '../domain/principal.js';

export interface GuardSource {
  requirePrincipal: RequestHandler;
  requireScopes(...scopes: string[]): RequestHandler;
  requireRole(...roles: Role[]): RequestHandler;
  csrf: RequestHandler;
}

/** A system needs `scope`; a person needs one of `roles`. State-changing browser requests also need the CSRF token. */
export function scopeOrRole(auth: GuardSource, scope: string, roles: Role[]): RequestHandler[] {
  const systems = auth.requireScopes(scope);
  const people = auth.requireRole(...roles);
  const pick: RequestHandler = (req, res, next) => {
    const p = res.locals.principal as { kind?: string } | undefined;
    return p?.kind === 'system' ? systems(req, res, next) : people(req, res, next);
  };
  return [auth.requirePrincipal, pick, auth.csrf];
}
