// Safe XML parsing for every adapter (../shared/specs/dependencies.md "XML security rules" 2, 3 and 7).
// xmldom keeps a DOCTYPE and only reports unknown entities, so a DTD is refused before parsing; size and
// nesting depth are limited; parse warnings are errors. Navigation helpers match on namespace URI and
// local name, never on prefixes (real answers use arbitrary prefixes).
import { DOMParser, type Document, type Element, type Node } from '@xmldom/xmldom';

/** Why a document was refused; STRUCTURE = parsed fine but not the expected shape (set by callers). */
export type XmlRejection = 'TOO_LARGE' | 'DOCTYPE' | 'ENCODING' | 'NOT_WELL_FORMED' | 'TOO_DEEP' | 'STRUCTURE';

export class XmlSafetyError extends Error {
  constructor(message: string, readonly rejection: XmlRejection = 'STRUCTURE') {
    super(message);
    this.name = 'XmlSafetyError';
  }
}

export interface SafeParseOptions {
  /** Largest accepted document in bytes (UTF-8). Default 4 MiB (a delivery is at most 2 MiB). */
  maxBytes?: number;
  /** Deepest accepted element nesting. Default 64. */
  maxDepth?: number;
}

const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;
const DEFAULT_MAX_DEPTH = 64;

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;
const PROCESSING_INSTRUCTION_NODE = 7;
const COMMENT_NODE = 8;

// XML 1.0 line-end handling only (CRLF and CR → LF). xmldom's default also folds U+2028/U+2029/U+0085
// as XML 1.1 does, which an XML 1.0 verifier (libxml2, xmlsec) would not: the digests would differ.
const xml10LineEnds = (s: string): string => s.replace(/\r\n?/g, '\n');

/**
 * Decode XML bytes as strict UTF-8 (a BOM is dropped). Invalid UTF-8 and any other declared encoding are
 * refused: signature libraries re-parse the string, so the bytes and the string must agree exactly.
 */
export function decodeXmlBytes(bytes: Uint8Array, maxBytes = DEFAULT_MAX_BYTES): string {
  if (bytes.length > maxBytes) throw new XmlSafetyError(`XML document of ${bytes.length} bytes exceeds the limit of ${maxBytes}`, 'TOO_LARGE');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new XmlSafetyError('XML is not valid UTF-8', 'ENCODING');
  }
  const decl = /^<\?xml[^?]*encoding\s*=\s*["']([^"']+)["']/.exec(text);
  if (decl && !/^utf-?8$/i.test(decl[1]!)) throw new XmlSafetyError(`unsupported XML encoding ${decl[1]!}`, 'ENCODING');
  return text;
}

/** True if the raw text declares a document type or an entity (checked before any parser sees it, rule 2). */
export function hasDoctype(text: string): boolean {
  return /<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text);
}

/**
 * Parse untrusted XML into an xmldom Document — the one safe parser of every adapter. Throws
 * `XmlSafetyError` (with its `rejection`) for an oversized input, bytes that are not UTF-8, a DOCTYPE/ENTITY
 * declaration (refused before parsing), any well-formedness error or warning, or too deep nesting.
 */
export function parseXmlSafely(input: string | Uint8Array, opts: SafeParseOptions = {}): Document {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  let text: string;
  if (typeof input === 'string') {
    const size = Buffer.byteLength(input, 'utf8');
    if (size > maxBytes) throw new XmlSafetyError(`XML document of ${size} bytes exceeds the limit of ${maxBytes}`, 'TOO_LARGE');
    text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  } else {
    text = decodeXmlBytes(input, maxBytes);
  }
  // Refuse before parsing: no DTD, no entity declarations, ever (rule 2).
  if (hasDoctype(text)) throw new XmlSafetyError('XML with a DOCTYPE or ENTITY declaration is refused', 'DOCTYPE');
  let doc: Document;
  try {
    doc = new DOMParser({
      normalizeLineEndings: xml10LineEnds,
      onError: (level, msg) => {
        throw new XmlSafetyError(`XML ${level}: ${msg}`, 'NOT_WELL_FORMED');
      },
    }).parseFromString(text, 'text/xml');
  } catch (e) {
    if (e instanceof XmlSafetyError) throw e;
    throw new XmlSafetyError(`XML is not well-formed: ${e instanceof Error ? e.message : String(e)}`, 'NOT_WELL_FORMED');
  }
  const root = doc.documentElement;
  if (!root) throw new XmlSafetyError('XML has no document element', 'NOT_WELL_FORMED');
  const depth = maxElementDepth(root);
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (depth > maxDepth) throw new XmlSafetyError(`XML nesting depth ${depth} exceeds the limit of ${maxDepth}`, 'TOO_DEEP');
  return doc;
}

/** Element depth, computed iteratively so a hostile document cannot exhaust the stack. */
function maxElementDepth(root: Element): number {
  let max = 0;
  const stack: Array<[Node, number]> = [[root, 1]];
  while (stack.length > 0) {
    const [node, d] = stack.pop()!;
    if (d > max) max = d;
    for (let c = node.firstChild; c; c = c.nextSibling) if (c.nodeType === ELEMENT_NODE) stack.push([c, d + 1]);
  }
  return max;
}

/** True when `n` is an element. */
export function isElement(n: Node | null | undefined): n is Element {
  return n !== null && n !== undefined && n.nodeType === ELEMENT_NODE;
}

/** Element children of `parent`, in document order. */
export function childElements(parent: Node): Element[] {
  const out: Element[] = [];
  for (let c = parent.firstChild; c; c = c.nextSibling) if (isElement(c)) out.push(c);
  return out;
}

/** True when `el` has this namespace URI and local name. */
export function isNamed(el: Element, ns: string | null, local: string): boolean {
  return (el.namespaceURI ?? null) === ns && el.localName === local;
}

/** All element children with this namespace and local name. */
export function childrenNamed(parent: Node, ns: string | null, local: string): Element[] {
  return childElements(parent).filter((e) => isNamed(e, ns, local));
}

/** The single child with this name, or undefined; throws when there are several. */
export function optionalChild(parent: Node, ns: string | null, local: string): Element | undefined {
  const found = childrenNamed(parent, ns, local);
  if (found.length > 1) throw new XmlSafetyError(`expected at most one ${local}, found ${found.length}`);
  return found[0];
}

/** The single child with this name; throws when it is missing or repeated. */
export function requiredChild(parent: Node, ns: string | null, local: string): Element {
  const el = optionalChild(parent, ns, local);
  if (!el) throw new XmlSafetyError(`missing element ${local}`);
  return el;
}

/** Text content of an element made of text/CDATA only (throws on child elements). */
export function textOf(el: Element): string {
  let s = '';
  for (let c = el.firstChild; c; c = c.nextSibling) {
    if (c.nodeType === TEXT_NODE || c.nodeType === CDATA_SECTION_NODE) s += c.nodeValue ?? '';
    else if (c.nodeType === ELEMENT_NODE) throw new XmlSafetyError(`element ${el.localName} has element content where text was expected`);
  }
  return s;
}

/** Trimmed text of an optional child, or undefined when the child is absent. */
export function optionalText(parent: Node, ns: string | null, local: string): string | undefined {
  const el = optionalChild(parent, ns, local);
  return el ? textOf(el).trim() : undefined;
}

/** Trimmed text of a required child. */
export function requiredText(parent: Node, ns: string | null, local: string): string {
  return textOf(requiredChild(parent, ns, local)).trim();
}

/** `xs:boolean` lexical forms. */
export function parseXsBoolean(s: string): boolean {
  const v = s.trim();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new XmlSafetyError(`not an xs:boolean: ${JSON.stringify(v.slice(0, 20))}`);
}

/**
 * Throw when the subtree holds a comment or a processing instruction: signed content must have
 * neither (rule 7; xml-crypto canonicalises a PI as text that the DOM reader skips).
 */
export function assertNoCommentsOrPIs(root: Node): void {
  const stack: Node[] = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n.nodeType === COMMENT_NODE) throw new XmlSafetyError('comments are not allowed in signed content');
    if (n.nodeType === PROCESSING_INSTRUCTION_NODE) throw new XmlSafetyError('processing instructions are not allowed in signed content');
    for (let c = n.firstChild; c; c = c.nextSibling) stack.push(c);
  }
}

/** Escape text for use in element content. */
export function escapeXmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
