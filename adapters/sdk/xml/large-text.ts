// sdk.md §11 (messages up to 30 MB, envelopes about 4/3 of that) and issue 7 "Must show" (peak memory ≤ 3 ×
// the payload): an SDK document is a few kilobytes of structure around ONE big text — the base64 CipherValue of
// an envelope, the base64 attachment `content` of a payload. Holding that text as a JS string, in a DOM, in
// a canonical form and in libxml2 at once costs ten copies. Here the big text stays a byte range of the
// document (or, when we write a document, a producer of its bytes); everything else — parsing, signature
// checks, XSD, rules — runs on a small SKELETON in which each big text is replaced by a unique token.
//
// Why this is exact, not an approximation (each point has a test in test/unit/sdk/large-text.test.ts):
// * A run is cut only when it is the WHOLE text between a `>` and the next `<`, starts with a base64 character
//   and consists of base64 characters, `=`, space, tab and LF only. Such text needs no entity decoding and no
//   line-end normalisation, and Canonical XML (inclusive or exclusive) writes it back byte for byte; so the
//   canonical form of the document is the canonical form of the skeleton with each token replaced by its run,
//   and a digest over that (`LargeTexts.digest`) is the digest of the real document.
// * The token is `LT` + a random nonce that occurs nowhere in the document + an index: letters and digits only,
//   a multiple of four long (a valid xs:base64Binary and xs:string value), non-empty and starting like base64.
// * After parsing the skeleton, each token must be exactly one Text node whose parent is an element we know
//   (LARGE_TEXT_ELEMENTS: xenc:CipherValue = xs:base64Binary, tns:content = xs:string without facets and with
//   only the rules "not empty" and "starts with a base64 character", which the run and the token both meet).
//   The base64Binary lexical check of a cut-out CipherValue is done on its bytes (`base64BinaryProblem`).
//   Anything else — a token in a comment, an attribute, CDATA or another element, a skeleton that does not
//   parse — falls back to parsing the whole document exactly as before.
// * The DOCTYPE, encoding and depth checks see the skeleton: a run holds no `<`, `&` or non-ASCII byte, so
//   the skeleton has a DTD, a bad UTF-8 sequence or a deeper nesting exactly when the document has.
import { createHash, randomBytes } from 'node:crypto';
import type { Document as XDocument, Element as XElement, Node as XNode } from '@xmldom/xmldom';
import { NS } from '../../../src/domain/sdk/constants.js';
import { NODE_TYPES } from './dom.js';
import { youngGarbageRelease } from '../../../src/lib/memory.js';

/** Texts shorter than this stay in the skeleton (cutting them would save nothing). */
export const LARGE_TEXT_MIN_BYTES = 64 * 1024;

/** `namespace|localName` of the elements whose text may be cut out (see the module header). */
export const LARGE_TEXT_ELEMENTS: ReadonlySet<string> = new Set([`${NS.xenc}|CipherValue`, `${NS.message}|content`]);

const PREFIX = 'LT';
const NONCE_HEX = 24;
const INDEX_DIGITS = 6;
/** Strings are hashed and copied in pieces of this many characters (a slice of a flat string is not a copy). */
const STRING_PIECE = 64 * 1024;
/** PREFIX + nonce + index: 32 characters, letters and digits. */
const TOKEN_LENGTH = PREFIX.length + NONCE_HEX + INDEX_DIGITS;

// Byte classes of a cuttable run: B64 may start it; RUN may make it up.
const B64 = new Uint8Array(256);
const RUN = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') B64[c.charCodeAt(0)] = 1;
for (let i = 0; i < 256; i++) RUN[i] = B64[i]!;
for (const c of '= \t\n') RUN[c.charCodeAt(0)] = 1;

/** Where the text behind a token comes from. */
export type LargeTextSource =
  /** ASCII bytes exactly as they stand in the document (a received document). */
  | { kind: 'bytes'; bytes: Buffer }
  /** An ASCII string written into the document as it is (an attachment of a payload we write). */
  | { kind: 'string'; text: string }
  /** Text produced on demand, in order, `length` bytes of ASCII in total (e.g. the base64 of a ciphertext). */
  | { kind: 'produced'; length: number; produce: () => Iterable<Buffer> };

/**
 * The big texts of one document, by token. Read them only through these methods: `text` and `bytes`
 * materialise one text (a copy), `emit`/`digest`/`assemble` stream the whole document.
 */
export class LargeTexts {
  private readonly sources = new Map<string, LargeTextSource>();
  private readonly marker: string;

  private constructor(nonce: string) {
    this.marker = PREFIX + nonce;
  }

  /** A set whose nonce occurs in none of `avoid` (the document's bytes, or the strings that will go into it). */
  static create(avoid: ReadonlyArray<Buffer | string> = []): LargeTexts {
    for (;;) {
      const nonce = randomBytes(NONCE_HEX / 2).toString('hex');
      const marker = PREFIX + nonce;
      if (avoid.every((a) => a.indexOf(marker) === -1)) return new LargeTexts(nonce);
    }
  }

  /** No big texts: every method is the identity on the document text. */
  static none(): LargeTexts {
    return new LargeTexts(randomBytes(NONCE_HEX / 2).toString('hex'));
  }

  get size(): number {
    return this.sources.size;
  }

  /** Register a text; returns its token. */
  add(source: LargeTextSource): string {
    const token = this.marker + String(this.sources.size).padStart(INDEX_DIGITS, '0');
    this.sources.set(token, source);
    return token;
  }

  tokens(): string[] {
    return [...this.sources.keys()];
  }

  /** True when `s` is exactly one of our tokens. */
  isToken(s: string | null | undefined): s is string {
    return typeof s === 'string' && s.length === TOKEN_LENGTH && this.sources.has(s);
  }

  /** True when `s` contains one of our tokens. */
  mentions(s: string): boolean {
    return this.sources.size > 0 && s.includes(this.marker);
  }

  /** Length in bytes of the text behind `token`. */
  byteLength(token: string): number {
    const s = this.source(token);
    return s.kind === 'bytes' ? s.bytes.length : s.kind === 'string' ? s.text.length : s.length;
  }

  private source(token: string): LargeTextSource {
    const s = this.sources.get(token);
    if (s === undefined) throw new Error('unknown large-text token');
    return s;
  }

  /**
   * Where the text behind `token` stands in `outer`, when it is a view of those very bytes (a received
   * document parsed from `outer`); undefined otherwise. Lets a reader keep a big text as a range of the
   * document instead of copying it out (issue 7 memory; src/domain/sdk/attachments-in-payload.ts).
   */
  rangeWithin(token: string, outer: Uint8Array): { offset: number; length: number } | undefined {
    const s = this.source(token);
    if (s.kind !== 'bytes' || s.bytes.buffer !== outer.buffer) return undefined;
    const offset = s.bytes.byteOffset - outer.byteOffset;
    if (offset < 0 || offset + s.bytes.length > outer.byteLength) return undefined;
    return { offset, length: s.bytes.length };
  }

  /** The text behind `token` as chunks of bytes (no copy for received documents; 64 KiB pieces of a string). */
  *chunks(token: string): Iterable<Buffer> {
    const s = this.source(token);
    if (s.kind === 'bytes') yield s.bytes;
    else if (s.kind === 'string') for (let i = 0; i < s.text.length; i += STRING_PIECE) yield Buffer.from(s.text.slice(i, i + STRING_PIECE), 'latin1');
    else yield* s.produce();
  }

  /** The text behind `token` as one Buffer (a view for received documents, else a copy). */
  bytes(token: string): Buffer {
    const s = this.source(token);
    if (s.kind === 'bytes') return s.bytes;
    const out = Buffer.allocUnsafe(this.byteLength(token));
    let at = 0;
    for (const c of this.chunks(token)) at += c.copy(out, at);
    if (at !== out.length) throw new Error('a produced large text has the wrong length');
    return out;
  }

  /** The text behind `token` as a string (one copy; the texts are ASCII). */
  text(token: string): string {
    const s = this.source(token);
    if (s.kind === 'string') return s.text;
    return s.kind === 'bytes' ? s.bytes.toString('latin1') : this.bytes(token).toString('latin1');
  }

  /** How many times our marker occurs in `s` (each token must occur exactly once in a skeleton). */
  occurrences(s: string): number {
    let n = 0;
    for (let at = s.indexOf(this.marker); at !== -1; at = s.indexOf(this.marker, at + 1)) n++;
    return n;
  }

  /** `s` with every token replaced by its text (materialises the texts it mentions). */
  resolve(s: string): string {
    if (!this.mentions(s)) return s;
    let out = '';
    this.split(s, (part) => { out += part; }, (token) => { out += this.text(token); });
    return out;
  }

  private split(s: string, onText: (part: string) => void, onToken: (token: string) => void): void {
    let from = 0;
    for (;;) {
      const at = this.sources.size === 0 ? -1 : s.indexOf(this.marker, from);
      if (at === -1) break;
      const token = s.slice(at, at + TOKEN_LENGTH);
      if (!this.sources.has(token)) throw new Error('an unknown large-text token in a document');
      if (at > from) onText(s.slice(from, at));
      onToken(token);
      from = at + TOKEN_LENGTH;
    }
    if (from < s.length) onText(from === 0 ? s : s.slice(from));
  }

  /**
   * Feed `s` with every token replaced by its text to `sink`, piece by piece: strings are to be encoded as
   * UTF-8, Buffers are bytes.
   */
  emit(s: string, sink: (chunk: Buffer | string) => void): void {
    this.split(s, (part) => sink(part), (token) => {
      const src = this.source(token);
      if (src.kind === 'string') for (let i = 0; i < src.text.length; i += STRING_PIECE) sink(src.text.slice(i, i + STRING_PIECE));
      else for (const c of this.chunks(token)) sink(c);
    });
  }

  /** Digest (base64) of the UTF-8 bytes of `s` with every token replaced by its text. */
  digest(algorithm: 'sha256' | 'sha512' | 'sha1', s: string): string {
    const h = createHash(algorithm);
    this.emit(s, (c) => (typeof c === 'string' ? h.update(c, 'utf8') : h.update(c)));
    return h.digest('base64');
  }

  /** Byte length of `s` with every token replaced by its text. */
  assembledLength(s: string): number {
    let n = 0;
    this.split(s, (part) => { n += Buffer.byteLength(part, 'utf8'); }, (token) => { n += this.byteLength(token); });
    return n;
  }

  /** `s` with every token replaced by its text, written once into a Buffer of exactly the right size. */
  assemble(s: string): Buffer {
    const out = Buffer.allocUnsafe(this.assembledLength(s));
    let at = 0;
    this.emit(s, (c) => { at += typeof c === 'string' ? out.write(c, at, 'utf8') : c.copy(out, at); });
    if (at !== out.length) throw new Error('a large text changed while the document was assembled');
    return out;
  }
}

/** Byte ranges [start, end) of the runs of `doc` that may be cut out (module header). */
export function findLargeRuns(doc: Buffer, minBytes = LARGE_TEXT_MIN_BYTES): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  if (doc.length < minBytes) return runs;
  let from = 0;
  for (;;) {
    const gt = doc.indexOf(0x3e, from);
    if (gt === -1) break;
    const start = gt + 1;
    const lt = doc.indexOf(0x3c, start);
    if (lt === -1) break;
    if (lt - start >= minBytes && isRun(doc, start, lt)) runs.push([start, lt]);
    from = lt + 1;
  }
  return runs;
}

function isRun(doc: Buffer, start: number, end: number): boolean {
  if (B64[doc[start]!] !== 1) return false;
  for (let i = start + 1; i < end; i++) if (RUN[doc[i]!] !== 1) return false;
  return true;
}

/** True when the string could stand as a cut-out run (what `findLargeRuns` accepts), for documents we write. */
export function isLargeRunText(s: string, minBytes = LARGE_TEXT_MIN_BYTES): boolean {
  if (s.length < minBytes) return false;
  // Letters, digits, + / = space, tab, LF; first a base64 character. One regex pass, no copy.
  return /^[A-Za-z0-9+/][A-Za-z0-9+/= \t\n]*$/.test(s);
}

/** The document with each run replaced by a token of `large`. */
export function skeletonOf(doc: Buffer, runs: ReadonlyArray<[number, number]>, large: LargeTexts): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (const [s, e] of runs) {
    parts.push(doc.subarray(at, s), Buffer.from(large.add({ kind: 'bytes', bytes: doc.subarray(s, e) }), 'latin1'));
    at = e;
  }
  parts.push(doc.subarray(at));
  return Buffer.concat(parts);
}

/**
 * True when every token of `large` is exactly one Text node of `doc` whose parent is one of
 * LARGE_TEXT_ELEMENTS (and no token is anywhere else). Otherwise the skeleton must not be used.
 */
export function tokensInPlace(doc: XDocument, large: LargeTexts): boolean {
  const seen = new Set<string>();
  let stray = false;
  const walk = (n: XNode): void => {
    for (let c = n.firstChild; c !== null && !stray; c = c.nextSibling) {
      if (c.nodeType === NODE_TYPES.ELEMENT_NODE) {
        const el = c as XElement;
        for (let i = 0; i < el.attributes.length; i++) if (large.mentions(el.attributes.item(i)?.value ?? '')) stray = true;
        walk(el);
      } else if (c.nodeType === NODE_TYPES.TEXT_NODE) {
        const data = (c as unknown as { data: string }).data;
        if (!large.mentions(data)) continue;
        const parent = c.parentNode as XElement | null;
        if (!large.isToken(data) || seen.has(data) || parent === null || !LARGE_TEXT_ELEMENTS.has(`${parent.namespaceURI ?? ''}|${parent.localName ?? ''}`)) stray = true;
        else seen.add(data);
      } else if (large.mentions((c as unknown as { nodeValue: string | null }).nodeValue ?? '')) {
        stray = true;
      }
    }
  };
  walk(doc);
  return !stray && seen.size === large.size;
}

/**
 * The xs:base64Binary lexical check (XML Schema 1.0 Part 2 §3.2.16, after whitespace collapse) of ASCII
 * bytes: letters, digits, `+`, `/`, whitespace anywhere; a multiple of four characters; `=` padding only at
 * the end, one after a character of the 16-set, two after a character of the 4-set. Returns null when valid.
 */
export function base64BinaryProblem(chunks: Iterable<Buffer>): string | null {
  let count = 0;
  let pad = 0;
  let last = 0;
  let beforePad = 0;
  for (const b of chunks) {
    for (let i = 0; i < b.length; i++) {
      const c = b[i]!;
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
      if (c === 0x3d) {
        if (pad === 0) beforePad = last;
        pad++;
        count++;
        continue;
      }
      if (B64[c] !== 1) return 'a character outside the base64 alphabet';
      if (pad > 0) return 'padding in the middle';
      last = c;
      count++;
    }
  }
  if (count % 4 !== 0) return 'a length that is not a multiple of four';
  if (pad > 2) return 'too much padding';
  if (pad === 1 && !'AEIMQUYcgkosw048'.includes(String.fromCharCode(beforePad))) return 'non-zero bits before the padding';
  if (pad === 2 && !'AQgw'.includes(String.fromCharCode(beforePad))) return 'non-zero bits before the padding';
  return null;
}

/**
 * Decode base64 text (whitespace ignored) chunk by chunk: `sink` receives the decoded bytes in pieces of
 * at most about `window` bytes, and no copy of the whole text or of the whole result is ever made here.
 */
export function decodeBase64Chunks(chunks: Iterable<Buffer>, sink: (decoded: Buffer) => void, window = 64 * 1024): void {
  const scratch = Buffer.allocUnsafe(window + 4);
  let n = 0;
  const flush = (all: boolean): void => {
    const usable = all ? n : n - (n % 4);
    if (usable === 0) return;
    sink(Buffer.from(scratch.toString('latin1', 0, usable), 'base64'));
    scratch.copy(scratch, 0, usable, n);
    n -= usable;
  };
  for (const b of chunks) {
    for (let i = 0; i < b.length; i++) {
      const c = b[i]!;
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
      scratch[n++] = c;
      if (n >= window) flush(false);
    }
  }
  flush(true);
}

const B64_ALPHABET = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 'latin1');

/**
 * The base64 (RFC 4648, no line breaks) of `src[start, end)` — a multiple of 3 bytes — written straight into a
 * new Buffer. `buf.toString('base64')` would make a string first: for a 30 MB ciphertext, encoded twice, that
 * is 80 MB of short-lived V8 heap strings, and V8 grows its young generation to hold them (issue 7 memory).
 */
function base64Bytes(src: Buffer, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(((end - start) / 3) * 4);
  let o = 0;
  for (let i = start; i < end; i += 3) {
    const v = (src[i]! << 16) | (src[i + 1]! << 8) | src[i + 2]!;
    out[o++] = B64_ALPHABET[v >>> 18]!;
    out[o++] = B64_ALPHABET[(v >>> 12) & 63]!;
    out[o++] = B64_ALPHABET[(v >>> 6) & 63]!;
    out[o++] = B64_ALPHABET[v & 63]!;
  }
  return out;
}

/** Number of bytes `decodeBase64Chunks` yields for valid base64 text. */
export function decodedBase64Length(chunks: Iterable<Buffer>): number {
  let count = 0;
  let pad = 0;
  for (const b of chunks) {
    for (let i = 0; i < b.length; i++) {
      const c = b[i]!;
      if (c === 0x3d) pad++;
      else if (B64[c] === 1) count++;
    }
  }
  return Math.floor(((count + pad) / 4) * 3) - pad;
}

/**
 * Base64 of `produce()`'s bytes as chunks (3-byte aligned, so each chunk encodes on its own). Used for the
 * CipherValue we write: the ciphertext is produced twice (digest, then output) instead of being held.
 *
 * Memory (issue 7): a chunk that does not start 3-aligned is not joined to the carry as a whole (a copy of
 * every chunk, since the 16-byte IV leaves a carry for the whole stream); only the carry and the first
 * bytes of the chunk are. Chunks are encoded straight into bytes (`base64Bytes`, no string in between); each
 * leaves 4/3 of its input behind as garbage, which is what `youngGarbageRelease` is told when `totalBytes` is
 * given (src/lib/memory.ts).
 */
export function base64Chunks(produce: () => Iterable<Buffer>, totalBytes = 0): () => Iterable<Buffer> {
  return function* encode(): Iterable<Buffer> {
    const release = youngGarbageRelease(totalBytes);
    let carry: Buffer = Buffer.alloc(0);
    for (const c of produce()) {
      let from = 0;
      if (carry.length > 0) {
        const take = Math.min(3 - carry.length, c.length);
        carry = Buffer.concat([carry, c.subarray(0, take)]);
        from = take;
        if (carry.length < 3) continue;
        yield Buffer.from(carry.toString('base64'), 'latin1');
        carry = Buffer.alloc(0);
      }
      const rest = c.length - from;
      const usable = rest - (rest % 3);
      if (usable > 0) yield base64Bytes(c, from, from + usable);
      if (usable < rest) carry = Buffer.from(c.subarray(from + usable));
      release(Math.ceil((usable * 4) / 3));
    }
    if (carry.length > 0) yield Buffer.from(carry.toString('base64'), 'latin1');
  };
}

/** Length of the base64 text of `n` bytes. */
export function base64Length(n: number): number {
  return Math.ceil(n / 3) * 4;
}
