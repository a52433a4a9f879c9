// Test harness for the dev identity provider (oidc-loa3.md §9.6): starts the real oidc-provider on port 0 with a
// key the test knows, so tests can forge tokens signed by the OP's own key (to reach claim checks) or by a
// rogue key (to reach signature checks), and fetch real client-credentials tokens.
import { generateKeyPairSync } from 'node:crypto';
import * as jose from 'jose';
import { startDevIdentityProvider, type DevIdentityProvider } from '../../adapters/identity/simulator/index.js';
import { testLogger } from './logger.js';

export const API_AUDIENCE = 'urn:sandebud:api';

export interface ForgeOptions {
  /** 'op' signs with the dev OP's key and kid; 'rogue' with a key the OP never published. */
  key?: 'op' | 'rogue' | 'rogue-same-kid';
  typ?: string;
  alg?: string;
}

export interface TestIdp extends DevIdentityProvider {
  signingKeyPem: string;
  /** Sign arbitrary claims as a JWT. */
  forge(claims: jose.JWTPayload, opts?: ForgeOptions): Promise<string>;
  /** A real access token from the token endpoint (client credentials, resource = API audience). */
  clientCredentialsToken(clientId: string, scopes?: string[]): Promise<string>;
  tokenEndpoint(): Promise<string>;
}

export async function startTestIdp(opts: { publicUrl: string; apiAudience?: string }): Promise<TestIdp> {
  const apiAudience = opts.apiAudience ?? API_AUDIENCE;
  const signingKeyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const { logger } = testLogger();
  const idp = await startDevIdentityProvider({ port: 0, publicUrl: opts.publicUrl, signingKeyPem, apiAudience, logger });
  const opKey = await jose.importPKCS8(signingKeyPem, idp.alg);
  const rogue = await jose.generateKeyPair('ES256');

  const tokenEndpoint = async (): Promise<string> => {
    const meta = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as { token_endpoint: string };
    return meta.token_endpoint;
  };

  return {
    ...idp,
    close: idp.close,
    signingKeyPem,
    tokenEndpoint,
    forge: async (claims, o = {}) => {
      const which = o.key ?? 'op';
      const key = which === 'op' ? opKey : rogue.privateKey;
      const kid = which === 'rogue' ? 'rogue-key-1' : idp.keyId;
      const alg = o.alg ?? (which === 'op' ? idp.alg : 'ES256');
      return new jose.SignJWT(claims).setProtectedHeader({ alg, kid, typ: o.typ ?? 'at+jwt' }).sign(key);
    },
    clientCredentialsToken: async (clientId, scopes) => {
      const c = idp.clients.find((x) => x.clientId === clientId);
      if (c === undefined) throw new Error(`no dev client ${clientId}`);
      const body = new URLSearchParams({ grant_type: 'client_credentials', resource: apiAudience, scope: (scopes ?? c.scopes).join(' ') });
      const res = await fetch(await tokenEndpoint(), {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(c.clientSecret)}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
      const json = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
      if (json.access_token === undefined) throw new Error(`token request failed: ${json.error ?? res.status} ${json.error_description ?? ''}`);
      return json.access_token;
    },
  };
}
