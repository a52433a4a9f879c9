// Who is calling: a person logged in through OIDC at LoA3, or a system with a bearer token (issue 4; oidc-loa3.md).
export type Role = 'admin' | 'auditor' | 'caseworker';

export interface PersonPrincipal {
  kind: 'person';
  /** Stable subject id at the OpenID Provider. */
  sub: string;
  issuer: string;
  /** Personal identity number; never log it. */
  personalIdentityNumber?: string;
  name?: string;
  orgNumber?: string;
  hsaId?: string;
  acr: string;
  roles: Role[];
  /** Not the cookie value: a non-secret handle of the server-side session (hex of the stored hash prefix). */
  sessionId: string;
  /** Sändebud's users.id of this person. */
  userId?: string;
  /** When the person authenticated at the OP (ID token auth_time); sensitive admin actions need it recent. */
  authTime?: Date;
}

export interface SystemPrincipal {
  kind: 'system';
  /** OAuth client id of the case-management system. */
  clientId: string;
  issuer: string;
  scopes: string[];
  /**
   * Values of the token's `urn:sdk.digg.se:auth_id` claim when present (oidc-loa3.md §6.5): the function addresses
   * the token may use. Grants are intersected with it; the claim can narrow, never widen.
   */
  authIds?: string[];
  /** SHA-256 fingerprint of the verified mTLS client certificate, when MTLS_CLIENT_CA_FILE is set. */
  clientCertificateFingerprint?: string;
}

export type Principal = PersonPrincipal | SystemPrincipal;

/** The stable identity used in grants and the audit trail: `person:<sub>` or `system:<client_id>` (single trusted issuer). */
export function principalId(p: Principal): string {
  return p.kind === 'person' ? `person:${p.sub}` : `system:${p.clientId}`;
}
