// Stable hash of a request body for Idempotency-Key comparison (key order does not matter).
// The hash is SHA-256 of JSON.stringify of the body with every object's keys sorted — computed as a stream of
// pieces, so a 30 MB SDK request (issue 7 memory) is never turned into a second 30 MB string: a long string
// that needs no JSON escaping is fed to the hash in slices. The digest is exactly the one of
// `JSON.stringify(canon(body))` (test/unit/request-hash.test.ts compares them).
import { createHash, type Hash } from 'node:crypto';

/** Strings at least this long are hashed in slices when they need no escaping. */
const SLICE = 64 * 1024;

export function requestHash(body: unknown): string {
  const h = createHash('sha256');
  // A body JSON.stringify leaves out entirely (undefined, a function) made the old code hash `undefined`,
  // which throws: so does this.
  if (!writeCanonical(h, body)) h.update(undefined as unknown as string);
  return h.digest('hex');
}

/** A string JSON.stringify writes as `"` + s + `"`: no quote, backslash, control character or lone surrogate. */
function needsNoEscaping(s: string): boolean {
  // eslint-disable-next-line no-control-regex -- control characters are among what JSON.stringify escapes
  return !/["\\\u0000-\u001f\ud800-\udfff]/.test(s);
}

/**
 * Feed the JSON text of the canonical form of `v` to `h`; false when JSON.stringify would leave the value out
 * (undefined, a function, a symbol). The canonical form is the old `canon()`: arrays element-wise, any other
 * object as a new plain object of its own enumerable keys in sorted order, everything else as it is.
 */
function writeCanonical(h: Hash, v: unknown): boolean {
  if (typeof v === 'string') {
    if (v.length >= SLICE && needsNoEscaping(v)) {
      h.update('"');
      for (let i = 0; i < v.length; i += SLICE) h.update(v.slice(i, i + SLICE), 'utf8');
      h.update('"');
    } else {
      h.update(JSON.stringify(v), 'utf8');
    }
    return true;
  }
  if (Array.isArray(v)) {
    h.update('[');
    for (let i = 0; i < v.length; i++) {
      if (i > 0) h.update(',');
      if (!writeCanonical(h, v[i])) h.update('null');
    }
    h.update(']');
    return true;
  }
  if (v !== null && typeof v === 'object') {
    // The same object the old canon() built, so the same key order (integer-like keys first, as V8 orders them).
    const keysInOrder = Object.keys(Object.fromEntries(Object.keys(v).sort().map((k) => [k, true])));
    h.update('{');
    let first = true;
    for (const k of keysInOrder) {
      const item = (v as Record<string, unknown>)[k];
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
      if (!first) h.update(',');
      first = false;
      h.update(`${JSON.stringify(k)}:`, 'utf8');
      writeCanonical(h, item);
    }
    h.update('}');
    return true;
  }
  const text = JSON.stringify(v) as string | undefined;
  if (text === undefined) return false;
  h.update(text, 'utf8');
  return true;
}
