// Login at LoA3 and authorization (issue 4; ../shared/specs/oidc-loa3.md): the one factory the HTTP app wires.
// People sign in with OIDC code + PKCE at LoA3 and get a server-side session; systems call with bearer JWT
// access tokens from the same OP; grants per function address decide which data anyone may touch.
import type express from 'express';
import type { RequestHandler } from 'express';
import type pg from 'pg';
import type * as jose from 'jose';
import type { Config } from '../config/index.js';
import type { Role } from '../domain/principal.js';
import type { Logger } from '../lib/logger.js';
import type { AuditTrail } from '../ports/audit.port.js';
import { BearerVerifier } from './bearer.js';
import { bootstrapAdmins } from './bootstrap.js';
import { createGrantChecker, type GrantChecker } from './grants.js';
import { LoginFlow } from './login.js';
import { createAuthenticate, createCsrf, requirePrincipal, requireRecentAuthentication, requireRole, requireScopes } from './middleware.js';
import { OidcRp, type OidcFetch } from './oidc.js';
import { createAuthRouter } from './router.js';

export type { GrantChecker } from './grants.js';
export { principalOf, authMethodOf, csrfTokenOf } from './locals.js';
export { mtlsServerOptions, clientCertificate, type ClientCertificate } from './mtls.js';
export * from './scopes.js';
export { LOA } from './acr.js';
export { provisionUser, type ProvisionRequest } from './provision.js';
export type { IdentityType } from './identity.js';

export interface AuthDeps {
  config: Config;
  pool: pg.Pool;
  audit: AuditTrail;
  logger: Logger;
  /**
   * Test hook only (oidc-loa3.md §9.6): replaces the HTTP client openid-client uses towards the OP, so tests
   * can substitute forged ID tokens in a real token-endpoint response. Never set in production wiring.
   */
  oidcFetch?: OidcFetch;
  /** Test hook only: fetch used to load the OP's JWKS for bearer tokens. */
  jwksFetch?: jose.FetchImplementation;
}

export interface Auth {
  /** Mounted at '/': GET /login, GET /auth/callback, POST /logout, GET /me, GET /logged-out (refusals render at the callback). */
  router: express.Router;
  /** Sets res.locals.principal from a Bearer JWT or the session cookie; never rejects by itself. Idempotent per request. */
  authenticate: RequestHandler;
  /** 401 problem+json (400 for a malformed bearer request) when authenticate found no principal. */
  requirePrincipal: RequestHandler;
  /** Systems need every scope (403 INSUFFICIENT_SCOPE); persons are not scope-checked — roles and grants apply to them. */
  requireScopes(...scopes: string[]): RequestHandler;
  /** Persons need one of the roles (403 ROLE_REQUIRED); systems always get 403. */
  requireRole(...roles: Role[]): RequestHandler;
  /** Persons must have authenticated at the OP within 10 minutes (sensitive admin changes); systems pass. */
  requireRecentAuthentication: RequestHandler;
  /** Synchronizer-token + Origin check for state-changing requests authenticated by the session cookie. */
  csrf: RequestHandler;
  /** Function-address grants: canSend, canRead, readableAddresses (list filtering), assert, require. */
  grants: GrantChecker;
  close(): Promise<void>;
}

export async function createAuth(deps: AuthDeps): Promise<Auth> {
  const { config, pool, audit, logger } = deps;
  const rp = new OidcRp({
    issuer: config.OIDC_ISSUER, clientId: config.OIDC_CLIENT_ID, clientSecret: config.OIDC_CLIENT_SECRET,
    ...(deps.oidcFetch !== undefined ? { fetch: deps.oidcFetch } : {}),
  });
  const bearer = new BearerVerifier({ rp, audience: config.API_AUDIENCE, ...(deps.jwksFetch !== undefined ? { fetch: deps.jwksFetch } : {}) });
  const grants = createGrantChecker({ pool, audit });
  const authenticate = createAuthenticate({ config, pool, logger, bearer });
  const csrf = createCsrf(config);
  const flow = new LoginFlow({ config, pool, audit, logger, rp });
  await bootstrapAdmins({ pool, audit, logger }, config.BOOTSTRAP_ADMINS);
  const nonNotified = config.OIDC_ACCEPTED_ACR.filter((a) => /\/eidas-(sub|high)$|uncertified|nonresident/.test(a));
  if (nonNotified.length > 0) {
    logger.warn({ event: 'ACR_OPT_IN', acr: nonNotified }, 'OIDC_ACCEPTED_ACR accepts values that oidc-loa3.md §3.2 leaves off by default; make sure this is a documented risk decision');
  }
  // Warm the discovery cache without making start-up depend on the OP being up.
  rp.configuration().catch((err: unknown) => logger.warn({ event: 'IDP_DISCOVERY_FAILED', err }, 'OpenID Provider discovery failed; retried on first use'));
  const router = createAuthRouter({ flow, rp, pool, audit, logger, grants, authenticate, csrf });
  return {
    router,
    authenticate,
    requirePrincipal,
    requireScopes,
    requireRole,
    requireRecentAuthentication: requireRecentAuthentication(),
    csrf,
    grants,
    close: async () => undefined,
  };
}
