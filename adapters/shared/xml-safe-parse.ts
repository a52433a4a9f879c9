// Safe XML parsing for every adapter (../shared/specs/dependencies.md "XML security rules" 2, 3 and 7).
// xmldom keeps a DOCTYPE and only reports unknown entities, so a DTD is refused before parsing; size and
// nesting depth are limited; parse warnings are errors. Navigation helpers match on namespace URI and
// local name, never on prefixes (real answers use arbitrary prefixes).
import { DOMParser, type Document, type Element, type Node } from '@xmldom/xmldom';

export class XmlSafetyError extends Error {
  constructor(message: string) {
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

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;
const PROCESSING_INSTRUCTION_NODE = 7;
const COMMENT_NODE = 8;

// XML 1.0 line-end handling only (CRLF and CR → LF). xmldom's default also folds U+2028/U+2029/U+0085
// as XML 1.1 does, which an XML 1.0 verifier (libxml2, xmlsec) would not: the digests would differ.
const xml10LineEnds = (s: string): string => s.replace(/\r\n?/g, '\n');

/**
 * Parse untrusted XML into an xmldom Document. Throws `XmlSafetyError` for a DOCTYPE/ENTITY
 * declaration, an oversized or too deeply nested document, or any well-formedness problem.
 */
export function parseXmlSafely(input: string | Buffer, opts: SafeParseOptions = {}): Document {
  const maxBytes = opts.maxBytes ?? 4 * 1024 * 1024;
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.length;
  if (size > maxBytes) throw new XmlSafetyError(`XML document of ${size} bytes exceeds the limit of ${maxBytes}`);
  let text = typeof input === 'string' ? input : input.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  // Refuse before parsing: no DTD, no entity declarations, ever (rule 2).
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) throw new XmlSafetyError('XML with a DOCTYPE or ENTITY declaration is refused');
  let doc: Document;
  try {
    doc = new DOMParser({
      normalizeLineEndings: xml10LineEnds,
      onError: (level, msg) => {
        throw new XmlSafetyError(`XML ${level}: ${msg}`);
      },
    }).parseFromString(text, 'text/xml');
  } catch (e) {
    if (e instanceof XmlSafetyError) throw e;
    throw new XmlSafetyError(`XML is not well-formed: ${e instanceof Error ? e.message : String(e)}`);
  }
  const root = doc.documentElement;
  if (!root) throw new XmlSafetyError('XML has no document element');
  const depth = maxElementDepth(root);
  const maxDepth = opts.maxDepth ?? 64;
  if (depth > maxDepth) throw new XmlSafetyError(`XML nesting depth ${depth} exceeds the limit of ${maxDepth}`);
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
