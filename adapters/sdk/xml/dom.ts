// sdk.md §9 (LineID = XPath of the offending node): DOM helpers and the canonical XPath we write into
// receipt lines. Paths use fixed prefixes (XPATH_PREFIXES) whatever prefixes the sender chose, and carry a
// position predicate only where same-named siblings exist, e.g.
// `/tns:messagePayload/tns:message/tns:messageBody/tns:documents[2]/tns:ContentFiles/tns:content`.
import type { Attr as XAttr, Element as XElement, Node as XNode } from '@xmldom/xmldom';
import { NS } from '../../../src/domain/sdk/constants.js';

export type XmlElement = XElement;
export type XmlNode = XNode;

/** The prefixes used in the XPaths we emit. A reader evaluates them with exactly this mapping. */
export const XPATH_PREFIXES: Readonly<Record<string, string>> = {
  tns: NS.message,
  x: NS.xhe,
  xha: NS.xha,
  xhb: NS.xhb,
  xhext: NS.xhext,
  ds: NS.ds,
  xenc: NS.xenc,
  app: NS.app,
  cac: NS.cac,
  cbc: NS.cbc,
};

const PREFIX_FOR: ReadonlyMap<string, string> = new Map(Object.entries(XPATH_PREFIXES).map(([p, uri]) => [uri, p]));

const ELEMENT_NODE = 1;
const ATTRIBUTE_NODE = 2;
const TEXT_NODE = 3;
const CDATA_NODE = 4;
const PI_NODE = 7;
const COMMENT_NODE = 8;
const DOCUMENT_NODE = 9;

export const NODE_TYPES = { ELEMENT_NODE, ATTRIBUTE_NODE, TEXT_NODE, CDATA_NODE, PI_NODE, COMMENT_NODE, DOCUMENT_NODE } as const;

export function isElement(n: XNode | null | undefined): n is XElement {
  return n !== null && n !== undefined && n.nodeType === ELEMENT_NODE;
}

function stepName(ns: string | null, local: string): string {
  if (ns === null || ns === '') return local;
  const p = PREFIX_FOR.get(ns);
  return p !== undefined ? `${p}:${local}` : `*[local-name()='${local}' and namespace-uri()='${ns}']`;
}

function localOf(n: XElement): string {
  return n.localName ?? n.nodeName;
}

/** Canonical XPath of an element or attribute (see module header). */
export function xpathOf(node: XNode): string {
  if (node.nodeType === ATTRIBUTE_NODE) {
    const a = node as XAttr;
    const owner = a.ownerElement;
    const name = a.namespaceURI ? stepName(a.namespaceURI, a.localName ?? a.name) : (a.localName ?? a.name);
    return owner ? `${xpathOf(owner)}/@${name}` : `/@${name}`;
  }
  const steps: string[] = [];
  let cur: XNode | null = node;
  while (cur !== null && cur.nodeType === ELEMENT_NODE) {
    const el = cur as XElement;
    const ns = el.namespaceURI;
    const local = localOf(el);
    let index = 0;
    let count = 0;
    const parent: XNode | null = el.parentNode;
    if (parent !== null) {
      for (let s = parent.firstChild; s !== null; s = s.nextSibling) {
        if (isElement(s) && s.namespaceURI === ns && localOf(s) === local) {
          count++;
          if (s === el) index = count;
        }
      }
    }
    steps.unshift(count > 1 ? `${stepName(ns, local)}[${index}]` : stepName(ns, local));
    cur = parent;
  }
  return `/${steps.join('/')}`;
}

/**
 * Resolve a path in libxml2's xmlGetNodePath notation against the xmldom tree of the same bytes.
 * libxml2 writes `prefix:name[n]` (n counts same-named siblings), `*[n]` for elements in a default
 * namespace (n counts all element siblings) and `name[n]` for elements in no namespace.
 */
export function resolveLibxmlPath(doc: { documentElement: XElement | null }, path: string): XNode | null {
  if (!path.startsWith('/')) return null;
  const steps = path.slice(1).split('/');
  let context: XNode | null = null;
  for (const [i, raw] of steps.entries()) {
    const m = /^(@)?([^[\]]+)(?:\[(\d+)\])?$/.exec(raw);
    if (!m) return null;
    const [, at, name, idx] = m as unknown as [string, string | undefined, string, string | undefined];
    if (at !== undefined) {
      if (!isElement(context) || i !== steps.length - 1) return null;
      const attr = context.getAttributeNode(name);
      return attr;
    }
    const wanted = idx === undefined ? 1 : Number(idx);
    const candidates: XElement[] = [];
    if (i === 0) {
      if (doc.documentElement) candidates.push(doc.documentElement);
    } else if (isElement(context)) {
      for (let s = context.firstChild; s !== null; s = s.nextSibling) if (isElement(s)) candidates.push(s);
    }
    const matching = name === '*' ? candidates : candidates.filter((c) => c.tagName === name || (c.prefix === null && localOf(c) === name));
    context = matching[wanted - 1] ?? null;
    if (context === null) return null;
  }
  return context;
}

/** Child elements of `el` with the given namespace and local name (document order). */
export function childElements(el: XElement, ns: string, local: string): XElement[] {
  const out: XElement[] = [];
  for (let s = el.firstChild; s !== null; s = s.nextSibling) {
    if (isElement(s) && s.namespaceURI === ns && localOf(s) === local) out.push(s);
  }
  return out;
}

export function allChildElements(el: XElement): XElement[] {
  const out: XElement[] = [];
  for (let s = el.firstChild; s !== null; s = s.nextSibling) if (isElement(s)) out.push(s);
  return out;
}

export function firstChild(el: XElement | undefined, ns: string, local: string): XElement | undefined {
  return el === undefined ? undefined : childElements(el, ns, local)[0];
}

/** Follow a path of [ns, local] steps through first children. */
export function path(el: XElement | undefined, ...steps: [string, string][]): XElement | undefined {
  let cur = el;
  for (const [ns, local] of steps) cur = firstChild(cur, ns, local);
  return cur;
}

/** All descendant elements of `el` (not including `el`), document order. */
export function descendantElements(el: XElement): XElement[] {
  const out: XElement[] = [];
  const walk = (n: XElement): void => {
    for (let s = n.firstChild; s !== null; s = s.nextSibling) {
      if (isElement(s)) {
        out.push(s);
        walk(s);
      }
    }
  };
  walk(el);
  return out;
}

/** Descendant elements matching namespace + local name, optionally including `el` itself. */
export function findElements(el: XElement, ns: string, local: string, includeSelf = false): XElement[] {
  const all = includeSelf ? [el, ...descendantElements(el)] : descendantElements(el);
  return all.filter((e) => e.namespaceURI === ns && localOf(e) === local);
}

/** XPath string-value of a node (concatenated descendant text). */
export function stringValue(n: XNode | undefined): string {
  if (n === undefined) return '';
  return n.textContent ?? '';
}

/** XPath normalize-space(). */
export function normalizeSpace(s: string): string {
  return s.replace(/[\t\n\r ]+/g, ' ').trim();
}

export function textOf(el: XElement | undefined): string | undefined {
  return el === undefined ? undefined : stringValue(el);
}

export function hasAncestor(el: XElement, ns: string, local: string): boolean {
  for (let p = el.parentNode; p !== null; p = p.parentNode) {
    if (isElement(p) && p.namespaceURI === ns && localOf(p) === local) return true;
  }
  return false;
}

/** Every comment and processing instruction in the document (XML rule 7: none may occur in signed content). */
export function commentsAndProcessingInstructions(doc: XNode): XNode[] {
  const out: XNode[] = [];
  const walk = (n: XNode): void => {
    for (let s = n.firstChild; s !== null; s = s.nextSibling) {
      // xmldom represents the XML declaration as a processing instruction named "xml": it is not content.
      if (s.nodeType === COMMENT_NODE || (s.nodeType === PI_NODE && !(n.nodeType === DOCUMENT_NODE && s.nodeName.toLowerCase() === 'xml'))) out.push(s);
      else if (s.nodeType === ELEMENT_NODE) walk(s);
    }
  };
  walk(doc);
  return out;
}

/** Expanded name of an element for messages: `prefix:local` with our canonical prefixes. */
export function displayName(el: XElement): string {
  return stepName(el.namespaceURI, localOf(el));
}

export { localOf };
