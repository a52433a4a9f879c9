// dependencies.md "XML security rules" 2–3 and sdk.md §15/§16.23: untrusted SDK XML (envelopes, payloads,
// receipts) is checked for DTDs, encoding and nesting depth before any parser sees it, then parsed strictly.
import { DOMParser, type Document as XDocument } from '@xmldom/xmldom';
import { findLargeRuns, LargeTexts, skeletonOf, tokensInPlace, LARGE_TEXT_MIN_BYTES } from './large-text.js';

export type XmlDocument = XDocument;

/** Why raw bytes were refused before or during parsing. None of these texts contain document content. */
export type UnsafeXmlKind = 'doctype' | 'encoding' | 'depth' | 'not-well-formed' | 'empty';

export class UnsafeXmlError extends Error {
  readonly kind: UnsafeXmlKind;
  constructor(kind: UnsafeXmlKind, message: string) {
    super(message);
    this.name = 'UnsafeXmlError';
    this.kind = kind;
  }
}

/** Nesting we allow: an XHE with an SDK payload is about 15 levels deep; extensions get generous headroom. */
export const DEFAULT_MAX_DEPTH = 100;

const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

/** Strip a UTF-8 byte order mark (XHE-tm-base-ext-sigenc.xml starts with one; sdk.md §15). */
export function stripBom(bytes: Uint8Array): Uint8Array {
  return bytes.length >= 3 && bytes[0] === UTF8_BOM[0] && bytes[1] === UTF8_BOM[1] && bytes[2] === UTF8_BOM[2] ? bytes.subarray(3) : bytes;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decode the document as UTF-8. We accept only UTF-8 (every SDK artefact is UTF-8): a declaration naming
 * another encoding, UTF-16 byte order marks and invalid UTF-8 sequences are refused.
 */
export function decodeUtf8Xml(bytes: Uint8Array): string {
  const b = stripBom(bytes);
  if (b.length >= 2 && ((b[0] === 0xfe && b[1] === 0xff) || (b[0] === 0xff && b[1] === 0xfe))) {
    throw new UnsafeXmlError('encoding', 'only UTF-8 encoded XML is accepted');
  }
  let text: string;
  try {
    text = utf8.decode(b);
  } catch {
    throw new UnsafeXmlError('encoding', 'the document is not valid UTF-8');
  }
  const decl = /^<\?xml\s[^?]*?encoding\s*=\s*(["'])([^"']*)\1/.exec(text);
  if (decl && !/^utf-?8$/i.test(decl[2] ?? '')) throw new UnsafeXmlError('encoding', 'only UTF-8 encoded XML is accepted');
  return text;
}

/**
 * Rule 2: a DTD is refused before parsing, whatever it contains (no internal subsets, no entities).
 * A literal `<!DOCTYPE` or `<!ENTITY` anywhere is enough: legitimate SDK documents never contain one.
 */
export function assertNoDtd(text: string): void {
  if (text.includes('<!DOCTYPE') || text.includes('<!ENTITY')) {
    throw new UnsafeXmlError('doctype', 'document type declarations and entities are not allowed');
  }
}

/**
 * Rule 3: element nesting depth, measured with a single scan that skips comments, CDATA sections,
 * processing instructions and quoted attribute values. Runs in linear time over the text.
 */
export function maxElementDepth(text: string, stopAbove = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let max = 0;
  let i = text.indexOf('<');
  while (i !== -1 && i < text.length) {
    if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end === -1) break;
      i = text.indexOf('<', end + 3);
      continue;
    }
    if (text.startsWith('<![CDATA[', i)) {
      const end = text.indexOf(']]>', i + 9);
      if (end === -1) break;
      i = text.indexOf('<', end + 3);
      continue;
    }
    if (text.startsWith('<?', i) || text.startsWith('<!', i)) {
      const end = text.indexOf('>', i + 2);
      if (end === -1) break;
      i = text.indexOf('<', end + 1);
      continue;
    }
    const closing = text[i + 1] === '/';
    // Find the end of the tag, honouring quotes in attribute values.
    let j = i + 1;
    let quote: string | null = null;
    for (; j < text.length; j++) {
      const c = text[j];
      if (quote !== null) {
        if (c === quote) quote = null;
      } else if (c === '"' || c === "'") {
        quote = c;
      } else if (c === '>') {
        break;
      }
    }
    if (j >= text.length) break;
    if (closing) depth--;
    else {
      // An empty-element tag sits one level deeper but does not stay open.
      const level = depth + 1;
      if (text[j - 1] !== '/') depth = level;
      if (level > max) {
        max = level;
        if (max > stopAbove) return max;
      }
    }
    i = text.indexOf('<', j + 1);
  }
  return max;
}

export interface SafeParseOptions {
  maxDepth?: number;
}

/**
 * Decode, run the pre-parse checks and parse with xmldom, turning every parser warning or error into a
 * refusal (a lenient parse could disagree with the XSD validator or the signature library about what the
 * document says).
 */
export function parseUntrustedXml(bytes: Uint8Array, opts: SafeParseOptions = {}): { text: string; doc: XmlDocument } {
  const text = decodeUtf8Xml(bytes);
  if (text.trim() === '') throw new UnsafeXmlError('empty', 'the document is empty');
  assertNoDtd(text);
  const limit = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (maxElementDepth(text, limit) > limit) throw new UnsafeXmlError('depth', `elements are nested deeper than ${limit} levels`);
  return { text, doc: parseXmlText(text) };
}

export interface SparseParseOptions extends SafeParseOptions {
  /** Cut texts from this many bytes on (default LARGE_TEXT_MIN_BYTES). */
  minLargeTextBytes?: number;
}

/**
 * Like parseUntrustedXml, but the big texts stay out of the string and the DOM (./large-text.ts): `text` and
 * `doc` are the skeleton, `large` holds the cut-out runs as views of `bytes`. When nothing can be cut, or the
 * skeleton does not stand in for the document exactly, this is parseUntrustedXml with no large texts.
 */
export function parseUntrustedXmlSparse(bytes: Uint8Array, opts: SparseParseOptions = {}): { text: string; doc: XmlDocument; large: LargeTexts } {
  const b = stripBom(bytes);
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const runs = findLargeRuns(buf, opts.minLargeTextBytes ?? LARGE_TEXT_MIN_BYTES);
  if (runs.length > 0) {
    const large = LargeTexts.create([buf]);
    const skeleton = skeletonOf(buf, runs, large);
    try {
      const parsed = parseUntrustedXml(skeleton, opts);
      if (tokensInPlace(parsed.doc, large)) return { ...parsed, large };
    } catch {
      // The whole document decides (below): it may be refused for another reason than the skeleton.
    }
  }
  return { ...parseUntrustedXml(bytes, opts), large: LargeTexts.none() };
}

/** Strict xmldom parse of text that already passed the pre-parse checks. */
export function parseXmlText(text: string): XmlDocument {
  let problem: string | undefined;
  const parser = new DOMParser({
    onError: (level: string, message: string) => {
      problem ??= `${level}: ${message.split('\n')[0] ?? ''}`;
      throw new Error(message);
    },
  });
  let doc: XmlDocument;
  try {
    doc = parser.parseFromString(text, 'text/xml');
  } catch {
    throw new UnsafeXmlError('not-well-formed', 'the document is not well-formed XML');
  }
  if (problem !== undefined || doc.documentElement === null) {
    throw new UnsafeXmlError('not-well-formed', 'the document is not well-formed XML');
  }
  return doc;
}
