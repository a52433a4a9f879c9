// The relying-party side of the OpenID Provider (oidc-loa3.md §4, §5.2): discovery of the configured issuer
// with openid-client 6, done lazily and cached so the gateway starts even when the OP is briefly down.
// ID-token signatures are checked (enableNonRepudiationChecks): openid-client skips them by default for
// tokens fetched over TLS, and the issue asks for the signature check explicitly.
import * as client from 'openid-client';
import { AppError } from '../domain/errors.js';

export type OidcFetch = client.CustomFetch;

export interface OidcRpOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Test hook: replaces every HTTP call openid-client makes (oidc-loa3.md §9.6 "token forge"). */
  fetch?: OidcFetch;
  timeoutSeconds?: number;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** http:// is tolerated only for a loopback development OP (oidc-loa3.md §9.1). */
export function assertIssuerUrlAllowed(issuer: string): URL {
  let u: URL;
  try {
    u = new URL(issuer);
  } catch {
    throw new AppError('OIDC_ISSUER_INVALID', 'OIDC_ISSUER is not a URL.');
  }
  if (u.protocol === 'https:') return u;
  if (u.protocol === 'http:' && LOOPBACK.has(u.hostname)) return u;
  throw new AppError('OIDC_ISSUER_INSECURE', 'OIDC_ISSUER must use https (plain http is allowed only for a loopback development provider).');
}

export class OidcRp {
  private pending: Promise<client.Configuration> | undefined;

  constructor(private readonly opts: OidcRpOptions) {
    assertIssuerUrlAllowed(opts.issuer);
  }

  get clientId(): string {
    return this.opts.clientId;
  }

  /** The discovered configuration; a failed discovery is retried on the next call. */
  configuration(): Promise<client.Configuration> {
    if (this.pending === undefined) {
      const p = this.discover();
      this.pending = p;
      p.catch(() => {
        if (this.pending === p) this.pending = undefined;
      });
    }
    return this.pending;
  }

  private async discover(): Promise<client.Configuration> {
    const url = assertIssuerUrlAllowed(this.opts.issuer);
    const execute: ((c: client.Configuration) => void)[] = [client.enableNonRepudiationChecks];
    if (url.protocol === 'http:') execute.push(client.allowInsecureRequests);
    const options: client.DiscoveryRequestOptions = { execute, timeout: this.opts.timeoutSeconds ?? 10 };
    if (this.opts.fetch !== undefined) options[client.customFetch] = this.opts.fetch;
    try {
      const cfg = await client.discovery(url, this.opts.clientId, undefined, client.ClientSecretBasic(this.opts.clientSecret), options);
      if (this.opts.fetch !== undefined) cfg[client.customFetch] = this.opts.fetch;
      return cfg;
    } catch (err) {
      throw new AppError('IDP_UNAVAILABLE', 'The identity provider could not be reached.', { status: 503, retryable: true, cause: err });
    }
  }

  /** Issuer and jwks_uri of the discovered metadata (for bearer-token verification). */
  async metadata(): Promise<{ issuer: string; jwksUri: string; endSessionEndpoint?: string }> {
    const m = (await this.configuration()).serverMetadata();
    if (m.jwks_uri === undefined) throw new AppError('IDP_METADATA_INVALID', 'The identity provider publishes no jwks_uri.', { status: 503 });
    const out: { issuer: string; jwksUri: string; endSessionEndpoint?: string } = { issuer: m.issuer, jwksUri: m.jwks_uri };
    if (m.end_session_endpoint !== undefined) out.endSessionEndpoint = m.end_session_endpoint;
    return out;
  }
}
