// sdk.md §4 "Schematron MessageConstraints.xml" (message package v3.1): every pattern ported to one
// function named by its pattern id. Each failure is reported as BV/invariant (the schematron prefixes all
// its messages with "invariant |"). Texts are our own and never echo values (the original messages echo
// UUIDs, timestamps and even attachment content; sdk.md §9 "Privacy").
import type { Document as XDocument, Element as XElement } from '@xmldom/xmldom';
import { NS, FUNCTION_ADDRESS_ROOT } from '../../../src/domain/sdk/constants.js';
import { PARTICIPANT_SCHEME } from '../../../src/domain/sdk/identifiers.js';
import { childElements, descendantElements, displayName, findElements, normalizeSpace, stringValue, xpathOf } from '../xml/dom.js';
import type { RuleViolation, SchematronRule } from './rule-types.js';

const T = NS.message;

function root(doc: XDocument): XElement | null {
  const r = doc.documentElement;
  return r !== null && r.namespaceURI === T && r.localName === 'messagePayload' ? r : null;
}

/** All elements in the document (rule contexts like `tns:messageId` match anywhere). */
function everywhere(doc: XDocument, local: string): XElement[] {
  const r = doc.documentElement;
  return r === null ? [] : findElements(r, T, local, true);
}

/** Elements reached by a relative context path such as `tns:recipientID/tns:root` (match at any depth). */
function contextPath(doc: XDocument, ...locals: string[]): XElement[] {
  const [first, ...rest] = locals;
  if (first === undefined) return [];
  let current = everywhere(doc, first);
  for (const l of rest) current = current.flatMap((e) => childElements(e, T, l));
  return current;
}

const violation = (ruleId: string, el: XElement, text: string): RuleViolation => ({ ruleId, path: xpathOf(el), text });

// Pattern "verifyNonEmptyElements": context tns:messagePayload//*, assert normalize-space(.).
export function verifyNonEmptyElements(doc: XDocument): RuleViolation[] {
  const r = root(doc);
  if (r === null) return [];
  return descendantElements(r)
    .filter((e) => normalizeSpace(stringValue(e)) === '')
    .map((e) => violation('verifyNonEmptyElements', e, `Element ${displayName(e)} is included but empty; every included element must have a value.`));
}

// Pattern "conversationIdMustExist": context tns:messageHeader, assert count(tns:conversationId) eq 1.
export function conversationIdMustExist(doc: XDocument): RuleViolation[] {
  return everywhere(doc, 'messageHeader')
    .filter((h) => childElements(h, T, 'conversationId').length !== 1)
    .map((h) => violation('conversationIdMustExist', h, 'messageHeader must contain exactly one conversationId (a new conversation uses the messageId).'));
}

// Pattern "recipientIdvalue": context tns:recipientID/tns:root, assert . = 'iso6523-actorid-upis'.
export function recipientIdvalue(doc: XDocument): RuleViolation[] {
  return contextPath(doc, 'recipientID', 'root')
    .filter((e) => stringValue(e) !== PARTICIPANT_SCHEME)
    .map((e) => violation('recipientIdvalue', e, `recipientID/root must be '${PARTICIPANT_SCHEME}'.`));
}

// Pattern "senderIdvalue": context tns:senderID/tns:root, assert . = 'iso6523-actorid-upis'.
export function senderIdvalue(doc: XDocument): RuleViolation[] {
  return contextPath(doc, 'senderID', 'root')
    .filter((e) => stringValue(e) !== PARTICIPANT_SCHEME)
    .map((e) => violation('senderIdvalue', e, `senderID/root must be '${PARTICIPANT_SCHEME}'.`));
}

// pattern.Timestamp as published: the '.' before the fraction is an unescaped regex dot (any character).
// Ported as written so that we judge exactly as the reference schematron does.
const TIMESTAMP = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}.[0-9]{1,3}Z$/u;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/u;

// Pattern "creationDateTime" (is-a pattern.Timestamp, path tns:creationDateTime).
export function creationDateTime(doc: XDocument): RuleViolation[] {
  return everywhere(doc, 'creationDateTime')
    .filter((e) => !TIMESTAMP.test(stringValue(e)))
    .map((e) => violation('creationDateTime', e, "creationDateTime must match YYYY-MM-DD'T'hh:mm:ss.s'Z' (UTC with 1-3 fraction digits)."));
}

function uuidRule(ruleId: string, local: string): SchematronRule {
  return (doc) =>
    everywhere(doc, local)
      .filter((e) => !UUID.test(stringValue(e)))
      .map((e) => violation(ruleId, e, `${local} is not a valid UUID (8-4-4-4-12 hexadecimal digits).`));
}

// Pattern "MessageId" (is-a pattern.UUID, path tns:messageId).
export function MessageId(doc: XDocument): RuleViolation[] {
  return uuidRule('MessageId', 'messageId')(doc);
}

// Pattern "conversationId" (is-a pattern.UUID, path tns:conversationId).
export function conversationId(doc: XDocument): RuleViolation[] {
  return uuidRule('conversationId', 'conversationId')(doc);
}

// Pattern "refToMessageId" (is-a pattern.UUID, path tns:refToMessageId).
export function refToMessageId(doc: XDocument): RuleViolation[] {
  return uuidRule('refToMessageId', 'refToMessageId')(doc);
}

// Pattern "subjectlabel" (is-a pattern.stringMaxLength, path tns:messageHeader/tns:label, length 256).
// XPath string-length counts characters (code points), not UTF-16 units.
export function subjectlabel(doc: XDocument): RuleViolation[] {
  return contextPath(doc, 'messageHeader', 'label')
    .filter((e) => [...stringValue(e)].length > 256)
    .map((e) => violation('subjectlabel', e, `messageHeader/label has ${[...stringValue(e)].length} characters; at most 256 are allowed.`));
}

// Pattern "contentFiles" (is-a pattern.basesixtyfour, path tns:ContentFiles/tns:content): the published
// test only checks that the value starts with a base64 character.
export function contentFiles(doc: XDocument): RuleViolation[] {
  return contextPath(doc, 'ContentFiles', 'content')
    .filter((e) => !/^[a-zA-Z0-9+/]/u.test(stringValue(e)))
    .map((e) => violation('contentFiles', e, 'ContentFiles/content must be a base64 encoded string (RFC 4648).'));
}

// Pattern "subOrgRoot" (is-a pattern.addressbookRoot, path tns:subOrganization/tns:organizationId/tns:root).
export function subOrgRoot(doc: XDocument): RuleViolation[] {
  return contextPath(doc, 'subOrganization', 'organizationId', 'root')
    .filter((e) => stringValue(e) !== FUNCTION_ADDRESS_ROOT)
    .map((e) => violation('subOrgRoot', e, `subOrganization/organizationId/root must be '${FUNCTION_ADDRESS_ROOT}'.`));
}

/** Every pattern of MessageConstraints.xml, keyed by pattern id, in the order of the schematron. */
export const MESSAGE_RULES: Readonly<Record<string, SchematronRule>> = {
  verifyNonEmptyElements,
  conversationIdMustExist,
  recipientIdvalue,
  senderIdvalue,
  creationDateTime,
  MessageId,
  conversationId,
  refToMessageId,
  subjectlabel,
  contentFiles,
  subOrgRoot,
};

export function runMessageRules(doc: XDocument): RuleViolation[] {
  return Object.values(MESSAGE_RULES).flatMap((rule) => rule(doc));
}
