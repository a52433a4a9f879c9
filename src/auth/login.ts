// People's login: authorization code + PKCE (S256) + state + nonce at LoA3 (oidc-loa3.md §4.1, §5.1, §8;
// issue 4 "People"). openid-client checks state, iss, aud, exp, nonce and (with non-repudiation checks on)
// the ID-token signature; everything after that — acr, azp, iat freshness, auth_time, identity, provisioning —
// is ours. Every refusal creates no session, writes LOGIN_REFUSED and shows a page that says why.
import type { Request, Response } from 'express';
import type pg from 'pg';
import * as client from 'openid-client';
import { publicUrl, type Config } from '../config/index.js';
import { AppError } from '../domain/errors.js';
import { principalId, type Role } from '../domain/principal.js';
import type { Logger } from '../lib/logger.js';
import { currentCorrelationId } from '../lib/correlation.js';
import type { AuditTrail } from '../ports/audit.port.js';
import { withTransaction } from '../store/database.js';
import { SessionRepository } from '../store/session.repository.js';
import { UserRepository, isRole } from '../store/user.repository.js';
import { acrRequestParameters, checkAcr, requestedAcrValues } from './acr.js';
import { SESSION_COOKIE, TX_COOKIE, clearCookie, randomToken, readCookie, cookieName, safeReturnPath, setCookie, tokenHash } from './cookies.js';
import { CLAIMS, IDENTITY_SCOPES, identityFromClaims, identityHash, subjectHash } from './identity.js';
import type { OidcRp } from './oidc.js';
import { refusalPage, type RefusalReason, type RefusalView } from './pages.js';

/** A login transaction is valid this long (oidc-loa3.md §8.2 Max-Age=600). */
export const LOGIN_TX_MAX_AGE_SECONDS = 600;
/** Clock skew for our own ID-token time checks (openid-client uses the same 30 s default). */
const SKEW_SECONDS = 30;
/** An ID token issued longer ago than this is stale even if `exp` says otherwise (oidc-loa3.md §5.1 6.5). */
const ID_TOKEN_MAX_IAT_AGE_SECONDS = 600;

export interface LoginDeps {
  config: Config;
  pool: pg.Pool;
  audit: AuditTrail;
  logger: Logger;
  rp: OidcRp;
}

class Refusal extends Error {
  constructor(readonly view: Omit<RefusalView, 'correlationId'>, readonly details: Record<string, unknown> = {}) {
    super(view.reason);
  }
}

const refuse = (reason: RefusalReason, extra: Partial<RefusalView> = {}, details: Record<string, unknown> = {}): Refusal =>
  new Refusal({ reason, ...extra }, details);

/**
 * Map an openid-client failure to a refusal reason, without exposing library text to the user. openid-client
 * wraps oauth4webapi's OperationProcessingError in a ClientError, so the whole cause chain is inspected.
 */
function classify(err: unknown): Refusal {
  if (err instanceof client.ResponseBodyError) return refuse('TOKEN_EXCHANGE_FAILED', {}, { opError: err.error });
  if (err instanceof client.AuthorizationResponseError) return refuse('IDP_ERROR', { idpError: err.error });
  if (err instanceof AppError && err.code === 'IDP_UNAVAILABLE') return refuse('TOKEN_EXCHANGE_FAILED', {}, { code: err.code });
  const messages: string[] = [];
  const codes: string[] = [];
  let claim: string | undefined;
  let e: unknown = err;
  for (let depth = 0; depth < 4 && typeof e === 'object' && e !== null; depth++) {
    if (e instanceof Error) messages.push(e.message);
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    const c = (e as { claim?: unknown }).claim;
    if (claim === undefined && typeof c === 'string') claim = c;
    e = (e as { cause?: unknown }).cause;
  }
  const text = messages.join(' | ');
  const code = codes.find((c) => c.startsWith('OAUTH_'));
  if (claim === 'nonce' || text.includes('"nonce"')) return refuse('NONCE_MISMATCH', {}, { code });
  if (text.includes('"state"')) return refuse('STATE_MISMATCH', {}, { code });
  if (code !== undefined) return refuse('ID_TOKEN_INVALID', {}, { code, ...(claim !== undefined ? { claim } : {}) });
  return refuse('TOKEN_EXCHANGE_FAILED', {}, { code: codes[0] ?? 'NETWORK' });
}

export class LoginFlow {
  private readonly sessions = new SessionRepository();
  private readonly users = new UserRepository();
  private readonly base: string;

  constructor(private readonly d: LoginDeps) {
    this.base = publicUrl(d.config);
  }

  get redirectUri(): string {
    return `${this.base}/auth/callback`;
  }

  get postLogoutRedirectUri(): string {
    return `${this.base}/logged-out`;
  }

  /** GET /login: store a transaction server side and send the browser to the OP. */
  async start(req: Request, res: Response): Promise<void> {
    const cfg = await this.d.rp.configuration();
    const txId = randomToken();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const codeVerifier = client.randomPKCECodeVerifier();
    const returnTo = safeReturnPath(req.query.returnTo);
    await this.sessions.deleteExpired(this.d.pool, this.limits(), LOGIN_TX_MAX_AGE_SECONDS);
    await this.sessions.createTransaction(this.d.pool, tokenHash(txId), { state, nonce, codeVerifier, returnTo });
    const c = this.d.config;
    const extra: Record<string, { essential?: boolean } | null> = { auth_time: { essential: true }, [CLAIMS.employeeHsaId]: null };
    if (c.OIDC_ROLES_CLAIM !== '') extra[c.OIDC_ROLES_CLAIM] = null;
    const url = client.buildAuthorizationUrl(cfg, {
      redirect_uri: this.redirectUri,
      scope: ['openid', IDENTITY_SCOPES.naturalPersonNumber, IDENTITY_SCOPES.naturalPersonInfo, IDENTITY_SCOPES.naturalPersonOrgId].join(' '),
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      // SC-OIDC §3.1: re-authenticate on every interactive login, so auth_time and acr are fresh.
      prompt: 'login',
      ...acrRequestParameters(c.OIDC_ACR_REQUEST_MODE, requestedAcrValues(c.OIDC_REQUESTED_ACR, c.OIDC_ACCEPTED_ACR), extra),
    });
    setCookie(req, res, TX_COOKIE, txId, { maxAge: LOGIN_TX_MAX_AGE_SECONDS });
    this.d.logger.debug({ event: 'LOGIN_STARTED' }, 'login started');
    res.redirect(303, url.href);
  }

  /** GET /auth/callback: validate everything, then create the session — or refuse with a page. */
  async callback(req: Request, res: Response): Promise<void> {
    const txId = readCookie(req, cookieName(req, TX_COOKIE));
    clearCookie(req, res, TX_COOKIE);
    try {
      const outcome = await this.complete(req, txId);
      setCookie(req, res, SESSION_COOKIE, outcome.sessionToken);
      res.redirect(303, outcome.returnTo);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      await this.refused(res, err);
    }
  }

  private limits(): { idleMinutes: number; absoluteHours: number } {
    return { idleMinutes: this.d.config.SESSION_IDLE_MINUTES, absoluteHours: this.d.config.SESSION_ABSOLUTE_HOURS };
  }

  private async complete(req: Request, txId: string | undefined): Promise<{ sessionToken: string; returnTo: string }> {
    const c = this.d.config;
    // 1. One-shot transaction (deleted whatever the outcome), at most 10 minutes old.
    const tx = txId === undefined ? undefined : await this.sessions.takeTransaction(this.d.pool, tokenHash(txId));
    if (tx === undefined || tx.ageSeconds > LOGIN_TX_MAX_AGE_SECONDS) throw refuse('LOGIN_TX_INVALID');
    // 2. An error from the OP (unmet_authentication_requirements, access_denied, …).
    const idpError = typeof req.query.error === 'string' ? req.query.error : undefined;
    if (idpError !== undefined) throw refuse('IDP_ERROR', { idpError: /^[a-z_]{1,64}$/.test(idpError) ? idpError : 'invalid' });
    // 3–6. RFC 9207 iss, state, code exchange with PKCE, ID token signature / iss / aud / exp / nonce.
    const cfg = await this.d.rp.configuration();
    const search = new URL(req.originalUrl, 'http://x').search;
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(cfg, new URL(`${this.redirectUri}${search}`), {
        pkceCodeVerifier: tx.codeVerifier,
        expectedState: tx.state,
        expectedNonce: tx.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      throw classify(err);
    }
    const claims = tokens.claims();
    const idToken = tokens.id_token;
    if (claims === undefined || idToken === undefined) throw refuse('ID_TOKEN_INVALID');
    const issuer = cfg.serverMetadata().issuer;
    const sHash = subjectHash(issuer, claims.sub);
    const now = Math.floor(Date.now() / 1000);
    // Checks openid-client leaves to us (oidc-loa3.md §5.2 table).
    if (claims.azp !== undefined && claims.azp !== this.d.rp.clientId) throw refuse('ID_TOKEN_INVALID', {}, { check: 'azp', subjectHash: sHash });
    if (claims.iat > now + SKEW_SECONDS || claims.iat < now - ID_TOKEN_MAX_IAT_AGE_SECONDS) throw refuse('ID_TOKEN_INVALID', {}, { check: 'iat', subjectHash: sHash });
    // 6.7 acr ∈ accepted set, exact string (openid-client does not look at acr).
    const acr = checkAcr(claims.acr, c.OIDC_ACCEPTED_ACR);
    if (!acr.ok) {
      const extra: Partial<RefusalView> = {};
      if (acr.acr !== undefined) extra.acr = acr.acr;
      throw refuse(acr.reason, extra, { acr: acr.acr ?? null, subjectHash: sHash });
    }
    // 6.8 auth_time present and not older than this transaction (we sent prompt=login).
    const authTime = claims.auth_time;
    const txStart = Math.floor(tx.createdAt.getTime() / 1000);
    if (typeof authTime !== 'number' || authTime > now + SKEW_SECONDS || authTime < txStart - SKEW_SECONDS) {
      throw refuse('AUTH_TIME_INVALID', {}, { subjectHash: sHash, acr: acr.acr });
    }
    // 6.9 identity claim.
    const id = identityFromClaims(claims);
    if (!id.ok) throw refuse(id.reason, {}, { subjectHash: sHash, acr: acr.acr });
    const identity = id.identity;
    const claimRoles = this.rolesFromClaim(claims);
    // 7–8. Provisioned, enabled user → new session, in one transaction with the audit row.
    const sessionToken = randomToken();
    const csrfToken = randomToken();
    const amr = Array.isArray(claims.amr) ? claims.amr.filter((x): x is string => typeof x === 'string') : [];
    const sid = typeof claims.sid === 'string' ? claims.sid : undefined;
    const result = await withTransaction(this.d.pool, async (db) => {
      let user = await this.users.findByIdentity(db, identity.key.type, identityHash(identity.key));
      if (user === undefined && claimRoles.length > 0) {
        // OIDC_ROLES_CLAIM configured and the OP says this person has a Sändebud role: provision on first login.
        user = await this.users.create(db, {
          identityType: identity.key.type, identityHash: identityHash(identity.key), roles: [], createdBy: 'system',
          ...(identity.name !== undefined ? { displayName: identity.name } : {}),
        });
        await this.d.audit.record({ type: 'USER_PROVISIONED', actor: 'system', subject: user.id, outcome: 'success', details: { via: 'roles-claim', roles: claimRoles } }, db);
      }
      if (user === undefined) return { refused: 'USER_NOT_PROVISIONED' as const, userId: '', roles: [] };
      if (!user.enabled) return { refused: 'USER_DISABLED' as const, userId: user.id, roles: [] };
      await this.users.recordLogin(db, user.id, issuer, claims.sub, identity.name);
      await this.sessions.create(db, {
        idHash: tokenHash(sessionToken), userId: user.id, issuer, sub: claims.sub, acr: acr.acr, amr,
        authTime: new Date(authTime * 1000), idToken, csrfToken, claimRoles,
        ...(sid !== undefined ? { sid } : {}),
        ...(identity.name !== undefined ? { displayName: identity.name } : {}),
        ...(identity.orgNumber !== undefined ? { orgNumber: identity.orgNumber } : {}),
        ...(identity.hsaId !== undefined ? { hsaId: identity.hsaId } : {}),
      });
      const roles = [...new Set([...user.roles, ...claimRoles])];
      await this.d.audit.record({
        type: 'LOGIN_SUCCEEDED', actor: principalId({ kind: 'person', sub: claims.sub, issuer, acr: acr.acr, roles, sessionId: '' }),
        subject: user.id, outcome: 'success', details: { issuer, acr: acr.acr, amr, identityType: identity.key.type, roles },
      }, db);
      return { refused: undefined, userId: user.id, roles };
    });
    if (result.refused !== undefined) throw refuse(result.refused, {}, { subjectHash: sHash, acr: acr.acr, identityType: identity.key.type });
    this.d.logger.info({ event: 'LOGIN_SUCCEEDED', userId: result.userId, acr: acr.acr, roles: result.roles }, 'login succeeded');
    return { sessionToken, returnTo: tx.returnTo };
  }

  private rolesFromClaim(claims: Record<string, unknown>): Role[] {
    const name = this.d.config.OIDC_ROLES_CLAIM;
    if (name === '') return [];
    const v = claims[name];
    const values = Array.isArray(v) ? v : typeof v === 'string' ? v.split(/[\s,]+/) : [];
    return [...new Set(values.filter(isRole))];
  }

  private async refused(res: Response, r: Refusal): Promise<void> {
    const correlationId = typeof res.locals.correlationId === 'string' ? res.locals.correlationId : currentCorrelationId();
    const view: RefusalView = { ...r.view };
    if (correlationId !== undefined) view.correlationId = correlationId;
    const details: Record<string, unknown> = { reason: r.view.reason, issuer: this.d.config.OIDC_ISSUER, ...r.details };
    if (r.view.idpError !== undefined) details.idpError = r.view.idpError;
    await this.d.audit.record({ type: 'LOGIN_REFUSED', actor: 'anonymous', outcome: 'failure', details, ...(correlationId !== undefined ? { correlationId } : {}) });
    this.d.logger.warn({ event: 'LOGIN_REFUSED', reason: r.view.reason, idpError: r.view.idpError, code: r.details.code, check: r.details.check }, 'login refused');
    const status = r.view.reason === 'TOKEN_EXCHANGE_FAILED' ? 502 : 403;
    res.status(status).type('html').setHeader('Cache-Control', 'no-store');
    res.send(refusalPage(view));
  }
}
