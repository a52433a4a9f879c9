// Development identity provider (oidc-loa3.md §9; issue 4 "Development identity provider"), built on panva's
// oidc-provider 9 with its in-memory adapter. DEVELOPMENT ONLY: fixed personas, passwords and client secrets.
// It issues ID tokens with the Swedish claims (CLAIMS-SE) and acr per persona, JWT access tokens (RFC 9068) for
// the API audience, and has a "misbehaving" switch that ignores essential-acr requests so tests can prove the
// gateway checks acr itself (oidc-loa3.md §9.5 scenario 2).
import { createPrivateKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';
import * as jose from 'jose';
import Provider, { errors, interactionPolicy, type Configuration, type KoaContextWithOIDC, type ClientMetadata } from 'oidc-provider';
import { createLogger, type Logger } from '../../../src/lib/logger.js';
import { DEV_ACR, devClients, devUsers, type DevClient, type DevUser } from './users.js';
import { loginPage, simplePage } from './pages.js';

export { DEV_ACR, DEV_PASSWORD, devClients, devUsers, signingServiceClient, type DevClient, type DevUser } from './users.js';

export interface DevIdentityProviderOptions {
  /** 0 = any free port. */
  port: number;
  /** Default http://localhost:<port>. */
  issuer?: string;
  /** Gateway base URL for the console client's redirect URIs (default http://localhost:3000). */
  publicUrl?: string;
  /** PKCS#8 PEM signing key (RSA → RS256, EC P-256 → ES256). Default: a fresh P-256 key per start. */
  signingKeyPem?: string;
  /** The `aud` of JWT access tokens (the gateway's API_AUDIENCE). */
  apiAudience: string;
  /** Interface to bind (default 127.0.0.1: loopback only). */
  host?: string;
  logger?: Logger;
  /**
   * More dev clients besides devClients(publicUrl), e.g. the signing-service simulator's code-flow client, whose
   * redirect URI is on its own origin (started first, so its port is known): see signingServiceClient().
   */
  extraClients?: DevClient[];
}

/** Switches tests flip at run time. */
export interface DevIdentityProviderMode {
  /** Misbehave: ignore essential acr requests and issue whatever acr the persona has (oidc-loa3.md §9.5 scenario 2). */
  ignoreEssentialAcr: boolean;
}

export interface DevIdentityProvider {
  issuer: string;
  url: string;
  close(): Promise<void>;
  /** The personas (mutable: tests may change a persona's acr). */
  users: DevUser[];
  clients: DevClient[];
  mode: DevIdentityProviderMode;
  /** kid and alg of the signing key (for test token forges). */
  keyId: string;
  alg: 'ES256' | 'RS256';
}

const CLAIMS_SE = 'https://id.oidc.se/claim/';
const SCOPE_SE = 'https://id.oidc.se/scope/';

function signingKey(pem: string | undefined): { key: KeyObject; alg: 'ES256' | 'RS256' } {
  const key = pem !== undefined ? createPrivateKey(pem) : generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  if (key.asymmetricKeyType === 'rsa') return { key, alg: 'RS256' };
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return { key, alg: 'ES256' };
  throw new Error('dev identity provider: signingKeyPem must be an RSA or EC P-256 private key');
}

function userClaims(u: DevUser): Record<string, unknown> {
  const c: Record<string, unknown> = {
    sub: u.sub,
    given_name: u.givenName,
    family_name: u.familyName,
    name: `${u.givenName} ${u.familyName}`,
  };
  if (u.personalIdentityNumber !== undefined) c[`${CLAIMS_SE}personalIdentityNumber`] = u.personalIdentityNumber;
  if (u.coordinationNumber !== undefined) c[`${CLAIMS_SE}coordinationNumber`] = u.coordinationNumber;
  if (u.orgNumber !== undefined) c[`${CLAIMS_SE}orgNumber`] = u.orgNumber;
  if (u.orgName !== undefined) c[`${CLAIMS_SE}orgName`] = u.orgName;
  if (u.orgAffiliation !== undefined) c[`${CLAIMS_SE}orgAffiliation`] = u.orgAffiliation;
  if (u.hsaId !== undefined) c.employeeHsaId = u.hsaId;
  if (u.roles !== undefined) c.roles = u.roles;
  return c;
}

/** The essential acr request of an authorization request, if any (Core §5.5.1.1). */
function essentialAcrs(claimsParam: unknown): string[] | undefined {
  if (typeof claimsParam !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(claimsParam);
    const acr = (parsed as { id_token?: { acr?: { essential?: unknown; value?: unknown; values?: unknown } } }).id_token?.acr;
    if (acr?.essential !== true) return undefined;
    if (typeof acr.value === 'string') return [acr.value];
    if (Array.isArray(acr.values)) return acr.values.filter((v): v is string => typeof v === 'string');
  } catch {
    return undefined;
  }
  return undefined;
}

export async function startDevIdentityProvider(opts: DevIdentityProviderOptions): Promise<DevIdentityProvider> {
  const logger = opts.logger ?? createLogger({ level: 'info' });
  const host = opts.host ?? '127.0.0.1';
  const app = express();
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const issuer = (opts.issuer ?? `http://localhost:${port}`).replace(/\/$/, '');
  const publicUrl = opts.publicUrl ?? 'http://localhost:3000';
  const users = devUsers();
  const clients = [...devClients(publicUrl), ...(opts.extraClients ?? [])];
  const mode: DevIdentityProviderMode = { ignoreEssentialAcr: false };
  const { key, alg } = signingKey(opts.signingKeyPem);
  const jwk = await jose.exportJWK(key);
  const keyId = await jose.calculateJwkThumbprint(jwk);

  // Essential-acr checks of the login prompt, switchable off for the misbehaving mode.
  const policy = interactionPolicy.base();
  const loginPrompt = policy.get('login');
  for (const reason of ['essential_acr', 'essential_acrs']) {
    const check = loginPrompt?.checks.get(reason);
    if (check === undefined) throw new Error(`oidc-provider has no ${reason} check`);
    const honest = check.check.bind(check);
    check.check = (ctx) => (mode.ignoreEssentialAcr ? false : honest(ctx));
  }

  const clientMetadata: ClientMetadata[] = clients.map((c) => ({
    client_id: c.clientId,
    client_secret: c.clientSecret,
    grant_types: c.grantTypes,
    response_types: c.grantTypes.includes('authorization_code') ? ['code'] : [],
    redirect_uris: c.redirectUris,
    post_logout_redirect_uris: c.postLogoutRedirectUris,
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: alg,
    require_auth_time: true,
  }));

  const configuration: Configuration = {
    clients: clientMetadata,
    jwks: { keys: [{ ...jwk, kid: keyId, alg, use: 'sig' } as jose.JWK] } as Configuration['jwks'],
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    acrValues: Object.values(DEV_ACR),
    scopes: ['openid'],
    claims: {
      openid: ['sub'],
      acr: null,
      auth_time: null,
      sid: null,
      [`${SCOPE_SE}naturalPersonNumber`]: [`${CLAIMS_SE}personalIdentityNumber`, `${CLAIMS_SE}coordinationNumber`],
      [`${SCOPE_SE}naturalPersonInfo`]: ['family_name', 'given_name', 'middle_name', 'name', 'birthdate'],
      [`${SCOPE_SE}naturalPersonOrgId`]: ['name', `${CLAIMS_SE}orgAffiliation`, `${CLAIMS_SE}orgName`, `${CLAIMS_SE}orgNumber`],
      employeeHsaId: null,
      roles: null,
    },
    // CLAIMS-SE puts the identity claims in the ID token (oidc-loa3.md §11.14).
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    findAccount: (_ctx, sub) => {
      const u = users.find((x) => x.sub === sub);
      if (u === undefined) return undefined;
      return { accountId: u.sub, claims: () => ({ ...userClaims(u), sub: u.sub }) as { sub: string } };
    },
    interactions: { policy, url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // First-party dev clients only: consent is implied, so grant what was asked (oidc-loa3.md §9.3).
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(ctx.oidc.client?.clientId ?? '');
      if (grantId !== undefined) {
        const existing = await ctx.oidc.provider.Grant.find(grantId);
        if (existing !== undefined) {
          existing.addOIDCScope([...ctx.oidc.requestParamOIDCScopes].join(' '));
          existing.addOIDCClaims([...ctx.oidc.requestParamClaims]);
          await existing.save();
          return existing;
        }
      }
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client?.clientId ?? '', accountId: ctx.oidc.session?.accountId ?? '' });
      grant.addOIDCScope([...ctx.oidc.requestParamOIDCScopes].join(' '));
      grant.addOIDCClaims([...ctx.oidc.requestParamClaims]);
      await grant.save();
      return grant;
    },
    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: true },
      clientCredentials: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          ctx.body = simplePage('Logga ut', `<p>Vill du logga ut från utvecklingsleverantören? / Sign out of the development provider?</p>${form}
<button type="submit" form="op.logoutForm" value="yes" name="logout" id="op-logout-yes">Ja, logga ut / Yes, sign out</button>`);
        },
        postLogoutSuccessSource: (ctx) => {
          ctx.body = simplePage('Utloggad', '<p>Du är utloggad från utvecklingsleverantören. / Signed out.</p>');
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: (ctx, _client, oneOf) => {
          if (oneOf !== undefined) return oneOf;
          // Client-credentials calls without `resource` still get an API token; the console's login gets none.
          return ctx.oidc.route === 'token' && ctx.oidc.params?.grant_type === 'client_credentials' ? opts.apiAudience : (undefined as unknown as string);
        },
        useGrantedResource: () => false,
        getResourceServerInfo: (_ctx, resource, client) => {
          if (resource !== opts.apiAudience) throw new errors.InvalidTarget();
          const allowed = clients.find((c) => c.clientId === client.clientId)?.scopes ?? [];
          return {
            scope: allowed.join(' '),
            audience: opts.apiAudience,
            accessTokenFormat: 'jwt',
            accessTokenTTL: 900,
            jwt: { sign: { alg } },
          };
        },
      },
    },
    issueRefreshToken: () => false,
    ttl: { AuthorizationCode: 60, IdToken: 300, AccessToken: 900, ClientCredentials: 900, Session: 3600, Interaction: 600, Grant: 3600 },
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = simplePage('Fel', Object.entries(out).map(([k, v]) => `<p><strong>${escape(k)}</strong>: ${escape(String(v))}</p>`).join(''));
    },
  };

  const provider = new Provider(issuer, configuration);
  provider.on('server_error', (_ctx: unknown, err: unknown) => logger.error({ event: 'DEV_IDP_SERVER_ERROR', err }, 'dev identity provider error'));

  const form = express.urlencoded({ extended: false, limit: '8kb' });

  app.get('/interaction/:uid', async (req: Request, res: Response) => {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name === 'login') {
      const clientId = typeof details.params.client_id === 'string' ? details.params.client_id : '';
      res.type('html').send(loginPage({ uid: details.uid, clientId, requested: essentialAcrs(details.params.claims) ?? [], users }));
      return;
    }
    // Consent is implied for the first-party dev clients (loadExistingGrant); anything else ends the flow.
    await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'unsupported interaction' }, { mergeWithLastSubmission: false });
  });

  app.post('/interaction/:uid/login', form, async (req: Request, res: Response) => {
    const details = await provider.interactionDetails(req, res);
    const body = req.body as Record<string, unknown>;
    const user = users.find((u) => u.username === body.username && u.password === body.password);
    if (user === undefined) {
      const clientId = typeof details.params.client_id === 'string' ? details.params.client_id : '';
      res.status(401).type('html').send(loginPage({ uid: details.uid, clientId, requested: essentialAcrs(details.params.claims) ?? [], users, error: 'Fel användarnamn eller lösenord. / Wrong username or password.' }));
      return;
    }
    const wanted = essentialAcrs(details.params.claims);
    // An honest OP that cannot meet an essential acr refuses (Core §5.5.1.1; oidc-loa3.md §9.5 scenario 1).
    if (wanted !== undefined && !mode.ignoreEssentialAcr && (user.acr === null || !wanted.includes(user.acr))) {
      logger.info({ event: 'DEV_IDP_ACR_UNMET', user: user.username }, 'requested acr not available for this persona');
      await provider.interactionFinished(req, res, {
        error: 'unmet_authentication_requirements',
        error_description: 'the requested assurance level cannot be met by this user',
      }, { mergeWithLastSubmission: false });
      return;
    }
    await provider.interactionFinished(req, res, {
      login: { accountId: user.sub, amr: ['pwd'], ts: Math.floor(Date.now() / 1000), ...(user.acr !== null ? { acr: user.acr } : {}) },
    }, { mergeWithLastSubmission: false });
  });

  app.post('/interaction/:uid/abort', form, async (req: Request, res: Response) => {
    await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'End-User aborted interaction' }, { mergeWithLastSubmission: false });
  });

  app.use(provider.callback());
  app.use((err: unknown, _req: Request, res: Response, _next: express.NextFunction) => {
    logger.warn({ event: 'DEV_IDP_INTERACTION_FAILED', err }, 'dev identity provider interaction failed');
    if (!res.headersSent) res.status(400).type('html').send(simplePage('Fel', '<p>Inloggningen kunde inte fortsätta (sessionen kan ha gått ut). / The sign-in could not continue.</p>'));
  });

  logger.warn({ event: 'DEV_IDP_STARTED', issuer }, `DEVELOPMENT ONLY: dev identity provider (oidc-provider, in-memory store, fixed passwords and client secrets) at ${issuer}. Never use it in production.`);

  return {
    issuer,
    url: `http://${host === '127.0.0.1' || host === 'localhost' ? 'localhost' : host}:${port}`,
    users,
    clients,
    mode,
    keyId,
    alg,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
