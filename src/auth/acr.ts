// Assurance level (acr) handling at login (oidc-loa3.md §3.2, §4.1, §5.1 step 6.7, §11.1).
// An acr is a URI compared by exact string: never parse a "3" out of it. The accepted set is bound to the
// configured issuer (OIDC_ISSUER / OIDC_ACCEPTED_ACR); openid-client does not check acr at all.

/** Well-known acr URIs (SC-REG §3.1.1). Only the ones the code or tests name. */
export const LOA = {
  loa1: 'http://id.elegnamnden.se/loa/1.0/loa1',
  loa2: 'http://id.elegnamnden.se/loa/1.0/loa2',
  loa3: 'http://id.elegnamnden.se/loa/1.0/loa3',
  loa4: 'http://id.elegnamnden.se/loa/1.0/loa4',
  eidasNfSub: 'http://id.elegnamnden.se/loa/1.0/eidas-nf-sub',
  eidasNfHigh: 'http://id.elegnamnden.se/loa/1.0/eidas-nf-high',
  uncertifiedLoa3: 'http://id.swedenconnect.se/loa/1.0/uncertified-loa3',
  sambiLoa3: 'http://id.sambi.se/loa/loa3',
} as const;

export type AcrVerdict = { ok: true; acr: string } | { ok: false; reason: 'ACR_MISSING' | 'ACR_NOT_ACCEPTED'; acr?: string };

/** Check an ID token's acr against the issuer's accepted set (exact string match). */
export function checkAcr(acr: unknown, accepted: readonly string[]): AcrVerdict {
  if (acr === undefined || acr === null || acr === '') return { ok: false, reason: 'ACR_MISSING' };
  if (typeof acr !== 'string') return { ok: false, reason: 'ACR_NOT_ACCEPTED' };
  return accepted.includes(acr) ? { ok: true, acr } : { ok: false, reason: 'ACR_NOT_ACCEPTED', acr };
}

/** The acr values to request, in order of preference: the configured one first, then the rest of the accepted set. */
export function requestedAcrValues(requested: string, accepted: readonly string[]): string[] {
  return [requested, ...accepted.filter((a) => a !== requested)];
}

/**
 * Authorization request parameters that ask for the assurance level (oidc-loa3.md §4.1, §11.1):
 * `claims` mode asks for an essential `acr` listing the values (an honest OP then refuses with
 * unmet_authentication_requirements); `acr_values` mode is a voluntary request, for OPs without claims support.
 * `extraIdTokenClaims` are further ID-token claims (auth_time, HSA-id, the roles claim), claims mode only.
 */
export function acrRequestParameters(
  mode: 'claims' | 'acr_values',
  values: readonly string[],
  extraIdTokenClaims: Record<string, { essential?: boolean } | null>,
): Record<string, string> {
  // An OP configured for acr_values is one without claims-parameter support, so nothing else is requested.
  if (mode === 'acr_values') return { acr_values: values.join(' ') };
  return { claims: JSON.stringify({ id_token: { acr: { essential: true, values: [...values] }, ...extraIdTokenClaims } }) };
}
