// Digital post through Mina meddelanden: identifiers, reachability outcomes and delivery decisions
// (../shared/specs/digital-post.md §3 identifiers, §5.4 closed outcome set, §6.7 faults, §10 choices).
// Pure rules only: no I/O. Adapters produce these values; use cases act on them.
import { AppError, type FieldError } from './errors.js';

// ---------------------------------------------------------------------------------------------------
// Identifiers (§3)
// ---------------------------------------------------------------------------------------------------

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A personnummer or samordningsnummer in its 12-digit wire form `YYYYMMDDNNNC` (checked: date and Luhn). */
export type PersonalIdentityNumber = Brand<string, 'PersonalIdentityNumber'>;
/** A Swedish organisation number in its 10-digit form `NNNNNNNNNC` (checked: third digit ≥ 2 and Luhn). */
export type OrganisationNumber = Brand<string, 'OrganisationNumber'>;
/** An organisation as a Mina meddelanden recipient: `16` + the 10 digits (§3.1). */
export type OrganisationRecipientId = Brand<string, 'OrganisationRecipientId'>;
/** Anything FaR and the operators accept as `RecipientId`: a person or a 16-prefixed organisation (12 digits). */
export type RecipientId = PersonalIdentityNumber | OrganisationRecipientId;

export type RecipientKind = 'personnummer' | 'samordningsnummer' | 'organisation';

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: FieldError };

/**
 * Luhn check over the 10-digit form (§3.2): weights 2,1,2,1,… over all ten digits, digit sums of the
 * products, total divisible by 10.
 */
export function luhnValid(tenDigits: string): boolean {
  if (!/^[0-9]{10}$/.test(tenDigits)) return false;
  let sum = 0;
  for (let i = 0; i < 10; i++) {
    let p = Number(tenDigits[i]) * (i % 2 === 0 ? 2 : 1);
    if (p > 9) p -= 9;
    sum += p;
  }
  return sum % 10 === 0;
}

/** The Luhn check digit for the first nine digits of a 10-digit number. */
export function luhnCheckDigit(nineDigits: string): number {
  if (!/^[0-9]{9}$/.test(nineDigits)) throw new RangeError('expected nine digits');
  for (let d = 0; d <= 9; d++) if (luhnValid(nineDigits + String(d))) return d;
  /* c8 ignore next */
  throw new RangeError('unreachable');
}

function realDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1 || day > 31) return false;
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

export interface PersonalIdentityNumberOptions {
  /**
   * Accept the 10-digit form `YYMMDD-NNNC` / `YYMMDD+NNNC` and derive the century as Skatteverket does
   * (`-`: the most recent century giving an age under 100; `+`: 100 years or older). Off by default:
   * our API takes 12 digits only because the century is ambiguous (digital-post.md §3.3).
   */
  allowTenDigits?: boolean;
  /** "Today" for the century rule and the not-in-the-future check; defaults to now. */
  today?: Date;
}

const fieldError = (field: string, message: string): { ok: false; error: FieldError } => ({ ok: false, error: { field, message } });

/**
 * Parse a personnummer or samordningsnummer (day + 60) into the 12-digit form. The date must exist
 * (after subtracting 60 for a samordningsnummer) and not lie in the future; the Luhn digit must match.
 * Error messages never repeat the input (it is personal data).
 */
export function parsePersonalIdentityNumber(
  input: unknown,
  field = '/recipient',
  opts: PersonalIdentityNumberOptions = {},
): ParseResult<PersonalIdentityNumber> {
  if (typeof input !== 'string') return fieldError(field, 'must be a string of digits');
  const s = input.trim();
  let twelve: string;
  let m = /^((?:18|19|20)[0-9]{6})-?([0-9]{4})$/.exec(s);
  if (m) {
    twelve = `${m[1]}${m[2]}`;
  } else if ((m = /^([0-9]{6})([-+]?)([0-9]{4})$/.exec(s))) {
    if (!opts.allowTenDigits) return fieldError(field, 'must have 12 digits (YYYYMMDDNNNN or YYYYMMDD-NNNN); the 10-digit form leaves the century ambiguous');
    const yy = Number(m[1]!.slice(0, 2));
    const today = opts.today ?? new Date();
    const thisYear = today.getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + yy;
    if (year > thisYear) year -= 100;
    if (m[2] === '+') year -= 100;
    twelve = `${year}${m[1]!.slice(2)}${m[3]}`;
  } else {
    return fieldError(field, 'must be a personnummer or samordningsnummer with 12 digits (YYYYMMDD-NNNN)');
  }
  const year = Number(twelve.slice(0, 4));
  const month = Number(twelve.slice(4, 6));
  let day = Number(twelve.slice(6, 8));
  if (day > 60) day -= 60; // samordningsnummer
  if (!realDate(year, month, day)) return fieldError(field, 'contains a date that does not exist');
  const today = opts.today ?? new Date();
  if (Date.UTC(year, month - 1, day) > today.getTime()) return fieldError(field, 'contains a date in the future');
  if (!luhnValid(twelve.slice(2))) return fieldError(field, 'has a wrong check digit');
  return { ok: true, value: twelve as PersonalIdentityNumber };
}

/** Whether a checked 12-digit number is a samordningsnummer (day 61–91). */
export function isCoordinationNumber(id: PersonalIdentityNumber): boolean {
  return Number(id.slice(6, 8)) > 60;
}

/** Birth date of a person (for a samordningsnummer: the day minus 60), as UTC midnight. */
export function birthDateOf(id: PersonalIdentityNumber): Date {
  let day = Number(id.slice(6, 8));
  if (day > 60) day -= 60;
  return new Date(Date.UTC(Number(id.slice(0, 4)), Number(id.slice(4, 6)) - 1, day));
}

/** Age in whole years on `at` (used only by the optional under-18 policy, §10 #4). */
export function ageOf(id: PersonalIdentityNumber, at: Date = new Date()): number {
  const b = birthDateOf(id);
  let age = at.getUTCFullYear() - b.getUTCFullYear();
  const beforeBirthday = at.getUTCMonth() < b.getUTCMonth() || (at.getUTCMonth() === b.getUTCMonth() && at.getUTCDate() < b.getUTCDate());
  if (beforeBirthday) age -= 1;
  return age;
}

/**
 * Parse an organisation number: `NNNNNN-NNNN`, 10 digits, or `16` + 10 digits. The third digit must be
 * ≥ 2 (so it never collides with a personnummer) and the Luhn digit must match (unless `luhn: false`).
 * Returns the 10 digits.
 */
export function parseOrganisationNumber(
  input: unknown,
  field = '/organisationNumber',
  opts: { luhn?: boolean } = {},
): ParseResult<OrganisationNumber> {
  if (typeof input !== 'string') return fieldError(field, 'must be a string of digits');
  const m = /^(?:16)?([0-9]{6})-?([0-9]{4})$/.exec(input.trim());
  if (!m) return fieldError(field, 'must be an organisation number (NNNNNN-NNNN, 10 digits or 16 + 10 digits)');
  const ten = `${m[1]}${m[2]}`;
  if (Number(ten[2]) < 2) return fieldError(field, 'is not an organisation number (the third digit must be 2 or more)');
  // Luhn is required on API input; `luhn: false` exists for configured numbers of development
  // organisations that were never real (our dev default 2120000000 fails the check).
  if ((opts.luhn ?? true) && !luhnValid(ten)) return fieldError(field, 'has a wrong check digit');
  return { ok: true, value: ten as OrganisationNumber };
}

/** `16` + the 10 digits: the form `senderOrgNr`, `Sender/Id` and company recipients use on the wire (§3.1). */
export function toWireOrganisationNumber(org: OrganisationNumber): OrganisationRecipientId {
  return `16${org}` as OrganisationRecipientId;
}

/**
 * Parse a recipient of a letter: a person (personnummer/samordningsnummer, 12 digits) or an
 * organisation (10 digits or 16-prefixed). Returns the 12-digit wire form.
 */
export function parseRecipientId(
  input: unknown,
  field = '/recipient',
  opts: PersonalIdentityNumberOptions = {},
): ParseResult<RecipientId> & { kind?: RecipientKind } {
  if (typeof input !== 'string') return fieldError(field, 'must be a string of digits');
  const s = input.trim();
  const digits = s.replace(/[-+]/g, '');
  const looksOrganisation = /^16[0-9]{10}$/.test(digits) || (/^[0-9]{10}$/.test(digits) && Number(digits[2]) >= 2);
  if (looksOrganisation) {
    const r = parseOrganisationNumber(s, field);
    return r.ok ? { ok: true, value: toWireOrganisationNumber(r.value), kind: 'organisation' } : r;
  }
  const p = parsePersonalIdentityNumber(s, field, opts);
  if (!p.ok) return p;
  return { ok: true, value: p.value, kind: isCoordinationNumber(p.value) ? 'samordningsnummer' : 'personnummer' };
}

/** True for a 12-digit wire recipient id that belongs to an organisation (`16` prefix). */
export function isOrganisationRecipient(id: RecipientId): id is OrganisationRecipientId {
  return id.startsWith('16');
}

// ---------------------------------------------------------------------------------------------------
// Reachability: the closed outcome set (§5.4)
// ---------------------------------------------------------------------------------------------------

/**
 * Why a recipient cannot get digital post, evaluated in exactly this order (first match wins, §5.4).
 * Each reason sends the letter to paper.
 */
export const UNREACHABLE_REASONS = {
  NOT_REGISTERED: 'No profile in FaR (Type=Not) or FaR returned no entry for the recipient.',
  ACCOUNT_NOT_SECURE: 'The profile is not of type Secure (Type=Anonymous).',
  SENDER_NOT_ACCEPTED: 'The recipient does not accept digital post from this sender (SenderAccepted=false).',
  PENDING: 'The profile or a change to it is not complete (Pending=true).',
  NO_SERVICE_SUPPLIER: 'FaR names no mailbox operator for the recipient.',
  NO_SERVICE_ADDRESS: 'The operator\'s ServiceAdress is blank, not an absolute URL, or (production) not https.',
  OPERATOR_NOT_ALLOWED: 'Policy: the operator (ServiceSupplier/Id) is not on the allow-list.',
  RECIPIENT_UNDER_18: 'Policy (off by default): the recipient is a person under 18.',
} as const;

export type UnreachableReason = keyof typeof UNREACHABLE_REASONS;
export type ReachabilityReason = 'REACHABLE' | UnreachableReason;

/** The §5.4 evaluation order; tests assert it. */
export const REACHABILITY_ORDER: readonly ReachabilityReason[] = [
  'NOT_REGISTERED', 'ACCOUNT_NOT_SECURE', 'SENDER_NOT_ACCEPTED', 'PENDING', 'NO_SERVICE_SUPPLIER', 'NO_SERVICE_ADDRESS',
  'OPERATOR_NOT_ALLOWED', 'RECIPIENT_UNDER_18', 'REACHABLE',
];

/** A mailbox operator (brevlådeoperatör) as FaR names it. Identify it by `id`, never by `name`. */
export interface MailboxOperator {
  /** `ServiceSupplier/Id`: 16 + the operator's organisation number (e.g. 165568402266 = Kivra). */
  id: string;
  /** Display name; in sandboxes a domain name. */
  name: string;
  /** `ServiceAdress`: the deliverSecure endpoint for this recipient. */
  serviceAddress: string;
  /** `UIAdress`: the mailbox's web address, for case workers. */
  uiAddress?: string;
}

/** What FaR said, kept with the outcome so auditors can see why a letter went to paper (§5.4). */
export interface LookupRecord {
  lookedUpAt: Date;
  accountType?: 'Secure' | 'Anonymous' | 'Not';
  pending?: boolean;
  senderAccepted?: boolean;
  lastRegistration?: string;
  lastSenderAcceptChange?: string;
}

export type ReachabilityOutcome =
  | { reachable: true; reason: 'REACHABLE'; operator: MailboxOperator; record: LookupRecord }
  | { reachable: false; reason: UnreachableReason; operator?: Pick<MailboxOperator, 'id' | 'name'> & Partial<MailboxOperator>; record: LookupRecord };

// ---------------------------------------------------------------------------------------------------
// Reasons a letter's status can show (§6.7, one closed list for API, console and audit)
// ---------------------------------------------------------------------------------------------------

export const DIGITAL_POST_REASONS = [
  // lookup
  'REACHABLE', ...(Object.keys(UNREACHABLE_REASONS) as UnreachableReason[]),
  // lookup errors (never final)
  'FAR_UNAVAILABLE', 'FAR_SENDER_REJECTED',
  // delivery
  'DELIVERED', 'NOT_DELIVERED', 'OPERATOR_REJECTED', 'OPERATOR_SENDER_REJECTED', 'OPERATOR_UNAVAILABLE', 'OUTCOME_UNKNOWN',
  // paper
  'PRINT_ACCEPTED', 'PRINTED', 'PRINT_REJECTED', 'NO_POSTAL_ADDRESS', 'DIGITAL_ONLY_NOT_REACHABLE',
  // input
  'TOO_LARGE', 'INVALID_CONTENT',
] as const;
export type DigitalPostReason = (typeof DIGITAL_POST_REASONS)[number];

// ---------------------------------------------------------------------------------------------------
// Errors from the FaR, operator and print adapters
// ---------------------------------------------------------------------------------------------------

/**
 * Stable failure codes the digital-post adapters throw (as `AppError.code`). Each is a lookup or
 * delivery failure, never an outcome: the use case decides with `classifyLookupFailure` /
 * `classifyDeliveryFailure`.
 */
export const DIGITAL_POST_FAILURES = {
  FAR_UNAVAILABLE: 'FaR did not answer usably: timeout, connection or TLS error, HTTP error, unexpected element, or a system fault (≤ 5000). Retry.',
  FAR_SENDER_REJECTED: 'FaR refused the sender (fault 5002 access denied / 5014 unknown sender). Hold the sender\'s letters and alert.',
  FAR_REQUEST_REJECTED: 'FaR refused the request as invalid (fault 5001/5005 or another code > 5000): our bug. Hold and alert.',
  OPERATOR_FAULT: 'The mailbox operator answered with an applicationFault; faultCode says which.',
  OPERATOR_CLIENT_FAULT: 'The operator could not unmarshal our request (S:Client without detail): our bug.',
  OPERATOR_UNAVAILABLE: 'The request did not reach the operator: connection refused, TLS failure, connect timeout, HTTP ≥ 500 without SOAP.',
  OUTCOME_UNKNOWN: 'The request may have reached the operator but no usable answer came (timeout or reset after sending).',
  OPERATOR_PROTOCOL_ERROR: 'The operator answered, but not with a status for our recipient. Not delivered; never printed automatically.',
  PRINT_UNAVAILABLE: 'The print provider could not be reached or failed (HTTP ≥ 500). Retry.',
  PRINT_REJECTED: 'The print provider refused the letter; `reason` says why.',
} as const;
export type DigitalPostFailureCode = keyof typeof DIGITAL_POST_FAILURES;

export interface DigitalPostErrorDetails {
  /** `applicationFault/ErrorCode` when the upstream sent one. */
  faultCode?: number;
  /** `applicationFault/CallId`: log it, support asks for it. */
  callId?: string;
  /** HTTP status of the upstream answer, when there was one. */
  httpStatus?: number;
  /** Provider's machine-readable reason (print), from its closed list. */
  reason?: string;
}

const FAILURE_STATUS: Record<DigitalPostFailureCode, { status: number; retryable: boolean }> = {
  FAR_UNAVAILABLE: { status: 502, retryable: true },
  FAR_SENDER_REJECTED: { status: 502, retryable: false },
  FAR_REQUEST_REJECTED: { status: 502, retryable: false },
  OPERATOR_FAULT: { status: 502, retryable: false },
  OPERATOR_CLIENT_FAULT: { status: 502, retryable: false },
  OPERATOR_UNAVAILABLE: { status: 502, retryable: true },
  OUTCOME_UNKNOWN: { status: 504, retryable: true },
  OPERATOR_PROTOCOL_ERROR: { status: 502, retryable: false },
  PRINT_UNAVAILABLE: { status: 502, retryable: true },
  PRINT_REJECTED: { status: 422, retryable: false },
};

/** An AppError with the upstream details the classification needs. Upstream text never goes into `message`. */
export class DigitalPostError extends AppError {
  readonly details: DigitalPostErrorDetails;
  constructor(code: DigitalPostFailureCode, message: string, details: DigitalPostErrorDetails = {}, cause?: unknown) {
    const s = FAILURE_STATUS[code];
    // Operator fault 5000/5004 are transient (§6.7), the rest of the operator faults are not.
    const retryable = code === 'OPERATOR_FAULT' ? details.faultCode === 5000 || details.faultCode === 5004 : s.retryable;
    super(code, message, { status: s.status, retryable, expose: false, cause });
    this.name = 'DigitalPostError';
    this.details = details;
  }
}

/** Read the details of a digital-post failure, also from a plain object that crossed a process boundary. */
export function digitalPostFailureOf(e: unknown): { code: DigitalPostFailureCode; details: DigitalPostErrorDetails } | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  if (typeof code !== 'string' || !Object.prototype.hasOwnProperty.call(DIGITAL_POST_FAILURES, code)) return undefined;
  const d = (e as { details?: unknown }).details;
  return { code: code as DigitalPostFailureCode, details: typeof d === 'object' && d !== null ? (d as DigitalPostErrorDetails) : {} };
}

// ---------------------------------------------------------------------------------------------------
// Decisions (§5.4 lookup errors, §6.5 delivery result, §6.7 fault table)
// ---------------------------------------------------------------------------------------------------

/** What to do with a letter after a FaR lookup failed. */
export type LookupFailureDecision =
  | { kind: 'retry'; reason: 'FAR_UNAVAILABLE' }
  | { kind: 'hold'; reason: 'FAR_SENDER_REJECTED' | 'FAR_UNAVAILABLE'; faultCode?: number; alert: true };

export function classifyLookupFailure(e: unknown): LookupFailureDecision {
  const f = digitalPostFailureOf(e);
  if (f?.code === 'FAR_SENDER_REJECTED') return { kind: 'hold', reason: 'FAR_SENDER_REJECTED', faultCode: f.details.faultCode, alert: true };
  if (f?.code === 'FAR_REQUEST_REJECTED') return { kind: 'hold', reason: 'FAR_UNAVAILABLE', faultCode: f.details.faultCode, alert: true };
  // Unknown errors are treated as transient: a failed lookup never changes a letter's channel (§11 #11).
  return { kind: 'retry', reason: 'FAR_UNAVAILABLE' };
}

/**
 * The closed outcome of one delivery attempt. `retry` carries what to do once the retry budget is
 * used up: paper when the request never reached the operator, hold while the outcome is unknown
 * (never print while a digital delivery might have happened, §6.7 / §11 #34).
 */
export type DeliveryDecision =
  | { kind: 'delivered'; reason: 'DELIVERED' }
  | { kind: 'retry'; reason: 'OPERATOR_UNAVAILABLE' | 'OUTCOME_UNKNOWN'; faultCode?: number; whenExhausted: 'paper' | 'hold' }
  | {
      kind: 'paper';
      reason: 'NOT_DELIVERED' | 'OPERATOR_REJECTED';
      faultCode?: number;
      /** 5003 and Delivered=false: invalidate the cached lookup; for 5003 look the recipient up once more first. */
      invalidateLookup?: boolean;
      relookupFirst?: boolean;
      /** Systemic (signature, our XML): alert operations, consider opening the operator circuit. */
      alert?: boolean;
    }
  | { kind: 'hold'; reason: 'OPERATOR_SENDER_REJECTED' | 'OUTCOME_UNKNOWN'; faultCode?: number; alert: true };

/** §6.7: the action for an operator applicationFault code. */
export function classifyOperatorFault(code: number): DeliveryDecision {
  switch (code) {
    case 5000:
      return { kind: 'retry', reason: 'OPERATOR_UNAVAILABLE', faultCode: code, whenExhausted: 'paper' };
    case 5004:
      return { kind: 'retry', reason: 'OPERATOR_UNAVAILABLE', faultCode: code, whenExhausted: 'paper' };
    case 5002:
    case 5012:
      return { kind: 'paper', reason: 'OPERATOR_REJECTED', faultCode: code, alert: true };
    case 5003:
      return { kind: 'paper', reason: 'OPERATOR_REJECTED', faultCode: code, invalidateLookup: true, relookupFirst: true };
    case 5014:
      return { kind: 'hold', reason: 'OPERATOR_SENDER_REJECTED', faultCode: code, alert: true };
    default:
      // 5001, 5005, 5019, 6004–6007 and every other code ≥ 5000 are permanent for this letter.
      // A system code below 5000 is treated the same way: it names a problem with this request.
      return { kind: 'paper', reason: 'OPERATOR_REJECTED', faultCode: code };
  }
}

/** §6.5: the operator answered with a DeliveryResult for our recipient. */
export function classifyDeliveryResult(delivered: boolean): DeliveryDecision {
  return delivered ? { kind: 'delivered', reason: 'DELIVERED' } : { kind: 'paper', reason: 'NOT_DELIVERED', invalidateLookup: true };
}

/** §6.7: the decision for anything `DigitalMailbox.deliverSecure` threw. */
export function classifyDeliveryFailure(e: unknown): DeliveryDecision {
  const f = digitalPostFailureOf(e);
  switch (f?.code) {
    case 'OPERATOR_FAULT':
      return f.details.faultCode === undefined
        ? { kind: 'paper', reason: 'OPERATOR_REJECTED', alert: true }
        : classifyOperatorFault(f.details.faultCode);
    case 'OPERATOR_CLIENT_FAULT':
      return { kind: 'paper', reason: 'OPERATOR_REJECTED', alert: true };
    case 'OPERATOR_UNAVAILABLE':
      return { kind: 'retry', reason: 'OPERATOR_UNAVAILABLE', whenExhausted: 'paper' };
    case 'OPERATOR_PROTOCOL_ERROR':
      return { kind: 'hold', reason: 'OUTCOME_UNKNOWN', alert: true };
    default:
      // OUTCOME_UNKNOWN and anything unexpected: the request may have been delivered.
      return { kind: 'retry', reason: 'OUTCOME_UNKNOWN', whenExhausted: 'hold' };
  }
}
