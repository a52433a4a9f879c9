// Safety-net masking of Swedish personal identity numbers (personnummer / samordningsnummer) in log
// output (style.md convention 8; dept44 PiiMasker, extended to the 12-digit form the national systems send).
// This is a last line of defence: callers must not put identity numbers into logs in the first place.

// 10 digits (YYMMDD[-+]NNNN) or 12 digits (YYYYMMDD[-]NNNN), not part of a longer digit run.
// The month/day checks keep ordinary 10/12-digit ids (timestamps, counters) from matching everything;
// samordningsnummer add 60 to the day, so days 61–91 are accepted as well.
const PNR = /(?<![0-9])((?:19|20)?[0-9]{2})(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01]|6[1-9]|[78][0-9]|9[01])([-+]?)([0-9]{4})(?![0-9])/g;

export const MASK = '[personnummer]';

/** Replace every personnummer-shaped substring in `text` with a fixed mask. */
export function maskPersonalNumbers(text: string): string {
  return text.replace(PNR, MASK);
}

/** Keys whose values are never logged, whatever they contain. */
const SECRET_KEYS = new Set([
  'authorization', 'cookie', 'set-cookie', 'password', 'secret', 'client_secret', 'token', 'access_token', 'id_token',
  'refresh_token', 'body', 'content', 'attachments', 'attachment', 'key', 'privatekey', 'private_key', 'signature',
  'signaturevalue', 'x509certificate', 'payload', 'personnummer', 'personalnumber', 'personalidentitynumber', 'recipient', 'recipients', 'subject',
]);

/**
 * Deep-copy `value`, replacing secret keys with "[redacted]" and masking personnummer in every string.
 * Cycles and very deep structures are cut off rather than followed.
 */
export function redact(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return maskPersonalNumbers(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8 || seen.has(value)) return '[truncated]';
  seen.add(value);
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `[${value.length} bytes]`;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1, seen));
  if (value instanceof Error) {
    return { type: value.name, message: maskPersonalNumbers(value.message), code: (value as { code?: unknown }).code, stack: value.stack ? maskPersonalNumbers(value.stack) : undefined };
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEYS.has(k.toLowerCase()) ? '[redacted]' : redact(v, depth + 1, seen);
  }
  return out;
}
