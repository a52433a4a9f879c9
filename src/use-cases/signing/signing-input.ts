// Request parsing for the signing API: ../shared/specs/signing.md §3.1 (the sign message: plain text, no
// personnummer in it), §3.2 (SigType per document format) and style.md convention 2 (input stays `unknown`
// until parsed; every bad field is named by JSON Pointer, nothing is stored).
import type { FieldError } from '../../domain/errors.js';
import { parsePersonalIdentityNumber, type PersonalIdentityNumber } from '../../domain/signing.js';
import type { SignableFormat } from '../../ports/signing.port.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;
/** 10- or 12-digit runs, with or without the - / + separator before the last four digits. */
const DIGIT_RUNS = /(?<!\d)(\d{6}|\d{8})[-+]?(\d{4})(?!\d)/g;
// Control characters would break the one-line-per-document layout of the sign message (§3.1).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

export const SIGN_MESSAGE_MAX = 300;
export const CASE_REFERENCE_MAX = 64;

/** True when the text holds a valid personnummer or samordningsnummer (date and check digit), 10 or 12 digits. */
export function containsPersonalIdentityNumber(text: string): boolean {
  for (const m of text.matchAll(DIGIT_RUNS)) {
    const digits = `${m[1]!}${m[2]!}`;
    const candidates = digits.length === 12 ? [digits] : [`19${digits}`, `20${digits}`];
    if (candidates.some((c) => parsePersonalIdentityNumber(c) !== null)) return true;
  }
  return false;
}

type Result<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

/** Strict base64 (no whitespace, correct padding), non-empty. */
export function decodeBase64(value: unknown, field: string): Result<Buffer> {
  if (typeof value !== 'string' || value.length === 0) return { ok: false, errors: [{ field, message: 'must be non-empty base64' }] };
  if (!BASE64.test(value)) return { ok: false, errors: [{ field, message: 'must be base64 (RFC 4648, padded, no line breaks)' }] };
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length === 0) return { ok: false, errors: [{ field, message: 'must not be empty' }] };
  return { ok: true, value: bytes };
}

/** PDF → PAdES, XML → XAdES enveloped, anything else → detached CMS (CAdES). */
export function formatForContentType(contentType: string): SignableFormat {
  const base = contentType.split(';')[0]!.trim().toLowerCase();
  if (base === 'application/pdf') return 'pdf';
  if (base === 'application/xml' || base === 'text/xml' || base.endsWith('+xml')) return 'xml';
  return 'cms';
}

export const SIGNATURE_FORMAT: Readonly<Record<SignableFormat, 'PAdES' | 'XAdES' | 'CAdES'>> = { pdf: 'PAdES', xml: 'XAdES', cms: 'CAdES' };

/** Cheap content checks before the document is handed to the signing adapter (which checks it fully). */
function contentMatchesFormat(bytes: Buffer, format: SignableFormat): string | null {
  if (format === 'pdf') return bytes.subarray(0, 5).toString('latin1') === '%PDF-' ? null : 'is not a PDF (no %PDF- header) although contentType says application/pdf';
  if (format === 'xml') {
    const head = bytes.subarray(0, 1024).toString('utf8').replace(/^\uFEFF/, '').trimStart();
    if (!head.startsWith('<')) return 'is not XML although contentType says it is';
    if (/<!DOCTYPE/i.test(bytes.toString('utf8'))) return 'XML with a DOCTYPE is not accepted';
  }
  return null;
}

export interface ParsedSignRequest {
  signer: PersonalIdentityNumber;
  signMessage: string;
  caseReference?: string;
  contentType: string;
  format: SignableFormat;
  document: Buffer;
}

/** Parse POST /v1/signing/requests. The signer is always named (a person who signs themselves names themselves). */
export function parseSignRequest(body: unknown): Result<ParsedSignRequest> {
  const errors: FieldError[] = [];
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const doc = (typeof b.document === 'object' && b.document !== null ? b.document : {}) as Record<string, unknown>;

  const content = decodeBase64(doc.content, '/body/document/content');
  if (!content.ok) errors.push(...content.errors);
  const contentType = typeof doc.contentType === 'string' ? doc.contentType.trim() : '';
  const baseType = contentType.split(';')[0]!.trim().toLowerCase();
  if (!MEDIA_TYPE.test(baseType)) errors.push({ field: '/body/document/contentType', message: 'must be a media type such as application/pdf' });
  const format = formatForContentType(contentType);
  if (content.ok && MEDIA_TYPE.test(baseType)) {
    const mismatch = contentMatchesFormat(content.value, format);
    if (mismatch) errors.push({ field: '/body/document/content', message: mismatch });
  }

  const signMessage = typeof b.signMessage === 'string' ? b.signMessage.trim() : '';
  if (signMessage.length === 0 || signMessage.length > SIGN_MESSAGE_MAX) errors.push({ field: '/body/signMessage', message: `must be 1 to ${SIGN_MESSAGE_MAX} characters` });
  else if (CONTROL.test(signMessage)) errors.push({ field: '/body/signMessage', message: 'must be one line of text without control characters' });
  else if (containsPersonalIdentityNumber(signMessage)) errors.push({ field: '/body/signMessage', message: 'must not contain a personal identity number (the message travels through the browser)' });

  let caseReference: string | undefined;
  if (b.caseReference !== undefined) {
    const c = typeof b.caseReference === 'string' ? b.caseReference.trim() : '';
    if (c.length === 0 || c.length > CASE_REFERENCE_MAX || CONTROL.test(c)) errors.push({ field: '/body/caseReference', message: `must be 1 to ${CASE_REFERENCE_MAX} characters of one-line text` });
    else if (containsPersonalIdentityNumber(c)) errors.push({ field: '/body/caseReference', message: 'must not contain a personal identity number' });
    else caseReference = c;
  }

  const signerObj = (typeof b.signer === 'object' && b.signer !== null ? b.signer : undefined) as Record<string, unknown> | undefined;
  const rawSigner = signerObj?.personalIdentityNumber;
  let signer: PersonalIdentityNumber | null = null;
  if (rawSigner === undefined) errors.push({ field: '/body/signer/personalIdentityNumber', message: 'required: name the person who is to sign' });
  else {
    signer = typeof rawSigner === 'string' ? parsePersonalIdentityNumber(rawSigner) : null;
    if (!signer) errors.push({ field: '/body/signer/personalIdentityNumber', message: 'must be a valid 12-digit personnummer or samordningsnummer' });
  }

  if (errors.length > 0 || !content.ok || !signer) return { ok: false, errors };
  return { ok: true, value: { signer, signMessage, ...(caseReference ? { caseReference } : {}), contentType, format, document: content.value } };
}

export interface ParsedValidationRequest {
  document: Buffer;
  detachedContent?: Buffer;
}

/** Parse POST /v1/signing/validations. */
export function parseValidationRequest(body: unknown): Result<ParsedValidationRequest> {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const errors: FieldError[] = [];
  const document = decodeBase64(b.document, '/body/document');
  if (!document.ok) errors.push(...document.errors);
  let detached: Buffer | undefined;
  if (b.detachedContent !== undefined) {
    const d = decodeBase64(b.detachedContent, '/body/detachedContent');
    if (d.ok) detached = d.value;
    else errors.push(...d.errors);
  }
  if (errors.length > 0 || !document.ok) return { ok: false, errors };
  return { ok: true, value: { document: document.value, ...(detached ? { detachedContent: detached } : {}) } };
}
