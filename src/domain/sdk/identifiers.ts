// sdk.md §2 (identifiers) and §14.14: branded identifiers of the SDK federation and their syntax rules.
// Branding keeps a function address, a participant id and a message id from being mixed up in code
// that handles all three as strings.

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/**
 * Funktionsadress: the addressable unit of an organisation, issued by SDK Adressbok and used as
 * `recipient/attention/subOrganization/organizationId/extension` and as XHE `HandlingServiceID`.
 * The format is not normative (§14.14), so it is treated as opaque and compared exactly.
 */
export type FunctionAddress = Brand<string, 'FunctionAddress'>;

/** Participant (organisation) identifier `<ICD>:<id>` in scheme `iso6523-actorid-upis`, e.g. `0203:digg.se`. */
export type ParticipantId = Brand<string, 'ParticipantId'>;

/** RFC 4122 UUID in the textual 8-4-4-4-12 form: SDK messageId / conversationId / XHE Header ID. */
export type MessageId = Brand<string, 'MessageId'>;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** The API limit on function addresses and labels (sdk.md §10, §11). */
export const FUNCTION_ADDRESS_MAX_LENGTH = 256;

// Control characters (C0, DEL, C1) have no place in an identifier that ends up in XML, URLs and logs.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Syntax rules we apply to a function address (opaque per §14.14, so only what is needed to carry it
 * safely): 1–256 characters, no control characters, no leading or trailing whitespace.
 */
export function parseFunctionAddress(value: string): ParseResult<FunctionAddress> {
  if (value.length === 0) return { ok: false, error: 'function address is empty' };
  if ([...value].length > FUNCTION_ADDRESS_MAX_LENGTH) return { ok: false, error: `function address is longer than ${FUNCTION_ADDRESS_MAX_LENGTH} characters` };
  if (CONTROL.test(value)) return { ok: false, error: 'function address contains control characters' };
  if (value.trim() !== value) return { ok: false, error: 'function address has leading or trailing whitespace' };
  return { ok: true, value: value as FunctionAddress };
}

export function isFunctionAddress(value: string): value is FunctionAddress {
  return parseFunctionAddress(value).ok;
}

/** Function addresses are opaque and compared exactly (sdk.md §2 "Comparison rule"). */
export function sameFunctionAddress(a: string, b: string): boolean {
  return a === b;
}

export const PARTICIPANT_SCHEME = 'iso6523-actorid-upis';

/** ICD codes allowed on the platform (sdk.md §2, CODES). */
export const PARTICIPANT_ICDS = ['0203', '0007', '0088'] as const;
export type ParticipantIcd = (typeof PARTICIPANT_ICDS)[number];

// 0203: a DNS-style domain name (labels of letters, digits and hyphens; a trailing dot is not allowed).
const DNS_NAME = /^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Participant id syntax per ICD: 0203 = DNS name, 0007 = 10-digit organisation number, 0088 = 13-digit GLN. */
export function parseParticipantId(value: string): ParseResult<ParticipantId> {
  const m = /^([0-9]{4}):(.+)$/.exec(value);
  if (!m) return { ok: false, error: 'participant id must have the form <ICD>:<id>' };
  const [, icd, id] = m as unknown as [string, string, string];
  switch (icd) {
    case '0203':
      return DNS_NAME.test(id) ? { ok: true, value: value as ParticipantId } : { ok: false, error: 'ICD 0203 requires a domain name' };
    case '0007':
      return /^[0-9]{10}$/.test(id) ? { ok: true, value: value as ParticipantId } : { ok: false, error: 'ICD 0007 requires a 10-digit organisation number' };
    case '0088':
      return /^[0-9]{13}$/.test(id) ? { ok: true, value: value as ParticipantId } : { ok: false, error: 'ICD 0088 requires a 13-digit GLN' };
    default:
      return { ok: false, error: `ICD ${icd} is not allowed on the platform` };
  }
}

/** Participant ids are compared case-insensitively (DNS names; BDXL lower-cases them) but forwarded as received. */
export function sameParticipant(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

export const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function parseMessageId(value: string): ParseResult<MessageId> {
  return UUID_PATTERN.test(value) ? { ok: true, value: value as MessageId } : { ok: false, error: 'not a UUID in 8-4-4-4-12 form' };
}

/** UUIDs are compared case-insensitively (sdk.md §2). */
export function sameMessageId(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** Throwing variants for values that were already validated (e.g. by the XSD + schematron port). */
export function asParticipantId(value: string): ParticipantId {
  const r = parseParticipantId(value);
  if (!r.ok) throw new TypeError(`Invalid participant id: ${r.error}`);
  return r.value;
}

export function asFunctionAddress(value: string): FunctionAddress {
  const r = parseFunctionAddress(value);
  if (!r.ok) throw new TypeError(`Invalid function address: ${r.error}`);
  return r.value;
}

export function asMessageId(value: string): MessageId {
  const r = parseMessageId(value);
  if (!r.ok) throw new TypeError(`Invalid message id: ${r.error}`);
  return r.value;
}
