// sdk.md §8 "AP-side rules": the receiving AP checks finalRecipient = XHE ToParty, originalSender = XHE
// FromParty and Service/Action = XHE process and document ids. The AP must not pay for a full DOM of a
// 60 MB envelope to do so: the XHE Header comes before Payloads, so only the bytes before the Payloads start
// tag are parsed (closed with the root end tag). The MT re-checks everything on the full, signed XHE; this is
// the AP's own consistency check, not a trust decision.
import { NS } from '../../../src/domain/sdk/constants.js';
import { sameParticipant } from '../../../src/domain/sdk/identifiers.js';
import type { AccessPointRouting } from '../../../src/ports/sdk.port.js';
import { criterion, readXheFields } from '../xhe/xhe.mapper.js';
import { parseUntrustedXml } from '../xml/safe-xml.js';

export interface XheRouting {
  id: string;
  from: string;
  to: string;
  documentId?: string;
  processId?: string;
  handlingServiceId?: string;
}

const PAYLOADS = Buffer.from('Payloads', 'latin1');
const HEADER_LIMIT = 256 * 1024;

/** Offset of the `<` that opens the first (prefixed or unprefixed) Payloads element, or -1. */
function payloadsStart(buf: Buffer): number {
  let from = 0;
  for (;;) {
    const i = buf.indexOf(PAYLOADS, from);
    if (i === -1 || i > HEADER_LIMIT) return -1;
    // Walk back over an optional "prefix:" to the "<".
    let j = i - 1;
    if (buf[j] === 0x3a) {
      j--;
      while (j >= 0 && i - j < 64 && /[A-Za-z0-9_.-]/.test(String.fromCharCode(buf[j]!))) j--;
    }
    const next = buf[i + PAYLOADS.length];
    if (j >= 0 && buf[j] === 0x3c && (next === 0x3e || next === 0x20 || next === 0x09 || next === 0x0a || next === 0x0d)) return j;
    from = i + PAYLOADS.length;
  }
}

/**
 * The routing fields of an XHE, read from its header only. Returns null when the bytes are not an XHE whose
 * Header can be read this way (the caller refuses such a message).
 */
export function readXheRouting(envelope: Uint8Array): XheRouting | null {
  const buf = Buffer.from(envelope.buffer, envelope.byteOffset, envelope.byteLength);
  const end = payloadsStart(buf);
  if (end === -1) return null;
  const head = buf.subarray(0, end).toString('utf8');
  const root = /<([A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)[\s>]/.exec(head.replace(/^\uFEFF?(<\?xml[^?]*\?>)?\s*/, ''));
  if (root === null) return null;
  try {
    const { doc } = parseUntrustedXml(Buffer.from(`${head}</${root[1]}>`, 'utf8'));
    const f = readXheFields(doc);
    if (f === null || f.id === undefined || f.from === undefined || f.to === undefined) return null;
    const documentId = criterion(f, 'DOCUMENTID');
    const processId = criterion(f, 'PROCESSID');
    return { id: f.id, from: f.from, to: f.to, ...(documentId !== undefined ? { documentId } : {}), ...(processId !== undefined ? { processId } : {}) };
  } catch {
    return null;
  }
}

/** Why the transport routing disagrees with the XHE header, or null when it agrees. */
export function routingProblem(xhe: XheRouting | null, routing: Pick<AccessPointRouting, 'originalSender' | 'finalRecipient' | 'documentId' | 'processId'>): string | null {
  if (xhe === null) return 'the payload is not an XHE with a readable header';
  if (!sameParticipant(xhe.to, routing.finalRecipient)) return 'finalRecipient does not match the XHE ToParty';
  if (!sameParticipant(xhe.from, routing.originalSender)) return 'originalSender does not match the XHE FromParty';
  if (xhe.documentId !== routing.documentId) return 'the action does not match the XHE document id';
  if (xhe.processId !== routing.processId) return 'the service does not match the XHE process id';
  return null;
}

/**
 * The acknowledged XHE id of a receipt envelope (ApplicationResponse DocumentReference/ID, in clear: receipts
 * are signed, not encrypted). Used only to stop the AP's receipt timer; the MT verifies the receipt.
 */
export function acknowledgedXheId(envelope: Uint8Array): string | undefined {
  try {
    const { doc } = parseUntrustedXml(envelope);
    const f = readXheFields(doc);
    const app = f?.payloadElement;
    if (app === undefined || app.namespaceURI !== NS.app || app.localName !== 'ApplicationResponse') return undefined;
    const kids = (el: typeof app, ns: string, local: string): Array<typeof app> =>
      Array.from({ length: el.childNodes.length }, (_v, i) => el.childNodes[i]).filter((n): n is typeof app => n?.nodeType === 1 && (n as typeof app).namespaceURI === ns && (n as typeof app).localName === local);
    const ref = kids(app, NS.cac, 'DocumentResponse').flatMap((d) => kids(d, NS.cac, 'DocumentReference')).flatMap((r) => kids(r, NS.cbc, 'ID'));
    return ref.length === 1 ? (ref[0]!.textContent ?? '').trim() : undefined;
  } catch {
    return undefined;
  }
}
