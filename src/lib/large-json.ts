// Issue 7 "Must show" (peak memory ≤ 3 × a 30 MB SDK message) and sdk.md §15 ("the API request body for a
// 30 MB message is about 30 MB of JSON"): JSON whose size is one or two huge string values (base64
// attachments). `JSON.parse(buffer.toString())` holds the bytes, the text and the value at once; here the huge
// string literals are taken straight from the bytes and only a small skeleton goes through JSON.parse.
//
// Exactness: a literal is cut only when it is a plain string literal of printable ASCII without a backslash,
// so its value is its bytes. It is replaced by another plain literal (a token), which leaves every other token
// of the text — and so the validity of the whole — unchanged; after parsing, each token must be found exactly
// once as a string VALUE (not a key), or the whole text is parsed the ordinary way.
import { randomBytes } from 'node:crypto';

/** String literals from this many bytes on are cut out of the text. */
export const LARGE_JSON_STRING_BYTES = 64 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Byte ranges [start, end) of the contents of the plain literals of at least `min` bytes. */
function largeLiterals(buf: Buffer, min: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let i = buf.indexOf(QUOTE);
  while (i !== -1) {
    const start = i + 1;
    let plain = true;
    let j = start;
    for (;;) {
      const q = buf.indexOf(QUOTE, j);
      if (q === -1) return out;
      // Scan the literal for escapes and for bytes that make it not plain.
      let k = j;
      for (; k < q; k++) {
        const c = buf[k]!;
        if (c === BACKSLASH) break;
        if (c < 0x20 || c > 0x7e) plain = false;
      }
      if (k < q) {
        // An escape: the literal goes on after the escaped byte.
        plain = false;
        j = k + 2;
        continue;
      }
      if (plain && q - start >= min) out.push([start, q]);
      i = buf.indexOf(QUOTE, q + 1);
      break;
    }
  }
  return out;
}

/**
 * JSON.parse of UTF-8 bytes (exactly as `JSON.parse(buf.toString('utf8'))`, including its SyntaxError), with
 * the huge string values copied once from `buf` instead of passing through a full-size text.
 */
export function parseJsonBytes(buf: Buffer, minStringBytes = LARGE_JSON_STRING_BYTES): unknown {
  const literals = buf.length < minStringBytes ? [] : largeLiterals(buf, minStringBytes);
  if (literals.length === 0) return JSON.parse(buf.toString('utf8')) as unknown;
  let marker: string;
  do marker = `LJ${randomBytes(12).toString('hex')}`;
  while (buf.indexOf(marker) !== -1);
  const byToken = new Map<string, [number, number]>();
  let skeleton = '';
  let at = 0;
  literals.forEach(([s, e], n) => {
    const token = `${marker}${n}`;
    byToken.set(token, [s, e]);
    skeleton += buf.toString('utf8', at, s) + token;
    at = e;
  });
  skeleton += buf.toString('utf8', at);
  const value = JSON.parse(skeleton) as unknown;
  let found = 0;
  let misplaced = false;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const range = v.startsWith(marker) ? byToken.get(v) : undefined;
      if (range === undefined) {
        if (v.includes(marker)) misplaced = true;
        return v;
      }
      found++;
      return buf.toString('latin1', range[0], range[1]);
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = walk(v[i]);
      return v;
    }
    if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        if (k.includes(marker)) misplaced = true;
        const before = o[k];
        const after = walk(before);
        if (after !== before) o[k] = after;
      }
    }
    return v;
  };
  const result = walk(value);
  if (misplaced || found !== literals.length) return JSON.parse(buf.toString('utf8')) as unknown;
  return result;
}
