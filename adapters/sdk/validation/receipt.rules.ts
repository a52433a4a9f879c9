// sdk.md §9 "Receipt schematron DIGG-AppRes-Business-Rules" (R1-APP … R9-APP): every assert id ported to
// one function named by the id (R1-APP → R1_APP). Used to validate receipts before we send them
// (TM-BAS 2.9.3.b) and receipts we receive before they change a message status (§16.33).
import type { Document as XDocument, Element as XElement } from '@xmldom/xmldom';
import { NS, RECEIPT_CUSTOMIZATION_ID, RECEIPT_PROFILE_ID } from '../../../src/domain/sdk/constants.js';
import { allChildElements, childElements, descendantElements, displayName, normalizeSpace, stringValue, xpathOf } from '../xml/dom.js';
import type { RuleViolation } from './rule-types.js';

const { app: APP, cac: AC, cbc: BC, ublext: EXT, xenc: EN, ds: DS } = NS;

function receiptRoot(doc: XDocument): XElement | null {
  const r = doc.documentElement;
  return r !== null && r.namespaceURI === APP && r.localName === 'ApplicationResponse' ? r : null;
}

const v = (ruleId: string, node: XElement, text: string): RuleViolation => ({ ruleId, path: xpathOf(node), text });

type Step = [ns: string, local: string];
const cac = (l: string): Step => [AC, l];
const cbc = (l: string): Step => [BC, l];

function select(from: XElement[], ...steps: Step[]): XElement[] {
  let cur = from;
  for (const [ns, l] of steps) cur = cur.flatMap((e) => childElements(e, ns, l));
  return cur;
}

const IDENTIFIER_ATTRS = ['schemeAgencyID', 'schemeAgencyName', 'schemeDataURI', 'schemeID', 'schemeName', 'schemeURI', 'schemeVersionID'];
const IDENTIFIER_ATTRS_NO_SCHEME_ID = IDENTIFIER_ATTRS.filter((a) => a !== 'schemeID');
const CODE_ATTRS = ['languageID', 'listAgencyID', 'listAgencyName', 'listID', 'listName', 'listSchemeURI', 'listURI', 'listVersionID', 'name'];
const PARTY_ELEMENTS_DENIED = [
  cac('AgentParty'), cac('Contact'), cac('FinancialAccount'), cac('Language'), cac('PartyIdentification'), cac('PartyLegalEntity'), cac('PartyName'),
  cac('PartyTaxScheme'), cac('Person'), cac('PhysicalLocation'), cac('PostalAddress'), cac('PowerOfAttorney'), cac('ServiceProviderParty'),
  cbc('IndustryClassificationCode'), cbc('LogoReferenceID'), cbc('MarkAttentionIndicator'), cbc('MarkCareIndicator'), cbc('WebsiteURI'),
];

// R1-APP: only the elements and attributes of the profile (the published deny-list, encoded as data).
export function R1_APP(doc: XDocument): RuleViolation[] {
  const r = receiptRoot(doc);
  if (r === null) return [];
  const hits: XElement[] = [];
  const withAttr = (els: XElement[], attrs: string[]): XElement[] => els.filter((e) => attrs.some((a) => e.hasAttribute(a)));
  const dr = select([r], cac('DocumentResponse'));
  const docRef = select(dr, cac('DocumentReference'));
  const lineResp = select(dr, cac('LineResponse'));
  const lineRef = select(lineResp, cac('LineReference'));
  const lineStatus = select(lineResp, cac('Response'), cac('Status'));
  const lineResponse = select(lineResp, cac('Response'));
  const docResponse = select(dr, cac('Response'));

  for (const s of [cac('Attachment'), cac('IssuerParty'), cac('ResultOfVerification'), cac('ValidityPeriod'), cbc('CopyIndicator'), cbc('DocumentDescription'), cbc('DocumentStatusCode'), cbc('DocumentType'), cbc('DocumentTypeCode'), cbc('IssueDate'), cbc('IssueTime'), cbc('LanguageID'), cbc('LocaleCode'), cbc('UUID'), cbc('VersionID'), cbc('XPath')]) {
    hits.push(...select(docRef, s));
  }
  hits.push(...withAttr(select(docRef, cbc('ID')), IDENTIFIER_ATTRS));
  hits.push(...select(dr, cac('IssuerParty')), ...select(dr, cac('RecipientParty')));
  hits.push(...select(lineRef, cac('DocumentReference')), ...select(lineRef, cbc('LineStatusCode')), ...select(lineRef, cbc('UUID')));
  hits.push(...withAttr(select(lineRef, cbc('LineID')), IDENTIFIER_ATTRS));
  for (const s of [cac('Condition'), cbc('ConditionCode'), cbc('Description'), cbc('IndicationIndicator'), cbc('Percent'), cbc('ReferenceDate'), cbc('ReferenceTime'), cbc('ReliabilityPercent'), cbc('SequenceID'), cbc('Text')]) {
    hits.push(...select(lineStatus, s));
  }
  hits.push(...withAttr(select(lineStatus, cbc('StatusReasonCode')), CODE_ATTRS));
  hits.push(...withAttr(select(lineStatus, cbc('StatusReason')), ['languageID', 'languageLocaleID']));
  for (const s of [cbc('Description'), cbc('EffectiveDate'), cbc('EffectiveTime'), cbc('ReferenceID')]) hits.push(...select(lineResponse, s), ...select(docResponse, s));
  hits.push(...withAttr(select(lineResponse, cbc('ResponseCode')), CODE_ATTRS));
  hits.push(...select(docResponse, cac('Status')));
  hits.push(...withAttr(select(docResponse, cbc('ResponseCode')), CODE_ATTRS));
  for (const party of ['ReceiverParty', 'SenderParty']) {
    const p = select([r], cac(party));
    for (const s of PARTY_ELEMENTS_DENIED) hits.push(...select(p, s));
    hits.push(...withAttr(select(p, cbc('EndpointID')), IDENTIFIER_ATTRS_NO_SCHEME_ID));
  }
  hits.push(...select([r], cac('Signature')));
  for (const id of ['CustomizationID', 'ID', 'ProfileID']) hits.push(...withAttr(select([r], cbc(id)), IDENTIFIER_ATTRS));
  for (const s of [cbc('Note'), cbc('ProfileExecutionID'), cbc('ResponseDate'), cbc('ResponseTime'), cbc('UBLVersionID'), cbc('UUID'), cbc('VersionID')]) hits.push(...select([r], s));
  hits.push(...childElements(r, EXT, 'UBLExtensions'));
  return hits.map((e) => v('R1-APP', e, `${displayName(e)} (or one of its attributes) is not part of the receipt profile; only the elements and attributes of the profile may be used.`));
}

// R2-APP: no empty elements (XML-Enc and XML-DSig elements are exempt).
export function R2_APP(doc: XDocument): RuleViolation[] {
  const r = doc.documentElement;
  if (r === null) return [];
  return [r, ...descendantElements(r)]
    .filter((e) => allChildElements(e).length === 0 && normalizeSpace(stringValue(e)) === '')
    .filter((e) => e.namespaceURI !== EN && e.namespaceURI !== DS)
    .map((e) => v('R2-APP', e, `${displayName(e)} is empty; empty elements or attributes must not be sent.`));
}

// R3-APP: CustomizationID = urn:fdc:digg.se:edelivery:messagetype:response:1.
export function R3_APP(doc: XDocument): RuleViolation[] {
  const r = receiptRoot(doc);
  if (r === null) return [];
  const value = normalizeSpace(stringValue(select([r], cbc('CustomizationID'))[0]));
  return value === RECEIPT_CUSTOMIZATION_ID ? [] : [v('R3-APP', select([r], cbc('CustomizationID'))[0] ?? r, `CustomizationID must be '${RECEIPT_CUSTOMIZATION_ID}'.`)];
}

// R4-APP: ProfileID = bdx:noprocess.
export function R4_APP(doc: XDocument): RuleViolation[] {
  const r = receiptRoot(doc);
  if (r === null) return [];
  const value = normalizeSpace(stringValue(select([r], cbc('ProfileID'))[0]));
  return value === RECEIPT_PROFILE_ID ? [] : [v('R4-APP', select([r], cbc('ProfileID'))[0] ?? r, `ProfileID must be '${RECEIPT_PROFILE_ID}'.`)];
}

// R5-APP: document ResponseCode is ACCEPTED or REJECTED.
export function R5_APP(doc: XDocument): RuleViolation[] {
  const r = receiptRoot(doc);
  if (r === null) return [];
  return select([r], cac('DocumentResponse'), cac('Response'), cbc('ResponseCode'))
    .filter((e) => !['ACCEPTED', 'REJECTED'].includes(normalizeSpace(stringValue(e))))
    .map((e) => v('R5-APP', e, 'DocumentResponse/Response/ResponseCode must be ACCEPTED or REJECTED.'));
}

// R6-APP: line ResponseCode is SV, BV or SIG.
export function R6_APP(doc: XDocument): RuleViolation[] {
  const r = receiptRoot(doc);
  if (r === null) return [];
  return select([r], cac('DocumentResponse'), cac('LineResponse'), cac('Response'), cbc('ResponseCode'))
    .filter((e) => !['SV', 'BV', 'SIG'].includes(normalizeSpace(stringValue(e))))
    .map((e) => v('R6-APP', e, 'LineResponse/Response/ResponseCode must be SV, BV or SIG.'));
}

function documentResponses(r: XElement, code: string): XElement[] {
  // Rule context cac:Response[cbc:ResponseCode='X']: general comparison on the untyped value (no normalisation).
  return select([r], cac('DocumentResponse'), cac('Response')).filter((resp) => childElements(resp, BC, 'ResponseCode').some((c) => stringValue(c) === code));
}

function anyLineResponse(doc: XDocument): boolean {
  const r = doc.documentElement;
  return r !== null && descendantElements(r).some((e) => e.namespaceURI === AC && e.localName === 'LineResponse');
}

// R7-APP: an ACCEPTED receipt has no LineResponse.
export function R7_APP(doc: XDocument): RuleViolation[] {
  const r = receiptRoot(doc);
  if (r === null) return [];
  return anyLineResponse(doc) ? documentResponses(r, 'ACCEPTED').map((e) => v('R7-APP', e, 'A receipt with status ACCEPTED must not carry any reason (LineResponse).')) : [];
}

// R8-APP: a REJECTED receipt has at least one LineResponse.
export function R8_APP(doc: XDocument): RuleViolation[] {
  const r = receiptRoot(doc);
  if (r === null) return [];
  return anyLineResponse(doc) ? [] : documentResponses(r, 'REJECTED').map((e) => v('R8-APP', e, 'A receipt with status REJECTED must carry at least one reason (LineResponse).'));
}

// R9-APP: cardinalities (fourteen asserts sharing one id).
export function R9_APP(doc: XDocument): RuleViolation[] {
  const r = receiptRoot(doc);
  if (r === null) return [];
  const out: RuleViolation[] = [];
  const need = (ok: boolean, at: XElement, text: string): void => {
    if (!ok) out.push(v('R9-APP', at, text));
  };
  need(select([r], cbc('CustomizationID')).length > 0, r, 'CustomizationID is required.');
  need(select([r], cbc('ProfileID')).length > 0, r, 'ProfileID is required.');
  need(select([r], cbc('IssueTime')).length > 0, r, 'IssueTime is required.');
  need(select([r], cac('DocumentResponse')).length === 1, r, 'DocumentResponse must occur exactly once.');
  for (const dr of select([r], cac('DocumentResponse'))) need(select([dr], cac('DocumentReference')).length === 1, dr, 'DocumentResponse/DocumentReference must occur exactly once.');
  for (const lr of select([r], cac('DocumentResponse'), cac('LineResponse'))) need(select([lr], cac('Response')).length === 1, lr, 'LineResponse/Response must occur exactly once.');
  for (const resp of select([r], cac('DocumentResponse'), cac('LineResponse'), cac('Response'))) {
    need(select([resp], cbc('ResponseCode')).length === 1, resp, 'LineResponse/Response/ResponseCode must occur exactly once.');
    need(select([resp], cac('Status')).length === 1, resp, 'LineResponse/Response/Status must occur exactly once.');
  }
  for (const st of select([r], cac('DocumentResponse'), cac('LineResponse'), cac('Response'), cac('Status'))) need(select([st], cbc('StatusReason')).length === 1, st, 'LineResponse/Response/Status/StatusReason must occur exactly once.');
  for (const resp of select([r], cac('DocumentResponse'), cac('Response'))) need(select([resp], cbc('ResponseCode')).length === 1, resp, 'DocumentResponse/Response/ResponseCode must occur exactly once.');
  for (const party of ['ReceiverParty', 'SenderParty']) {
    for (const p of select([r], cac(party))) {
      need(select([p], cbc('EndpointID')).length === 1, p, `${party}/EndpointID must occur exactly once.`);
      need(select([p], cbc('EndpointID')).some((e) => e.hasAttribute('schemeID')), p, 'EndpointID/@schemeID is required.');
    }
  }
  return out;
}

/** Every assert id of DIGG-AppRes-Business-Rules, in numeric order. */
export const RECEIPT_RULES = {
  'R1-APP': R1_APP,
  'R2-APP': R2_APP,
  'R3-APP': R3_APP,
  'R4-APP': R4_APP,
  'R5-APP': R5_APP,
  'R6-APP': R6_APP,
  'R7-APP': R7_APP,
  'R8-APP': R8_APP,
  'R9-APP': R9_APP,
} as const;

export function runReceiptRules(doc: XDocument): RuleViolation[] {
  return Object.values(RECEIPT_RULES).flatMap((rule) => rule(doc));
}
