// sdk.md §6 "Schematron DIGG-XHE-Business-Rules" (XHE profile R1–R14): every assert id ported to one
// function named by the id (R1-XHE → R1_XHE). Failures are reported as BV/invariant. Deviation from the
// published file, on purpose (sdk.md §6): R11-XHE checks ToParty's @schemeID; the published rule re-tests FromParty.
import type { Document as XDocument, Element as XElement } from '@xmldom/xmldom';
import { NS, XHE_CUSTOMIZATION_ID, XHE_VERSION } from '../../../src/domain/sdk/constants.js';
import { PARTICIPANT_SCHEME } from '../../../src/domain/sdk/identifiers.js';
import { allChildElements, childElements, descendantElements, displayName, hasAncestor, normalizeSpace, stringValue, xpathOf } from '../xml/dom.js';
import type { RuleViolation, SchematronRule } from './rule-types.js';

const { xhe: X, xha: A, xhb: B, xhext: E, xenc: EN, ds: DS } = NS;

function envelope(doc: XDocument): XElement | null {
  const r = doc.documentElement;
  return r !== null && r.namespaceURI === X && r.localName === 'XHE' ? r : null;
}

const v = (ruleId: string, el: XElement, text: string): RuleViolation => ({ ruleId, path: xpathOf(el), text });

function payloads(x: XElement): XElement[] {
  return childElements(x, A, 'Payloads').flatMap((p) => childElements(p, A, 'Payload'));
}

function criteria(x: XElement): XElement[] {
  return childElements(x, A, 'Header')
    .flatMap((h) => childElements(h, A, 'BusinessScope'))
    .flatMap((s) => childElements(s, A, 'BusinessScopeCriterion'));
}

// R1-XHE: only the elements of the profile may be used (a deny-list of XHE elements the profile drops).
export function R1_XHE(doc: XDocument): RuleViolation[] {
  const x = envelope(doc);
  if (x === null) return [];
  const found: XElement[] = [
    ...childElements(x, E, 'XHEExtensions'),
    ...childElements(x, B, 'ProfileID'),
    ...childElements(x, B, 'ProfileExecutionID'),
    ...childElements(x, A, 'Header').flatMap((h) => childElements(h, A, 'BusinessScope')).flatMap((s) => childElements(s, A, 'ExternalReference')),
  ];
  const payloadDenied: [string, string][] = [
    [B, 'Description'],
    [B, 'CustomizationID'],
    [B, 'ProfileID'],
    [B, 'ProfileExecutionID'],
    [B, 'ValidationTypeCode'],
    [B, 'InstanceEncryptionMethod'],
    [B, 'InstanceHashValue'],
    [A, 'InstanceDecryptionInformationExternalReference'],
    [A, 'InstanceDecryptionKeyExternalReference'],
    [A, 'RelevantExternalReference'],
  ];
  for (const p of payloads(x)) for (const [ns, local] of payloadDenied) found.push(...childElements(p, ns, local));
  return found.map((e) => v('R1-XHE', e, `${displayName(e)} is not part of the SDK envelope profile; only the elements and attributes of the profile may be used.`));
}

// R2-XHE: no empty elements outside PayloadContent (XML-Enc and XML-DSig elements are exempt).
export function R2_XHE(doc: XDocument): RuleViolation[] {
  const x = envelope(doc);
  if (x === null) return [];
  return [x, ...descendantElements(x)]
    .filter((e) => allChildElements(e).length === 0 && normalizeSpace(stringValue(e)) === '' && !hasAncestor(e, A, 'PayloadContent'))
    .filter((e) => e.namespaceURI !== EN && e.namespaceURI !== DS)
    .map((e) => v('R2-XHE', e, `${displayName(e)} is empty; empty elements or attributes must not be sent.`));
}

// R3-XHE: CustomizationID = urn:fdc:digg.se:edelivery:xhe:1.
export function R3_XHE(doc: XDocument): RuleViolation[] {
  const x = envelope(doc);
  if (x === null) return [];
  return childElements(x, B, 'CustomizationID')
    .filter((e) => normalizeSpace(stringValue(e)) !== XHE_CUSTOMIZATION_ID)
    .map((e) => v('R3-XHE', e, `CustomizationID must be '${XHE_CUSTOMIZATION_ID}'.`));
}

function criterionRule(ruleId: string, code: string): SchematronRule {
  return (doc) => {
    const x = envelope(doc);
    if (x === null) return [];
    const present = criteria(x).some((c) => childElements(c, B, 'BusinessScopeCriterionTypeCode').some((t) => normalizeSpace(stringValue(t)) === code));
    return present ? [] : [v(ruleId, x, `A BusinessScopeCriterion with type code ${code} is required.`)];
  };
}

// R4-XHE … R8-XHE: one BusinessScopeCriterion for each of the five type codes.
export function R4_XHE(doc: XDocument): RuleViolation[] {
  return criterionRule('R4-XHE', 'DOCUMENTID')(doc);
}
export function R5_XHE(doc: XDocument): RuleViolation[] {
  return criterionRule('R5-XHE', 'DOCUMENTID_SCHEME')(doc);
}
export function R6_XHE(doc: XDocument): RuleViolation[] {
  return criterionRule('R6-XHE', 'PROCESSID')(doc);
}
export function R7_XHE(doc: XDocument): RuleViolation[] {
  return criterionRule('R7-XHE', 'PROCESSID_SCHEME')(doc);
}
export function R8_XHE(doc: XDocument): RuleViolation[] {
  return criterionRule('R8-XHE', 'FEDERATIONID')(doc);
}

// R9-XHE: XHEVersionID = 1.0.
export function R9_XHE(doc: XDocument): RuleViolation[] {
  const x = envelope(doc);
  if (x === null) return [];
  return childElements(x, B, 'XHEVersionID')
    .filter((e) => normalizeSpace(stringValue(e)) !== XHE_VERSION)
    .map((e) => v('R9-XHE', e, `XHEVersionID must be ${XHE_VERSION}.`));
}

function partyIds(x: XElement, party: 'FromParty' | 'ToParty'): XElement[] {
  return childElements(x, A, 'Header')
    .flatMap((h) => childElements(h, A, party))
    .flatMap((p) => childElements(p, A, 'PartyIdentification'))
    .flatMap((pi) => childElements(pi, B, 'ID'));
}

function schemeRule(ruleId: string, party: 'FromParty' | 'ToParty'): SchematronRule {
  return (doc) => {
    const x = envelope(doc);
    if (x === null) return [];
    return partyIds(x, party)
      .filter((id) => normalizeSpace(id.getAttribute('schemeID') ?? '') !== PARTICIPANT_SCHEME)
      .map((id) => v(ruleId, id, `${party} ID must have schemeID '${PARTICIPANT_SCHEME}'.`));
  };
}

// R10-XHE: FromParty ID @schemeID = iso6523-actorid-upis.
export function R10_XHE(doc: XDocument): RuleViolation[] {
  return schemeRule('R10-XHE', 'FromParty')(doc);
}
// R11-XHE: ToParty ID @schemeID = iso6523-actorid-upis (see module header).
export function R11_XHE(doc: XDocument): RuleViolation[] {
  return schemeRule('R11-XHE', 'ToParty')(doc);
}

/** XPath 2 `xhb:InstanceEncryptionIndicator = true()`: the untyped value cast to xs:boolean. */
function indicator(p: XElement): boolean | undefined {
  const values = childElements(p, B, 'InstanceEncryptionIndicator').map((e) => normalizeSpace(stringValue(e)));
  if (values.some((s) => s === 'true' || s === '1')) return true;
  if (values.some((s) => s === 'false' || s === '0')) return false;
  return undefined;
}

function hasEncryptedData(p: XElement): boolean {
  return childElements(p, A, 'PayloadContent').some((c) => childElements(c, EN, 'EncryptedData').length > 0);
}

// R12-XHE: InstanceEncryptionIndicator true ⇒ PayloadContent holds xenc:EncryptedData.
export function R12_XHE(doc: XDocument): RuleViolation[] {
  const x = envelope(doc);
  if (x === null) return [];
  return payloads(x)
    .filter((p) => indicator(p) === true && !hasEncryptedData(p))
    .map((p) => v('R12-XHE', p, 'PayloadContent must contain EncryptedData when InstanceEncryptionIndicator is true.'));
}

// R13-XHE: InstanceEncryptionIndicator false ⇒ no xenc:EncryptedData in PayloadContent.
export function R13_XHE(doc: XDocument): RuleViolation[] {
  const x = envelope(doc);
  if (x === null) return [];
  return payloads(x)
    .filter((p) => indicator(p) === false && hasEncryptedData(p))
    .map((p) => v('R13-XHE', p, 'PayloadContent must not contain EncryptedData when InstanceEncryptionIndicator is false.'));
}

// R14-XHE: cardinalities of the profile (nine asserts sharing one id).
export function R14_XHE(doc: XDocument): RuleViolation[] {
  const x = envelope(doc);
  if (x === null) return [];
  const out: RuleViolation[] = [];
  const need = (ok: boolean, text: string): void => {
    if (!ok) out.push(v('R14-XHE', x, text));
  };
  const header = childElements(x, A, 'Header');
  const ps = payloads(x);
  need(childElements(x, B, 'CustomizationID').length > 0, 'CustomizationID is required.');
  need(criteria(x).length > 0, 'BusinessScopeCriterion is required.');
  need(header.some((h) => childElements(h, A, 'FromParty').length > 0), 'FromParty is required.');
  need(header.flatMap((h) => childElements(h, A, 'FromParty')).flatMap((f) => childElements(f, A, 'PartyIdentification')).length === 1, 'FromParty/PartyIdentification must occur exactly once.');
  need(header.flatMap((h) => childElements(h, A, 'ToParty')).flatMap((f) => childElements(f, A, 'PartyIdentification')).length === 1, 'ToParty/PartyIdentification must occur exactly once.');
  need(ps.length === 1, 'Exactly one Payload is required.');
  need(ps.some((p) => childElements(p, B, 'DocumentTypeCode').length > 0), 'DocumentTypeCode is required.');
  need(ps.some((p) => childElements(p, B, 'ContentTypeCode').length > 0), 'ContentTypeCode is required.');
  need(ps.some((p) => childElements(p, A, 'PayloadContent').length > 0), 'PayloadContent is required.');
  return out;
}

/** Every assert id of DIGG-XHE-Business-Rules, in numeric order. */
export const XHE_RULES: Readonly<Record<string, SchematronRule>> = {
  'R1-XHE': R1_XHE,
  'R2-XHE': R2_XHE,
  'R3-XHE': R3_XHE,
  'R4-XHE': R4_XHE,
  'R5-XHE': R5_XHE,
  'R6-XHE': R6_XHE,
  'R7-XHE': R7_XHE,
  'R8-XHE': R8_XHE,
  'R9-XHE': R9_XHE,
  'R10-XHE': R10_XHE,
  'R11-XHE': R11_XHE,
  'R12-XHE': R12_XHE,
  'R13-XHE': R13_XHE,
  'R14-XHE': R14_XHE,
};

export function runXheRules(doc: XDocument): RuleViolation[] {
  return Object.values(XHE_RULES).flatMap((rule) => rule(doc));
}
