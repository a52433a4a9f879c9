// Bearer JWT access tokens from case-management systems (oidc-loa3.md §6.1–6.2, RFC 9068, RFC 6750).
// Verified with jose against the configured OP's JWKS (createRemoteJWKSet: cached, refetched on an unknown kid
// after a cooldown, so key rotation works without a restart). Keys are never taken from token headers.
import * as jose from 'jose';
import { AppError } from '../domain/errors.js';
import type { SystemPrincipal } from '../domain/principal.js';
import type { OidcRp } from './oidc.js';
import { parseScope } from './scopes.js';

/** Asymmetric algorithms only: never `none`, never HS* (a public key must not double as an HMAC secret). */
export const ACCESS_TOKEN_ALGORITHMS = ['ES256', 'ES384', 'RS256', 'PS256'];
/** Longest accepted access-token lifetime, `exp − iat` (B1.4.2: at most 30 minutes; oidc-loa3.md §11.13). */
export const MAX_ACCESS_TOKEN_LIFETIME_SECONDS = 1800;
/** Clock skew tolerated on exp / nbf / iat. */
export const CLOCK_TOLERANCE_SECONDS = 30;
/** B1.4.2's entitlement claim (oidc-loa3.md §6.5). */
export const AUTH_ID_CLAIM = 'urn:sdk.digg.se:auth_id';

export interface BearerVerifierOptions {
  rp: OidcRp;
  audience: string;
  /** Test hook: fetch used for the JWKS. */
  fetch?: jose.FetchImplementation;
}

const invalid = (code: string, message: string): AppError => new AppError(code, message, { status: 401 });

/** RFC 6750 §3.1 header value for a rejected token. The message is ours, never the library's. */
export function bearerChallenge(err: AppError): string {
  if (err.code === 'TOKEN_MISSING') return 'Bearer realm="sandebud"';
  if (err.status === 400) return 'Bearer realm="sandebud", error="invalid_request"';
  return `Bearer realm="sandebud", error="invalid_token", error_description="${err.message.replace(/"/g, "'")}"`;
}

export class BearerVerifier {
  private jwks: ReturnType<typeof jose.createRemoteJWKSet> | undefined;
  private jwksUri: string | undefined;

  constructor(private readonly opts: BearerVerifierOptions) {}

  private async keySet(): Promise<{ issuer: string; keys: ReturnType<typeof jose.createRemoteJWKSet> }> {
    const meta = await this.opts.rp.metadata();
    if (this.jwks === undefined || this.jwksUri !== meta.jwksUri) {
      const o: jose.RemoteJWKSetOptions = { cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000, timeoutDuration: 5_000 };
      if (this.opts.fetch !== undefined) o[jose.customFetch] = this.opts.fetch;
      this.jwks = jose.createRemoteJWKSet(new URL(meta.jwksUri), o);
      this.jwksUri = meta.jwksUri;
    }
    return { issuer: meta.issuer, keys: this.jwks };
  }

  /** Verify one access token (oidc-loa3.md §6.2 checks 2–7). Throws a 401 AppError with a stable code. */
  async verify(token: string): Promise<SystemPrincipal> {
    if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token)) throw invalid('TOKEN_MALFORMED', 'The access token is not a signed JWT.');
    let header: jose.ProtectedHeaderParameters;
    try {
      header = jose.decodeProtectedHeader(token);
    } catch {
      throw invalid('TOKEN_MALFORMED', 'The access token is not a signed JWT.');
    }
    // Header checks before any key lookup (ASVS 5 9.1.3, 9.2.2).
    if (header.crit !== undefined) throw invalid('TOKEN_INVALID', 'The access token uses unsupported critical headers.');
    if (typeof header.alg !== 'string' || !ACCESS_TOKEN_ALGORITHMS.includes(header.alg)) throw invalid('TOKEN_ALGORITHM', 'The access token algorithm is not allowed.');
    const { issuer, keys } = await this.keySet();
    let payload: jose.JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(token, keys, {
        issuer,
        audience: this.opts.audience,
        algorithms: ACCESS_TOKEN_ALGORITHMS,
        typ: 'at+jwt',
        requiredClaims: ['iss', 'exp', 'aud', 'sub', 'iat', 'jti'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      }));
    } catch (err) {
      throw mapJoseError(err);
    }
    const now = Math.floor(Date.now() / 1000);
    const iat = payload.iat ?? 0;
    const exp = payload.exp ?? 0;
    if (iat > now + CLOCK_TOLERANCE_SECONDS) throw invalid('TOKEN_INVALID', 'The access token was issued in the future.');
    if (exp - iat > MAX_ACCESS_TOKEN_LIFETIME_SECONDS) throw invalid('TOKEN_LIFETIME', 'The access token lives longer than allowed.');
    const clientId = payload.client_id;
    if (typeof clientId !== 'string' || clientId.length === 0) throw invalid('TOKEN_INVALID', 'The access token names no client.');
    // Client-credentials tokens only: a token issued for a user is not accepted on the system API (SDG-OAUTH §4.2.1).
    if (payload.sub !== clientId) throw invalid('TOKEN_NOT_CLIENT', 'The access token was not issued to a system.');
    const principal: SystemPrincipal = { kind: 'system', clientId, issuer, scopes: parseScope(payload.scope) };
    const authId = payload[AUTH_ID_CLAIM];
    if (authId !== undefined) {
      const values = (Array.isArray(authId) ? authId : [authId]).filter((v): v is string => typeof v === 'string');
      principal.authIds = values;
    }
    return principal;
  }
}

function mapJoseError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof jose.errors.JWTExpired) return invalid('TOKEN_EXPIRED', 'The access token has expired.');
  if (err instanceof jose.errors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return invalid('TOKEN_AUDIENCE', 'The access token is not meant for this API.');
    if (err.claim === 'iss') return invalid('TOKEN_ISSUER', 'The access token comes from an untrusted issuer.');
    if (err.claim === 'typ') return invalid('TOKEN_TYPE', 'The token is not an access token.');
    return invalid('TOKEN_INVALID', 'The access token claims are invalid.');
  }
  if (err instanceof jose.errors.JWKSNoMatchingKey || err instanceof jose.errors.JWSSignatureVerificationFailed) {
    return invalid('TOKEN_SIGNATURE', 'The access token signature could not be verified.');
  }
  if (err instanceof jose.errors.JOSEAlgNotAllowed) return invalid('TOKEN_ALGORITHM', 'The access token algorithm is not allowed.');
  if (err instanceof jose.errors.JWKSTimeout || err instanceof jose.errors.JWKSInvalid || (err instanceof TypeError && /fetch/i.test(err.message))) {
    return new AppError('IDP_UNAVAILABLE', 'The token issuer\'s keys could not be fetched.', { status: 503, retryable: true, cause: err });
  }
  if (err instanceof jose.errors.JOSEError) return invalid('TOKEN_INVALID', 'The access token is invalid.');
  return new AppError('INTERNAL', 'Token verification failed.', { status: 500, cause: err });
}
