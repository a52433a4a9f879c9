// Hardened XML parsing for signature work: ../shared/specs/dependencies.md "XML security rules" 2 and 3
// (no DTDs ever, rejected before parsing; size and depth limits before trusting the tree). The checks live in
// the one shared safe parser (adapters/shared/xml-safe-parse.ts); this module gives signature validation its
// larger limits (whole signed documents, not protocol messages) and the node-type helpers for rule 7.
import type { Document, Node as XmlNode } from '@xmldom/xmldom';
import { decodeXmlBytes, hasDoctype, parseXmlSafely as parseShared, XmlSafetyError, type XmlRejection } from '../../shared/xml-safe-parse.js';

export { hasDoctype, XmlSafetyError, type XmlRejection };

export interface XmlLimits {
  /** Largest accepted input in bytes (default 20 MiB). */
  maxBytes?: number;
  /** Deepest accepted element nesting (default 256). */
  maxDepth?: number;
}

const DEFAULT_MAX_BYTES = 20 * 1024 * 1024;
const DEFAULT_MAX_DEPTH = 256;

/** Decode XML bytes as strict UTF-8 (with or without BOM); other declared encodings are refused. */
export function decodeXml(bytes: Uint8Array, limits: XmlLimits = {}): string {
  return decodeXmlBytes(bytes, limits.maxBytes ?? DEFAULT_MAX_BYTES);
}

/** Parse `input` after the pre-parse checks; throws XmlSafetyError. */
export function parseXmlSafely(input: string | Uint8Array, limits: XmlLimits = {}): Document {
  return parseShared(input, { maxBytes: limits.maxBytes ?? DEFAULT_MAX_BYTES, maxDepth: limits.maxDepth ?? DEFAULT_MAX_DEPTH });
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
