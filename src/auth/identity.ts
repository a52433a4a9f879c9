// Identity from the Swedish OIDC claims (oidc-loa3.md §4.5 CLAIMS-SE, §7.2–7.3, §5.1 step 6.9).
// The user is identified by a non-reassignable value (personnummer, samordningsnummer, orgAffiliation or
// HSA-id), never by a personnummer in a log line: the database keeps only a hash of it (identityHash).
import { createHash } from 'node:crypto';

const CLAIM = 'https://id.oidc.se/claim/';
/** CLAIMS-SE claim names (prefix https://id.oidc.se/claim/). */
export const CLAIMS = {
  personalIdentityNumber: `${CLAIM}personalIdentityNumber`,
  coordinationNumber: `${CLAIM}coordinationNumber`,
  orgAffiliation: `${CLAIM}orgAffiliation`,
  orgNumber: `${CLAIM}orgNumber`,
  orgName: `${CLAIM}orgName`,
  orgUnit: `${CLAIM}orgUnit`,
  /** HSA-id of the person's service identity: Inera's claim name; CLAIMS-SE defines none (oidc-loa3.md §11.6). */
  employeeHsaId: 'employeeHsaId',
} as const;

const SCOPE = 'https://id.oidc.se/scope/';
/** CLAIMS-SE scopes that select the claims above. */
export const IDENTITY_SCOPES = {
  naturalPersonNumber: `${SCOPE}naturalPersonNumber`,
  naturalPersonInfo: `${SCOPE}naturalPersonInfo`,
  naturalPersonOrgId: `${SCOPE}naturalPersonOrgId`,
} as const;

export type IdentityType = 'personalIdentityNumber' | 'coordinationNumber' | 'orgAffiliation' | 'employeeHsaId';

export interface IdentityKey {
  type: IdentityType;
  /** The raw value: personnummer etc. Never log it; store only identityHash(). */
  value: string;
}

export interface Identity {
  key: IdentityKey;
  name?: string;
  orgNumber?: string;
  orgName?: string;
  hsaId?: string;
}

export type IdentityResult = { ok: true; identity: Identity } | { ok: false; reason: 'IDENTITY_CLAIM_MISSING' | 'IDENTITY_CLAIM_MALFORMED' };

function luhnOk(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[i]) * (i % 2 === 0 ? 2 : 1);
    if (d > 9) d -= 9;
    sum += d;
  }
  return sum % 10 === 0;
}

function validDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/**
 * A 12-digit personnummer (YYYYMMDDNNNC) or, with `coordination`, a samordningsnummer (day + 60):
 * valid date and Luhn check digit over the last ten digits.
 */
export function isValidPersonalNumber(value: string, coordination = false): boolean {
  if (!/^[0-9]{12}$/.test(value)) return false;
  const y = Number(value.slice(0, 4));
  const m = Number(value.slice(4, 6));
  let d = Number(value.slice(6, 8));
  if (coordination) {
    if (d <= 60) return false;
    d -= 60;
  }
  if (y < 1850 || !validDate(y, m, d)) return false;
  return luhnOk(value.slice(2));
}

/** `<personal-id>@<orgNumber>`; the personal id's format is the organisation's own (CLAIMS-SE). */
export function isValidOrgAffiliation(value: string): boolean {
  return /^[^@\s]{1,128}@[0-9]{10}$/.test(value);
}

/** HSA-id: country code SE, the issuing organisation number, a dash and a local part (e.g. SE2321000016-1003). */
export function isValidHsaId(value: string): boolean {
  return /^SE[0-9]{10}-[0-9A-Za-z]{1,40}$/.test(value);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/**
 * Pick the identity key from ID-token claims, in order personnummer → samordningsnummer → orgAffiliation →
 * HSA-id. A present but malformed claim refuses the login rather than falling through to a weaker one.
 */
export function identityFromClaims(claims: Record<string, unknown>): IdentityResult {
  const pnr = str(claims[CLAIMS.personalIdentityNumber]);
  const coord = str(claims[CLAIMS.coordinationNumber]);
  const aff = str(claims[CLAIMS.orgAffiliation]);
  const hsa = str(claims[CLAIMS.employeeHsaId]);
  let key: IdentityKey | undefined;
  if (pnr !== undefined) {
    if (!isValidPersonalNumber(pnr)) return { ok: false, reason: 'IDENTITY_CLAIM_MALFORMED' };
    key = { type: 'personalIdentityNumber', value: pnr };
  } else if (coord !== undefined) {
    if (!isValidPersonalNumber(coord, true)) return { ok: false, reason: 'IDENTITY_CLAIM_MALFORMED' };
    key = { type: 'coordinationNumber', value: coord };
  } else if (aff !== undefined) {
    if (!isValidOrgAffiliation(aff)) return { ok: false, reason: 'IDENTITY_CLAIM_MALFORMED' };
    key = { type: 'orgAffiliation', value: aff };
  } else if (hsa !== undefined) {
    if (!isValidHsaId(hsa)) return { ok: false, reason: 'IDENTITY_CLAIM_MALFORMED' };
    key = { type: 'employeeHsaId', value: hsa };
  }
  if (key === undefined) return { ok: false, reason: 'IDENTITY_CLAIM_MISSING' };
  const given = str(claims.given_name);
  const family = str(claims.family_name);
  const name = str(claims.name) ?? ([given, family].filter((x) => x !== undefined).join(' ') || undefined);
  const orgNumber = str(claims[CLAIMS.orgNumber]) ?? (aff !== undefined ? aff.slice(aff.lastIndexOf('@') + 1) : undefined);
  const identity: Identity = { key };
  if (name !== undefined) identity.name = name;
  if (orgNumber !== undefined && /^[0-9]{10}$/.test(orgNumber)) identity.orgNumber = orgNumber;
  const orgName = str(claims[CLAIMS.orgName]);
  if (orgName !== undefined) identity.orgName = orgName;
  if (hsa !== undefined && isValidHsaId(hsa)) identity.hsaId = hsa;
  return { ok: true, identity };
}

/**
 * The lookup hash stored in users.identity_hash. SHA-256 over type and value with a fixed domain prefix.
 * Known weakness: personnummer are few enough to enumerate, so this hides them from casual reading only;
 * a keyed hash needs a secret key (a config key the lead would add, e.g. IDENTITY_HASH_KEY_FILE).
 */
export function identityHash(key: IdentityKey): string {
  return createHash('sha256').update(`sandebud-identity-v1\0${key.type}\0${key.value}`).digest('hex');
}

/** A short, non-reversible stand-in for a subject in audit details and logs. */
export function subjectHash(issuer: string, sub: string): string {
  return createHash('sha256').update(`${issuer}\0${sub}`).digest('hex').slice(0, 16);
}
