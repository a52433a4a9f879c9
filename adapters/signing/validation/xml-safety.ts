// Hardened XML parsing for signature work: ../shared/specs/dependencies.md "XML security rules" 2 and 3
// (no DTDs ever, rejected before parsing; size and depth limits before trusting the tree).
import { DOMParser, type Document, type Node as XmlNode } from '@xmldom/xmldom';

export type XmlRejection = 'TOO_LARGE' | 'DOCTYPE' | 'ENCODING' | 'NOT_WELL_FORMED' | 'TOO_DEEP';

export class XmlSafetyError extends Error {
  readonly rejection: XmlRejection;
  constructor(rejection: XmlRejection, message: string) {
    super(message);
    this.name = 'XmlSafetyError';
    this.rejection = rejection;
  }
}

export interface XmlLimits {
  /** Largest accepted input in bytes (default 20 MiB). */
  maxBytes?: number;
  /** Deepest accepted element nesting (default 256). */
  maxDepth?: number;
}

const DEFAULT_MAX_BYTES = 20 * 1024 * 1024;
const DEFAULT_MAX_DEPTH = 256;

/**
 * Decode XML bytes as UTF-8 (with or without BOM). Other declared encodings are refused: signature
 * libraries re-parse the string, so the bytes and the string must agree exactly.
 */
export function decodeXml(bytes: Uint8Array, limits: XmlLimits = {}): string {
  if (bytes.length > (limits.maxBytes ?? DEFAULT_MAX_BYTES)) throw new XmlSafetyError('TOO_LARGE', `XML larger than ${limits.maxBytes ?? DEFAULT_MAX_BYTES} bytes`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new XmlSafetyError('ENCODING', 'XML is not valid UTF-8');
  }
  const decl = /^<\?xml[^?]*encoding\s*=\s*["']([^"']+)["']/.exec(text);
  if (decl && !/^utf-?8$/i.test(decl[1]!)) throw new XmlSafetyError('ENCODING', `unsupported XML encoding ${decl[1]!}`);
  return text;
}

/** True if the raw text declares a document type (checked on the raw text, before any parser sees it). */
export function hasDoctype(text: string): boolean {
  return /<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text);
}

/** Parse `input` after the pre-parse checks; throws XmlSafetyError. */
export function parseXmlSafely(input: string | Uint8Array, limits: XmlLimits = {}): Document {
  const text = typeof input === 'string' ? input : decodeXml(input, limits);
  if (typeof input === 'string' && Buffer.byteLength(text, 'utf8') > (limits.maxBytes ?? DEFAULT_MAX_BYTES)) {
    throw new XmlSafetyError('TOO_LARGE', `XML larger than ${limits.maxBytes ?? DEFAULT_MAX_BYTES} bytes`);
  }
  if (hasDoctype(text)) throw new XmlSafetyError('DOCTYPE', 'XML contains a document type declaration');
  const errors: string[] = [];
  let doc: Document;
  try {
    doc = new DOMParser({ onError: (level, msg) => void (level !== 'warning' && errors.push(msg)) }).parseFromString(text, 'text/xml');
  } catch (e) {
    throw new XmlSafetyError('NOT_WELL_FORMED', e instanceof Error ? e.message : 'XML is not well-formed');
  }
  if (errors.length > 0 || !doc.documentElement) throw new XmlSafetyError('NOT_WELL_FORMED', errors[0] ?? 'XML has no document element');
  const maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH;
  const walk = (n: XmlNode, depth: number): void => {
    if (depth > maxDepth) throw new XmlSafetyError('TOO_DEEP', `XML nested deeper than ${maxDepth}`);
    for (let c = n.firstChild; c; c = c.nextSibling) if (c.nodeType === 1) walk(c, depth + 1);
  };
  walk(doc.documentElement, 1);
  return doc;
}

/** Node types inside `root` that canonicalization handles unsafely or that hide text (rule 7). */
export function findInSubtree(root: XmlNode, nodeType: number): XmlNode | null {
  const stack: XmlNode[] = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    // xmldom reports the XML declaration as a processing instruction with target "xml"; it is not one.
    if (n.nodeType === nodeType && !(nodeType === PROCESSING_INSTRUCTION_NODE && n.nodeName.toLowerCase() === 'xml')) return n;
    for (let c = n.firstChild; c; c = c.nextSibling) stack.push(c);
  }
  return null;
}

export const PROCESSING_INSTRUCTION_NODE = 7;
export const COMMENT_NODE = 8;
