// sdk.md §5 rows 2, 4, 5 and §16.1/§16.19/§16.23: validation of one SDK document (payload, XHE envelope,
// receipt) — safe parse, size, our XSD (→ SV/structure) and the ported schematron (→ BV/invariant).
import type { Document as XDocument, Element as XElement } from '@xmldom/xmldom';
import { NS, SDK_LIMITS } from '../../../src/domain/sdk/constants.js';
import type { SdkMessage } from '../../../src/domain/sdk/message.js';
import { NO_PATH, reason, type ReceiptReason } from '../../../src/domain/sdk/receipt.js';
import { readMessagePayload } from '../xhe/message.mapper.js';
import { xpathOf } from '../xml/dom.js';
import { base64BinaryProblem, LargeTexts } from '../xml/large-text.js';
import { parseUntrustedXml, parseUntrustedXmlSparse, UnsafeXmlError } from '../xml/safe-xml.js';
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
  /** The document text — the skeleton when `large` holds cut-out texts (../xml/large-text.ts). */
  text: string;
  doc: XDocument;
  /** The big texts cut out of `text` and `doc` (none unless parsed with `largeText`). */
  large: LargeTexts;
}

export type SafeParseOutcome = { ok: true; parsed: ParsedDocument } | { ok: false; error: UnsafeXmlError; reason: ReceiptReason };

/**
 * Parse untrusted bytes safely. With `largeText`, the big base64 texts of an envelope or payload stay byte
 * ranges of `bytes` (see ../xml/large-text.ts); readers must then resolve them through `parsed.large`.
 */
export function safeParse(bytes: Uint8Array, opts: { largeText?: boolean } = {}): SafeParseOutcome {
  try {
    if (opts.largeText === true) return { ok: true, parsed: parseUntrustedXmlSparse(bytes) };
    const { text, doc } = parseUntrustedXml(bytes);
    return { ok: true, parsed: { text, doc, large: LargeTexts.none() } };
  } catch (e: unknown) {
    if (e instanceof UnsafeXmlError) return { ok: false, error: e, reason: unsafeXmlReason(e) };
    throw e;
  }
}

/** The bytes the XSD validator reads: the skeleton when texts were cut out, else the document itself. */
function schemaInput(bytes: Uint8Array, parsed: Pick<ParsedDocument, 'text' | 'large'>): Uint8Array {
  return parsed.large.size > 0 ? Buffer.from(parsed.text, 'utf8') : bytes;
}

/**
 * The lexical checks the XSD makes on the texts cut out of the skeleton: a cut-out CipherValue
 * (xs:base64Binary) must be valid base64; a cut-out `content` is xs:string, which any run is.
 */
function largeTextSchemaReasons(doc: XDocument, large: LargeTexts): ReceiptReason[] {
  if (large.size === 0) return [];
  const out: ReceiptReason[] = [];
  const walk = (el: XElement): void => {
    for (let c = el.firstChild; c !== null; c = c.nextSibling) {
      if (c.nodeType === 1) walk(c as XElement);
      else if (c.nodeType === 3 && large.isToken((c as unknown as { data: string }).data) && el.namespaceURI === NS.xenc && el.localName === 'CipherValue') {
        const problem = base64BinaryProblem(large.chunks((c as unknown as { data: string }).data));
        if (problem !== null) out.push(reason('schema', xpathOf(el), `Schema violation: the value is not a valid xs:base64Binary (${problem}).`));
      }
    }
  };
  if (doc.documentElement !== null) walk(doc.documentElement);
  return out;
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
  /** The payload's DOM — its skeleton: attachment contents are tokens of `large`. */
  doc?: XDocument;
  /** The attachment contents cut out of `doc` (views of the validated bytes). */
  large?: LargeTexts;
  /**
   * The parsed message, present when no reason was found. Read on first access: it copies every attachment
   * into a string, which a caller that only wants the verdict never pays for.
   */
  readonly message?: SdkMessage;
  /**
   * The same message with each cut-out attachment left in the validated bytes: `content: ""` plus its byte
   * range (src/domain/sdk/attachments-in-payload.ts). Copies no attachment (issue 7 memory: the receiving
   * side stores the payload and this form, and never needs the attachment as a string).
   */
  readonly messageInPayload?: SdkMessage;
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
  const parsed = safeParse(bytes, { largeText: true });
  if (!parsed.ok) return { reasons: [parsed.reason], wellFormed: false };
  const { doc, large } = parsed.parsed;
  const rootProblems = expectRoot(doc, 'urn:riv:infrastructure:messaging:MessageWithAttachments:3', 'messagePayload', 'message');
  if (rootProblems.length > 0) return { reasons: rootProblems, wellFormed: true, doc, large };
  const sv = schemaReasons(validateWithSchema('message', schemaInput(bytes, parsed.parsed), doc, opts.contractsDir));
  if (sv.length > 0) return { reasons: sv, wellFormed: true, doc, large };
  const bv = ruleReasons(runMessageRules(doc));
  if (bv.length > 0) return { reasons: bv, wellFormed: true, doc, large };
  let message: SdkMessage | undefined;
  let messageInPayload: SdkMessage | undefined;
  return {
    reasons: [], wellFormed: true, doc, large,
    get message(): SdkMessage {
      message ??= readMessagePayload(doc, (s) => large.resolve(s));
      return message;
    },
    get messageInPayload(): SdkMessage {
      messageInPayload ??= readMessagePayload(doc, (s) => large.resolve(s), (s) => (large.isToken(s) ? large.rangeWithin(s, bytes) : undefined));
      return messageInPayload;
    },
  };
}

/**
 * Validate an XHE envelope's structure: our XHE XSD on the exact bytes (SV/structure) and the XHE profile
 * rules R1–R14 (BV/invariant) on `rulesDoc` — the signed content when the signature has been verified.
 * With `large` (the envelope was parsed with `largeText`), the XSD reads the skeleton and the cut-out
 * texts get the XSD's lexical check on their bytes.
 */
export function validateEnvelope(bytes: Uint8Array, receivedDoc: XDocument, rulesDoc: XDocument = receivedDoc, contractsDir?: string, parsed?: Pick<ParsedDocument, 'text' | 'large'>): ReceiptReason[] {
  const rootProblems = expectRoot(receivedDoc, 'http://docs.oasis-open.org/bdxr/ns/XHE/1/ExchangeHeaderEnvelope', 'XHE', 'xhe');
  if (rootProblems.length > 0) return rootProblems;
  const sv = parsed === undefined ? schemaReasons(validateWithSchema('xhe', bytes, receivedDoc, contractsDir))
    : [...schemaReasons(validateWithSchema('xhe', schemaInput(bytes, parsed), receivedDoc, contractsDir)), ...largeTextSchemaReasons(receivedDoc, parsed.large)];
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
