// sdk.md §5 row 2 (XSD violation → REJECTED/SV/structure) and §15 (XSD 1.0 validation of three schema
// sets): validation against OUR contracts in contracts/sdk with libxml2-wasm. Schemas are compiled once per
// process; instance documents are parsed without network, entity expansion or external DTD loading.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ParseOption, XmlDocument, XsdValidator, xmlRegisterInputProvider, XmlLibError } from 'libxml2-wasm';
import { maskPersonalNumbers } from '../../../src/lib/redact.js';
import { resolveLibxmlPath, xpathOf } from '../xml/dom.js';
import type { XmlDocument as DomDocument } from '../xml/safe-xml.js';
import { stripBom } from '../xml/safe-xml.js';

export type SdkSchema = 'message' | 'xhe' | 'receipt';

export const SCHEMA_FILES: Readonly<Record<SdkSchema, string>> = {
  message: 'message-3/sdk-message-3.0.xsd',
  xhe: 'xhe-1.0/xhe-envelope.xsd',
  receipt: 'receipt-1.0/sdk-receipt-1.0.xsd',
};

/** contracts/sdk relative to this file (adapters/sdk/validation → ../../../contracts/sdk). */
export const DEFAULT_CONTRACTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../contracts/sdk');

export interface SchemaViolation {
  /** Canonical XPath when the node could be located, libxml2's own path otherwise, or "NA". */
  path: string;
  /** libxml2's message with element names shortened and every quoted value removed (no content leaks). */
  text: string;
  line: number;
}

// libxml2 reads schema imports through registered input providers. Ours serves only files below the
// contracts directory, so an instance document can never make the validator read anything else.
const allowedRoots = new Set<string>();
let providerRegistered = false;
const openFiles = new Map<number, number>();
let nextHandle = 1;

function toPath(filename: string): string | null {
  try {
    const u = new URL(filename);
    return u.protocol === 'file:' ? fileURLToPath(u) : null;
  } catch {
    return filename;
  }
}

function isAllowed(filename: string): boolean {
  const p = toPath(filename);
  if (p === null) return false;
  const resolved = path.resolve(p);
  for (const root of allowedRoots) if (resolved.startsWith(root + path.sep) && resolved.endsWith('.xsd')) return true;
  return false;
}

function ensureProvider(contractsDir: string): void {
  allowedRoots.add(path.resolve(contractsDir));
  if (providerRegistered) return;
  providerRegistered = true;
  xmlRegisterInputProvider({
    match: (filename) => isAllowed(filename) && fs.existsSync(toPath(filename) ?? ''),
    open: (filename) => {
      const p = toPath(filename);
      if (p === null || !isAllowed(filename)) return undefined;
      try {
        const fd = fs.openSync(p, 'r');
        const handle = nextHandle++;
        openFiles.set(handle, fd);
        return handle;
      } catch {
        return undefined;
      }
    },
    read: (handle, buf) => {
      const fd = openFiles.get(handle);
      if (fd === undefined) return -1;
      try {
        return fs.readSync(fd, buf, 0, buf.byteLength, null);
      } catch {
        return -1;
      }
    },
    close: (handle) => {
      const fd = openFiles.get(handle);
      openFiles.delete(handle);
      if (fd !== undefined) fs.closeSync(fd);
      return true;
    },
  });
}

const validators = new Map<string, XsdValidator>();

/** Compile (once) and return the validator for one of our schemas. */
export function schemaValidator(schema: SdkSchema, contractsDir = DEFAULT_CONTRACTS_DIR): XsdValidator {
  const key = `${contractsDir}|${schema}`;
  const cached = validators.get(key);
  if (cached) return cached;
  ensureProvider(contractsDir);
  const file = path.join(contractsDir, SCHEMA_FILES[schema]);
  const xsdDoc = XmlDocument.fromBuffer(fs.readFileSync(file), { url: file, option: ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE });
  try {
    const v = XsdValidator.fromDoc(xsdDoc);
    validators.set(key, v);
    return v;
  } finally {
    xsdDoc.dispose();
  }
}

// Instance documents: no network, no external entities, no DTD loading; HUGE because a 30 MiB payload is
// one base64 text node (above libxml2's default 10 MB text limit). Size and depth are checked before this.
const INSTANCE_OPTIONS =
  ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE | ParseOption.XML_PARSE_HUGE | ParseOption.XML_PARSE_BIG_LINES | ParseOption.XML_PARSE_NOCDATA;

const NAMESPACE_ALIASES: [string, string][] = [
  ['urn:riv:infrastructure:messaging:MessageWithAttachments:3', 'tns'],
  ['http://docs.oasis-open.org/bdxr/ns/XHE/1/ExchangeHeaderEnvelope', 'x'],
  ['http://docs.oasis-open.org/bdxr/ns/XHE/1/AggregateComponents', 'xha'],
  ['http://docs.oasis-open.org/bdxr/ns/XHE/1/BasicComponents', 'xhb'],
  ['http://docs.oasis-open.org/bdxr/ns/XHE/1/ExtensionComponents', 'xhext'],
  ['http://www.w3.org/2000/09/xmldsig#', 'ds'],
  ['http://www.w3.org/2001/04/xmlenc#', 'xenc'],
  ['urn:oasis:names:specification:ubl:schema:xsd:ApplicationResponse-2', 'app'],
  ['urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2', 'cac'],
  ['urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2', 'cbc'],
];

/**
 * Make a libxml2 schema message safe for a receipt: `{ns}local` becomes `prefix:local`, and every quoted
 * string that is not a schema name (i.e. a value taken from the document) is replaced by `'…'`.
 */
export function sanitizeSchemaMessage(message: string): string {
  let m = message.replace(/\s+$/, '');
  for (const [uri, prefix] of NAMESPACE_ALIASES) m = m.split(`{${uri}}`).join(`${prefix}:`);
  m = m.replace(/'([^']*)'/g, (_all, inner: string) => {
    const isName = /^(?:[A-Za-z_][\w.-]*:)?[A-Za-z_][\w.-]*$/.test(inner) || /^\{[^}]*\}[A-Za-z_][\w.-]*$/.test(inner);
    return isName && inner.length <= 80 ? `'${inner}'` : "'…'";
  });
  return maskPersonalNumbers(m).slice(0, 400);
}

/**
 * Validate bytes against one of our schemas. `dom` (an xmldom parse of the same bytes) lets us convert
 * libxml2's node paths into canonical XPaths; without it, libxml2's own path is reported.
 */
export function validateWithSchema(schema: SdkSchema, bytes: Uint8Array, dom?: DomDocument, contractsDir = DEFAULT_CONTRACTS_DIR): SchemaViolation[] {
  const validator = schemaValidator(schema, contractsDir);
  let doc: XmlDocument;
  try {
    doc = XmlDocument.fromBuffer(stripBom(bytes), { option: INSTANCE_OPTIONS });
  } catch (e: unknown) {
    const line = e instanceof XmlLibError ? (e.details[0]?.line ?? 0) : 0;
    return [{ path: 'NA', text: 'the document is not well-formed XML', line }];
  }
  try {
    validator.validate(doc);
    return [];
  } catch (e: unknown) {
    if (!(e instanceof XmlLibError)) throw e;
    const details = e.details.length > 0 ? e.details : [{ message: e.message, line: 0, xpath: undefined }];
    return details.map((d) => {
      let p = d.xpath ?? 'NA';
      if (dom !== undefined && d.xpath !== undefined) {
        const node = resolveLibxmlPath(dom, d.xpath);
        if (node !== null) p = xpathOf(node);
      }
      return { path: p, text: sanitizeSchemaMessage(d.message), line: d.line };
    });
  } finally {
    doc.dispose();
  }
}
