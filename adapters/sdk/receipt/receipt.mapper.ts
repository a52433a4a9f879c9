// sdk.md §9 (Meddelandekvittens 1.0, UBL 2.1 ApplicationResponse profile) and §15 (IssueDate/IssueTime
// forms): build the receipt document from the domain receipt and read a received one.
import { create } from 'xmlbuilder2';
import type { Document as XDocument, Element as XElement } from '@xmldom/xmldom';
import { NS, RECEIPT_CUSTOMIZATION_ID, RECEIPT_PROFILE_ID } from '../../../src/domain/sdk/constants.js';
import { PARTICIPANT_SCHEME } from '../../../src/domain/sdk/identifiers.js';
import { MAX_REASON_TEXT, REASON_CODES, type MessageReceipt, type ReasonCode, type ReceivedReceipt, type ReceivedReceiptLine } from '../../../src/domain/sdk/receipt.js';
import { maskPersonalNumbers } from '../../../src/lib/redact.js';
import { childElements, firstChild, normalizeSpace, stringValue } from '../xml/dom.js';

const pad = (n: number): string => String(n).padStart(2, '0');

/** IssueDate (YYYY-MM-DD) and IssueTime (hh:mm:ssZ), both in UTC. */
export function issueDateTime(at: Date): { date: string; time: string } {
  return {
    date: `${at.getUTCFullYear()}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())}`,
    time: `${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())}Z`,
  };
}

/** Reason texts travel unencrypted: keep them short and mask anything that looks like a personnummer. */
function safeText(text: string): string {
  const t = maskPersonalNumbers(text.replace(/\s+/g, ' ').trim());
  return (t === '' ? 'Validation failed.' : t).slice(0, MAX_REASON_TEXT);
}

/** Serialize a receipt (no XML declaration, so it can be embedded in an XHE as is). */
export function buildReceiptXml(r: MessageReceipt): string {
  const doc = create({ version: '1.0', encoding: 'UTF-8' });
  const root = doc.ele(NS.app, 'ApplicationResponse').att('http://www.w3.org/2000/xmlns/', 'xmlns:cac', NS.cac).att('http://www.w3.org/2000/xmlns/', 'xmlns:cbc', NS.cbc);
  const cbc = (p: ReturnType<typeof create>, local: string, value: string, attrs?: Record<string, string>): void => {
    p.ele(NS.cbc, `cbc:${local}`, attrs).txt(value);
  };
  const cac = (p: ReturnType<typeof create>, local: string): ReturnType<typeof create> => p.ele(NS.cac, `cac:${local}`);
  const { date, time } = issueDateTime(r.issuedAt);
  cbc(root, 'CustomizationID', RECEIPT_CUSTOMIZATION_ID);
  cbc(root, 'ProfileID', RECEIPT_PROFILE_ID);
  cbc(root, 'ID', r.receiptId);
  cbc(root, 'IssueDate', date);
  cbc(root, 'IssueTime', time);
  cbc(cac(root, 'SenderParty'), 'EndpointID', r.issuer, { schemeID: PARTICIPANT_SCHEME });
  cbc(cac(root, 'ReceiverParty'), 'EndpointID', r.receiver, { schemeID: PARTICIPANT_SCHEME });
  const dr = cac(root, 'DocumentResponse');
  cbc(cac(dr, 'Response'), 'ResponseCode', r.verdict.status);
  cbc(cac(dr, 'DocumentReference'), 'ID', r.documentReference);
  if (r.verdict.status === 'REJECTED') {
    for (const line of r.verdict.reasons) {
      const lr = cac(dr, 'LineResponse');
      cbc(cac(lr, 'LineReference'), 'LineID', line.path.trim() === '' ? 'NA' : line.path);
      const resp = cac(lr, 'Response');
      cbc(resp, 'ResponseCode', line.code);
      const st = cac(resp, 'Status');
      cbc(st, 'StatusReasonCode', line.detail);
      cbc(st, 'StatusReason', safeText(line.text));
    }
  }
  return doc.end({ headless: true, prettyPrint: false });
}

function t(el: XElement | undefined): string {
  return el === undefined ? '' : normalizeSpace(stringValue(el));
}

/** Read a receipt document that passed the receipt XSD and rules. */
export function readReceipt(doc: XDocument): ReceivedReceipt {
  const r = doc.documentElement;
  if (r === null || r.namespaceURI !== NS.app || r.localName !== 'ApplicationResponse') throw new TypeError('not an ApplicationResponse');
  const c = (el: XElement | undefined, local: string): XElement | undefined => (el === undefined ? undefined : firstChild(el, NS.cac, local));
  const b = (el: XElement | undefined, local: string): XElement | undefined => (el === undefined ? undefined : firstChild(el, NS.cbc, local));
  const dr = c(r, 'DocumentResponse');
  const status = t(b(c(dr, 'Response'), 'ResponseCode'));
  const lines: ReceivedReceiptLine[] = (dr === undefined ? [] : childElements(dr, NS.cac, 'LineResponse')).map((lr) => {
    const resp = c(lr, 'Response');
    const st = c(resp, 'Status');
    const code = t(b(resp, 'ResponseCode'));
    const detail = b(st, 'StatusReasonCode');
    const line: ReceivedReceiptLine = {
      code: ((REASON_CODES as readonly string[]).includes(code) ? code : 'BV') as ReasonCode,
      path: t(b(c(lr, 'LineReference'), 'LineID')),
      text: stringValue(b(st, 'StatusReason')),
    };
    if (detail !== undefined) line.detail = t(detail);
    return line;
  });
  return {
    receiptId: t(b(r, 'ID')),
    issueDate: t(b(r, 'IssueDate')),
    issueTime: t(b(r, 'IssueTime')),
    issuer: t(b(c(r, 'SenderParty'), 'EndpointID')),
    receiver: t(b(c(r, 'ReceiverParty'), 'EndpointID')),
    documentReference: t(b(c(dr, 'DocumentReference'), 'ID')),
    status: status === 'ACCEPTED' ? 'ACCEPTED' : 'REJECTED',
    lines,
  };
}
