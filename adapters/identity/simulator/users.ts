// Development personas and clients of the dev identity provider (oidc-loa3.md §9.2–9.3; issue 4
// "Development identity provider"). DEVELOPMENT ONLY: fixed passwords and secrets; production refuses them.
// Personal identity numbers are made-up 12-digit numbers with valid dates and Luhn check digits; they are
// not known to belong to anyone (not checked against Skatteverket's published test-number list).

/** Assurance-level URIs the dev OP can assert (SC-REG §3.1.1). Kept here, not imported from src/auth: a simulator shares no code with the RP it tests. */
export const DEV_ACR = {
  loa2: 'http://id.elegnamnden.se/loa/1.0/loa2',
  loa3: 'http://id.elegnamnden.se/loa/1.0/loa3',
  loa4: 'http://id.elegnamnden.se/loa/1.0/loa4',
  eidasNfSub: 'http://id.elegnamnden.se/loa/1.0/eidas-nf-sub',
  uncertifiedLoa3: 'http://id.swedenconnect.se/loa/1.0/uncertified-loa3',
  sambiLoa3: 'http://id.sambi.se/loa/loa3',
} as const;

export interface DevUser {
  username: string;
  password: string;
  /** Stable, non-personal subject (OIDC-SE: sub must not reveal personal data). Grants name it as `person:<sub>`. */
  sub: string;
  /** The level this user authenticates at; null = the OP asserts no acr at all. Tests may change it. */
  acr: string | null;
  givenName: string;
  familyName: string;
  personalIdentityNumber?: string;
  coordinationNumber?: string;
  orgNumber?: string;
  orgName?: string;
  orgAffiliation?: string;
  hsaId?: string;
  /** Released as the `roles` claim when requested (only used when the gateway sets OIDC_ROLES_CLAIM=roles). */
  roles?: string[];
  description: string;
}

export interface DevClient {
  clientId: string;
  clientSecret: string;
  grantTypes: ('authorization_code' | 'client_credentials')[];
  /** API scopes the client may receive (client-credentials clients). */
  scopes: string[];
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  description: string;
}

const ORG = { orgNumber: '2120000000', orgName: 'Sändebuds kommun (dev)' };
/** One password for every persona keeps the dev table short. */
export const DEV_PASSWORD = 'sandebud-dev';

export function devUsers(): DevUser[] {
  return [
    { username: 'admin', password: DEV_PASSWORD, sub: 'admin', acr: DEV_ACR.loa3, givenName: 'Astrid', familyName: 'Admin', personalIdentityNumber: '199001012385', ...ORG, roles: ['admin'], description: 'administrator (bootstrapped by BOOTSTRAP_ADMINS), LoA3' },
    { username: 'auditor', password: DEV_PASSWORD, sub: 'auditor', acr: DEV_ACR.loa3, givenName: 'Ulla', familyName: 'Granskare', personalIdentityNumber: '198505152382', ...ORG, roles: ['auditor'], description: 'auditor, LoA3' },
    { username: 'caseworker1', password: DEV_PASSWORD, sub: 'caseworker1', acr: DEV_ACR.loa3, givenName: 'Karl', familyName: 'Handläggare', personalIdentityNumber: '197802142393', ...ORG, roles: ['caseworker'], description: 'case worker, LoA3' },
    { username: 'caseworker2', password: DEV_PASSWORD, sub: 'caseworker2', acr: DEV_ACR.loa3, givenName: 'Kajsa', familyName: 'Handläggare', personalIdentityNumber: '198209302408', ...ORG, roles: ['caseworker'], description: 'case worker, LoA3 (different grants from caseworker1)' },
    { username: 'lena', password: DEV_PASSWORD, sub: 'lena', acr: DEV_ACR.loa2, givenName: 'Lena', familyName: 'Lågnivå', personalIdentityNumber: '199507072412', ...ORG, roles: ['caseworker'], description: 'authenticates only at LoA2: must be refused' },
    { username: 'tjanste1', password: DEV_PASSWORD, sub: 'tjanste1', acr: DEV_ACR.loa3, givenName: 'Tove', familyName: 'Tjänstekort', orgAffiliation: 'tjanste1@2120000000', hsaId: 'SE2120000000-dev1', ...ORG, description: 'employee eID (e-tjänstelegitimation) without personnummer: orgAffiliation + HSA-id, LoA3' },
  ];
}

const SDK = ['urn:sdk.api:sendMessage', 'urn:sdk.api:getMessage', 'urn:sdk.api:getMessageByFilter', 'urn:sdk.api:deleteMessage'];
const OURS = ['urn:sandebud:digital-post:send', 'urn:sandebud:digital-post:read', 'urn:sandebud:signing:sign', 'urn:sandebud:signing:validate'];

export function devClients(publicUrl: string): DevClient[] {
  const base = publicUrl.replace(/\/$/, '');
  return [
    { clientId: 'sandebud-web', clientSecret: 'dev-web-secret', grantTypes: ['authorization_code'], scopes: [], redirectUris: [`${base}/auth/callback`], postLogoutRedirectUris: [`${base}/logged-out`], description: 'the gateway console (code + PKCE)' },
    { clientId: 'case-system', clientSecret: 'dev-case-secret', grantTypes: ['client_credentials'], scopes: [...SDK, ...OURS], redirectUris: [], postLogoutRedirectUris: [], description: 'case-management system with every API scope except admin' },
    { clientId: 'case-system-b', clientSecret: 'dev-case-b-secret', grantTypes: ['client_credentials'], scopes: [...SDK], redirectUris: [], postLogoutRedirectUris: [], description: 'second case system: SDK scopes only' },
    { clientId: 'admin-cli', clientSecret: 'dev-admin-cli-secret', grantTypes: ['client_credentials'], scopes: ['urn:sandebud:admin'], redirectUris: [], postLogoutRedirectUris: [], description: 'administration scripts (urn:sandebud:admin)' },
  ];
}

/**
 * The signing-service simulator's client (issue 8): code flow + PKCE, its callback on the simulator's own origin
 * (known once the simulator listens, so it is passed to the provider as an extra client).
 */
export function signingServiceClient(simulatorOrigin: string): DevClient {
  const base = simulatorOrigin.replace(/\/$/, '');
  return { clientId: 'signing-service', clientSecret: 'dev-signing-secret', grantTypes: ['authorization_code'], scopes: [], redirectUris: [`${base}/oidc/callback`], postLogoutRedirectUris: [], description: 'the signing-service simulator: authenticates the signer at LoA3 (code + PKCE)' };
}
