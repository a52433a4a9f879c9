// sdk.md §6 (XHE envelope profile) and §16.8: build the SDK XHE with xmlbuilder2 and read its routing
// fields back. Reading is strictly positional (the child path the profile defines), so a value placed
// anywhere else in the document is never picked up.
import { create } from 'xmlbuilder2';
import type { Document as XDocument, Element as XElement } from '@xmldom/xmldom';
import {
  DOCUMENT_ID_SCHEME,
  FEDERATION_ID,
  NS,
  PROCESS_ID,
  PROCESS_ID_SCHEME,
  XHE_CUSTOMIZATION_ID,
  XHE_VERSION,
} from '../../../src/domain/sdk/constants.js';
import { PARTICIPANT_SCHEME } from '../../../src/domain/sdk/identifiers.js';
import { childElements, normalizeSpace, stringValue } from '../xml/dom.js';
import { appendEncryptedData, type EncryptedPayload } from './xml-enc.js';

type XMLBuilder = ReturnType<typeof create>;

export interface XheHeaderInput {
  /** Header/ID: the SDK messageId for a message, a fresh UUID for a receipt. */
  id: string;
  /** Emitted as given; use `new Date().toISOString()` (sdk.md §14.8). */
  creationDateTime: string;
  /** DOCUMENTID without scheme (message or receipt document id). */
  documentId: string;
  federationId?: string;
  from: string;
  to: string;
  /** EQName of the payload root. */
  documentTypeCode: string;
  /** Recipient function address (required for messages; receipts repeat the acknowledged one). */
  handlingServiceId?: string;
}

export type XhePayloadInput =
  | { kind: 'encrypted'; encrypted: EncryptedPayload }
  /** A clear XML payload, already serialized by us (e.g. a receipt); must be a single element. */
  | { kind: 'xml'; xml: string };

/** Build an unsigned XHE (sign it afterwards with signEnvelope). Output has no XML declaration. */
export function buildXhe(header: XheHeaderInput, payload: XhePayloadInput): string {
  const doc = create({ version: '1.0', encoding: 'UTF-8' });
  const x = doc.ele(NS.xhe, 'xhe:XHE').att('http://www.w3.org/2000/xmlns/', 'xmlns:xha', NS.xha).att('http://www.w3.org/2000/xmlns/', 'xmlns:xhb', NS.xhb);
  const b = (parent: XMLBuilder, local: string, value: string, attrs?: Record<string, string>): XMLBuilder => parent.ele(NS.xhb, `xhb:${local}`, attrs).txt(value);
  b(x, 'XHEVersionID', XHE_VERSION);
  b(x, 'CustomizationID', XHE_CUSTOMIZATION_ID);
  const h = x.ele(NS.xha, 'xha:Header');
  b(h, 'ID', header.id);
  b(h, 'CreationDateTime', header.creationDateTime);
  const scope = h.ele(NS.xha, 'xha:BusinessScope');
  const criteria: [string, string][] = [
    ['DOCUMENTID', header.documentId],
    ['DOCUMENTID_SCHEME', DOCUMENT_ID_SCHEME],
    ['PROCESSID', PROCESS_ID],
    ['PROCESSID_SCHEME', PROCESS_ID_SCHEME],
    ['FEDERATIONID', header.federationId ?? FEDERATION_ID.sdk],
  ];
  for (const [code, value] of criteria) {
    const c = scope.ele(NS.xha, 'xha:BusinessScopeCriterion');
    b(c, 'BusinessScopeCriterionTypeCode', code);
    b(c, 'BusinessScopeCriterionValue', value);
  }
  b(h.ele(NS.xha, 'xha:FromParty').ele(NS.xha, 'xha:PartyIdentification'), 'ID', header.from, { schemeID: PARTICIPANT_SCHEME });
  b(h.ele(NS.xha, 'xha:ToParty').ele(NS.xha, 'xha:PartyIdentification'), 'ID', header.to, { schemeID: PARTICIPANT_SCHEME });
  const p = x.ele(NS.xha, 'xha:Payloads').ele(NS.xha, 'xha:Payload');
  b(p, 'DocumentTypeCode', header.documentTypeCode);
  b(p, 'ContentTypeCode', 'application/xml');
  if (header.handlingServiceId !== undefined) b(p, 'HandlingServiceID', header.handlingServiceId);
  b(p, 'InstanceEncryptionIndicator', payload.kind === 'encrypted' ? 'true' : 'false');
  const content = p.ele(NS.xha, 'xha:PayloadContent');
  if (payload.kind === 'encrypted') appendEncryptedData(content, payload.encrypted);
  else content.import(create(payload.xml));
  return doc.end({ headless: true, prettyPrint: false });
}

/** Routing and payload description of an XHE, read positionally. */
export interface XheFields {
  id?: string;
  creationDateTime?: string;
  from?: string;
  fromScheme?: string;
  to?: string;
  toScheme?: string;
  criteria: Record<string, string[]>;
  documentTypeCode?: string;
  contentTypeCode?: string;
  handlingServiceId?: string;
  /** undefined when absent or not a boolean lexical value. */
  encrypted?: boolean;
  /** The single element inside PayloadContent, if any. */
  payloadElement?: XElement;
  payloadCount: number;
}

function only(els: XElement[]): XElement | undefined {
  return els.length === 1 ? els[0] : undefined;
}

function text(el: XElement | undefined): string | undefined {
  return el === undefined ? undefined : normalizeSpace(stringValue(el));
}

/** Read the fields of an XHE document; every value must sit at its profile position and occur once. */
export function readXheFields(doc: XDocument): XheFields | null {
  const x = doc.documentElement;
  if (x === null || x.namespaceURI !== NS.xhe || x.localName !== 'XHE') return null;
  const header = only(childElements(x, NS.xha, 'Header'));
  const party = (name: string): XElement | undefined => {
    const parties = header === undefined ? [] : childElements(header, NS.xha, name);
    const ids = parties.flatMap((p) => childElements(p, NS.xha, 'PartyIdentification')).flatMap((pi) => childElements(pi, NS.xhb, 'ID'));
    return only(ids);
  };
  const criteria: Record<string, string[]> = {};
  const scope = header === undefined ? [] : childElements(header, NS.xha, 'BusinessScope');
  for (const c of scope.flatMap((s) => childElements(s, NS.xha, 'BusinessScopeCriterion'))) {
    const code = text(only(childElements(c, NS.xhb, 'BusinessScopeCriterionTypeCode')));
    const value = text(only(childElements(c, NS.xhb, 'BusinessScopeCriterionValue')));
    if (code !== undefined && value !== undefined) (criteria[code] ??= []).push(value);
  }
  const payloads = childElements(x, NS.xha, 'Payloads').flatMap((ps) => childElements(ps, NS.xha, 'Payload'));
  const payload = only(payloads);
  const pf = (local: string): string | undefined => (payload === undefined ? undefined : text(only(childElements(payload, NS.xhb, local))));
  const indicator = pf('InstanceEncryptionIndicator');
  const contentEl = payload === undefined ? undefined : only(childElements(payload, NS.xha, 'PayloadContent'));
  const inner = contentEl === undefined ? [] : Array.from({ length: contentEl.childNodes.length }, (_v, i) => contentEl.childNodes[i]).filter((n): n is XElement => n?.nodeType === 1);
  const from = party('FromParty');
  const to = party('ToParty');
  const fields: XheFields = { criteria, payloadCount: payloads.length };
  const set = <K extends keyof XheFields>(k: K, v: XheFields[K] | undefined): void => {
    if (v !== undefined) fields[k] = v;
  };
  set('id', text(header === undefined ? undefined : only(childElements(header, NS.xhb, 'ID'))));
  set('creationDateTime', text(header === undefined ? undefined : only(childElements(header, NS.xhb, 'CreationDateTime'))));
  set('from', text(from));
  set('fromScheme', from?.getAttribute('schemeID') ?? undefined);
  set('to', text(to));
  set('toScheme', to?.getAttribute('schemeID') ?? undefined);
  set('documentTypeCode', pf('DocumentTypeCode'));
  set('contentTypeCode', pf('ContentTypeCode'));
  set('handlingServiceId', pf('HandlingServiceID'));
  set('encrypted', indicator === 'true' || indicator === '1' ? true : indicator === 'false' || indicator === '0' ? false : undefined);
  set('payloadElement', inner.length === 1 ? inner[0] : undefined);
  return fields;
}

/** The single value of a business scope criterion, or undefined if absent or repeated. */
export function criterion(fields: XheFields, code: string): string | undefined {
  const values = fields.criteria[code];
  return values !== undefined && values.length === 1 ? values[0] : undefined;
}
