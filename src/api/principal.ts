// Reading the authenticated principal that src/auth put on res.locals.
import type { Response } from 'express';
import { unauthorized } from '../domain/errors.js';
import { principalId, type Principal } from '../domain/principal.js';

export function principalOf(res: Response): Principal {
  const p = res.locals.principal as Principal | undefined;
  if (!p) throw unauthorized();
  return p;
}

/** The owner string stored on rows a principal creates (principalId). */
export function ownerOf(res: Response): string {
  return principalId(principalOf(res));
}
