// Typed access to what the auth middleware leaves in res.locals (issue 4 interface: res.locals.principal).
import type { Response } from 'express';
import type { AppError } from '../domain/errors.js';
import type { Principal } from '../domain/principal.js';

export type AuthMethod = 'session' | 'bearer';

interface AuthLocals {
  principal?: Principal;
  authMethod?: AuthMethod;
  /** The session's synchronizer token, for forms (session-authenticated requests only). */
  csrfToken?: string;
  /** Why a presented credential was not accepted; requirePrincipal answers with it. */
  authError?: AppError;
  /** Set once authenticate has run, so mounting it twice costs nothing. */
  authChecked?: boolean;
}

function locals(res: Response): AuthLocals {
  return res.locals as AuthLocals;
}

/** The authenticated principal of this request, if any. */
export function principalOf(res: Response): Principal | undefined {
  return locals(res).principal;
}

export function authMethodOf(res: Response): AuthMethod | undefined {
  return locals(res).authMethod;
}

/** The CSRF token to embed in forms (X-CSRF-Token header or `_csrf` field). */
export function csrfTokenOf(res: Response): string | undefined {
  return locals(res).csrfToken;
}

export function authLocals(res: Response): AuthLocals {
  return locals(res);
}
