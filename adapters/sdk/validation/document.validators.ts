// sdk.md §5 rows 2, 4, 5 and §16.1/§16.19/§16.23: validation of one SDK document (payload, XHE envelope,
// receipt) — safe parse, size, our XSD (→ SV/structure) and the ported schematron (→ BV/invariant).
import type { Document as XDocument } from '@xmldom/xmldom';
import { SDK_LIMITS } from '../../../src/domain/sdk/constants.js';
import type { SdkMessage } from '../../../src/domain/sdk/message.js';
import { NO_PATH, reason, type ReceiptReason } from '../../../src/domain/sdk/receipt.js';
import { readMessagePayload } from '../xhe/message.mapper.js';
import { xpathOf } from '../xml/dom.js';
import { parseUntrustedXml, UnsafeXmlError } from '../xml/safe-xml.js';
import { runMessageRules } from './message.rules.js';
import { runReceiptRules } from './receipt.rules.js';
import type { RuleViolation } from './rule-types.js';
import { tooLongReason } from './size-guard.js';
import { validateWithSchema, type SchemaViolation, type SdkSchema } from './xsd.validator.js';
import { runXheRules } from './xhe.rules.js';

export function schemaReasons(violations: SchemaViolation[]): ReceiptReason[] {
  return violations.map((v) => reason('schema', v.path, `Schema violation: ${v.text}`));
}

export function ruleReasons(violations: RuleViolation[]): ReceiptReason[] {
  return violations.map((v) => reason('schematron', v.path, `${v.ruleId}: ${v.text}`));
}

/** The reason for bytes that could not be parsed safely; texts never echo content. */
export function unsafeXmlReason(e: UnsafeXmlError): ReceiptReason {
  return reason('schema', NO_PATH, `The document was refused before validation: ${e.message}.`);
}

export interface ParsedDocument {
  text: string;
  doc: XDocument;
}

export type SafeParseOutcome = { ok: true; parsed: ParsedDocument } | { ok: false; error: UnsafeXmlError; reason: ReceiptReason };

export function safeParse(bytes: Uint8Array): SafeParseOutcome {
  try {
    const { text, doc } = parseUntrustedXml(bytes);
    return { ok: true, parsed: { text, doc } };
  } catch (e: unknown) {
    if (e instanceof UnsafeXmlError) return { ok: false, error: e, reason: unsafeXmlReason(e) };
    throw e;
  }
}

function expectRoot(doc: XDocument, ns: string, local: string, schema: SdkSchema): ReceiptReason[] {
  const r = doc.documentElement;
  if (r !== null && r.namespaceURI === ns && r.localName === local) return [];
  return [reason('schema', r === null ? NO_PATH : xpathOf(r), `Schema violation: the root element must be ${local} (${schema}).`)];
}

export interface PayloadValidation {
  reasons: ReceiptReason[];
  /** False when the bytes are not even well-formed XML (or carry a DTD): no receipt is sent for those (§5). */
  wellFormed: boolean;
  doc?: XDocument;
  /** The parsed message, present when no reason was found. */
  message?: SdkMessage;
}

export interface PayloadValidationOptions {
  /** Size limit in bytes; defaults to the inbound limit (30 MiB). Use maxOutboundPayloadBytes on send. */
  maxBytes?: number;
  contractsDir?: string;
}

/**
 * Validate a serialized `messagePayload`: size (BV/too-long), safe parse, our XSD (SV/structure), then the
 * MessageConstraints port (BV/invariant). Schematron runs only on schema-valid payloads, so every reason
 * points at a real problem rather than a consequence of a broken structure.
 */
export function validatePayload(bytes: Uint8Array, opts: PayloadValidationOptions = {}): PayloadValidation {
  const limit = opts.maxBytes ?? SDK_LIMITS.maxInboundPayloadBytes;
  if (bytes.length > limit) return { reasons: [tooLongReason(limit)], wellFormed: true };
  const parsed = safeParse(bytes);
  if (!parsed.ok) return { reasons: [parsed.reason], wellFormed: false };
  const { doc } = parsed.parsed;
  const rootProblems = expectRoot(doc, 'urn:riv:infrastructure:messaging:MessageWithAttachments:3', 'messagePayload', 'message');
  if (rootProblems.length > 0) return { reasons: rootProblems, wellFormed: true, doc };
  const sv = schemaReasons(validateWithSchema('message', bytes, doc, opts.contractsDir));
  if (sv.length > 0) return { reasons: sv, wellFormed: true, doc };
  const bv = ruleReasons(runMessageRules(doc));
  if (bv.length > 0) return { reasons: bv, wellFormed: true, doc };
  return { reasons: [], wellFormed: true, doc, message: readMessagePayload(doc) };
}

/**
 * Validate an XHE envelope's structure: our XHE XSD on the exact bytes (SV/structure) and the XHE profile
 * rules R1–R14 (BV/invariant) on `rulesDoc` — the signed content when the signature has been verified.
 */
export function validateEnvelope(bytes: Uint8Array, receivedDoc: XDocument, rulesDoc: XDocument = receivedDoc, contractsDir?: string): ReceiptReason[] {
  const rootProblems = expectRoot(receivedDoc, 'http://docs.oasis-open.org/bdxr/ns/XHE/1/ExchangeHeaderEnvelope', 'XHE', 'xhe');
  if (rootProblems.length > 0) return rootProblems;
  const sv = schemaReasons(validateWithSchema('xhe', bytes, receivedDoc, contractsDir));
  const bv = ruleReasons(runXheRules(rulesDoc));
  return [...sv, ...bv];
}

/** Validate a receipt document (ApplicationResponse): our receipt XSD then rules R1-APP … R9-APP. */
export function validateReceiptDocument(bytes: Uint8Array, doc: XDocument, contractsDir?: string): ReceiptReason[] {
  const rootProblems = expectRoot(doc, 'urn:oasis:names:specification:ubl:schema:xsd:ApplicationResponse-2', 'ApplicationResponse', 'receipt');
  if (rootProblems.length > 0) return rootProblems;
  const sv = schemaReasons(validateWithSchema('receipt', bytes, doc, contractsDir));
  if (sv.length > 0) return sv;
  return ruleReasons(runReceiptRules(doc));
}
