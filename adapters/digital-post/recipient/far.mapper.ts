// FaR isReachable: request builder and answer → closed outcome set (../shared/specs/digital-post.md §5.2–5.4,
// §10 #1–#3, #15; checklist §11 #1–#10, #13). Pure conversion; transport is in far.client.ts.
import { create } from 'xmlbuilder2';
import type { Element } from '@xmldom/xmldom';
import {
  ageOf,
  DigitalPostError,
  isOrganisationRecipient,
  type LookupRecord,
  type ReachabilityOutcome,
  type RecipientId,
  type PersonalIdentityNumber,
} from '../../../src/domain/digital-post.js';
import { childrenNamed, isNamed, optionalChild, optionalText, parseXsBoolean, requiredChild, requiredText, XmlSafetyError } from '../../shared/xml-safe-parse.js';
import { SOAP11_NS } from '../../shared/soap.js';
import { MAX_RECIPIENTS_PER_LOOKUP, MM_NS } from '../shared/namespaces.js';

/** Build the SOAP 1.1 isReachable request (≤ 1,000 distinct ids, 16-prefixed sender). */
export function buildIsReachableRequest(senderOrgNrWire: string, ids: readonly RecipientId[]): string {
  if (!/^16[0-9]{10}$/.test(senderOrgNrWire)) throw new RangeError('senderOrgNr must be 16 + 10 digits');
  if (ids.length > MAX_RECIPIENTS_PER_LOOKUP) throw new RangeError(`at most ${MAX_RECIPIENTS_PER_LOOKUP} recipient ids per isReachable`);
  if (new Set(ids).size !== ids.length) throw new RangeError('recipient ids must be distinct');
  const root = create({ version: '1.0', encoding: 'UTF-8' });
  const req = root.ele(SOAP11_NS, 'soap:Envelope').ele(SOAP11_NS, 'soap:Body').ele(MM_NS.RECIPIENT_V3, 'rcp3:isReachable');
  req.ele(MM_NS.RECIPIENT_V3, 'rcp3:senderOrgNr').txt(senderOrgNrWire);
  for (const id of ids) req.ele(MM_NS.RECIPIENT_V3, 'rcp3:recipientId').txt(id);
  return root.end({ prettyPrint: false });
}

/** One `return` entry of an isReachableResponse, as read from the wire. */
export interface FarEntry {
  recipientId: string;
  type: 'Secure' | 'Anonymous' | 'Not';
  pending: boolean;
  serviceSupplier?: { id: string; name: string; serviceAddress: string; uiAddress?: string };
  lastRegistration?: string;
  senderAccepted: boolean;
  lastSenderAcceptChange?: string;
}

/** Policies of §5.4 rules 6–8. All optional; the defaults allow everything. */
export interface ReachabilityPolicy {
  /** Production: a ServiceAdress must be https (rule 6). Default false. */
  requireHttps?: boolean;
  /** Rule 7: allowed operator ids (`ServiceSupplier/Id`, 16-prefixed or 10 digits). Undefined or empty = all. */
  allowedOperatorIds?: readonly string[];
  /** Rule 8: refuse persons younger than this (e.g. 18). Undefined = off (the default, §10 #4). */
  minimumAge?: number;
  /** "Today" for the age rule. Default now. */
  today?: Date;
}

function isUsableServiceAddress(address: string, requireHttps: boolean): boolean {
  if (address.trim() === '') return false;
  let u: URL;
  try {
    u = new URL(address.trim());
  } catch {
    return false;
  }
  if (u.protocol === 'https:') return true;
  return !requireHttps && u.protocol === 'http:';
}

const normaliseOperatorId = (id: string): string => (/^[0-9]{10}$/.test(id) ? `16${id}` : id);

/**
 * Decide one recipient's outcome from its FaR entry, in the order of §5.4 (first match wins).
 * `entry` undefined means FaR returned nothing for the id.
 */
export function decideReachability(id: RecipientId, entry: FarEntry | undefined, lookedUpAt: Date, policy: ReachabilityPolicy = {}): ReachabilityOutcome {
  const record: LookupRecord = { lookedUpAt };
  if (entry) {
    record.accountType = entry.type;
    record.pending = entry.pending;
    record.senderAccepted = entry.senderAccepted;
    if (entry.lastRegistration !== undefined) record.lastRegistration = entry.lastRegistration;
    if (entry.lastSenderAcceptChange !== undefined) record.lastSenderAcceptChange = entry.lastSenderAcceptChange;
  }
  const s = entry?.serviceSupplier;
  const operator = s ? { id: s.id, name: s.name, serviceAddress: s.serviceAddress, ...(s.uiAddress ? { uiAddress: s.uiAddress } : {}) } : undefined;
  const no = (reason: Exclude<ReachabilityOutcome['reason'], 'REACHABLE'>): ReachabilityOutcome =>
    operator ? { reachable: false, reason, operator, record } : { reachable: false, reason, record };

  // 1. No entry, or no profile. Checked before SenderAccepted: an unregistered person also has
  //    SenderAccepted=false, and Sundsvall's "sender not accepted" for that case is misleading (§10 #1).
  if (!entry || entry.type === 'Not') return no('NOT_REGISTERED');
  // 2. Anonymous is undocumented; only Secure profiles receive secure deliveries (§10 #3).
  if (entry.type !== 'Secure') return no('ACCOUNT_NOT_SECURE');
  // 3. before 4: a blocked sender wins over a pending profile (§10 #2).
  if (!entry.senderAccepted) return no('SENDER_NOT_ACCEPTED');
  if (entry.pending) return no('PENDING');
  if (!s) return no('NO_SERVICE_SUPPLIER');
  if (!isUsableServiceAddress(s.serviceAddress, policy.requireHttps ?? false)) return no('NO_SERVICE_ADDRESS');
  const allowed = policy.allowedOperatorIds?.map(normaliseOperatorId) ?? [];
  if (allowed.length > 0 && !allowed.includes(s.id)) return no('OPERATOR_NOT_ALLOWED');
  if (policy.minimumAge !== undefined && !isOrganisationRecipient(id) && ageOf(id as PersonalIdentityNumber, policy.today ?? new Date()) < policy.minimumAge) {
    return no('RECIPIENT_UNDER_18');
  }
  return { reachable: true, reason: 'REACHABLE', operator: { ...operator!, serviceAddress: s.serviceAddress.trim() }, record };
}

function readEntry(ret: Element): FarEntry {
  const R = MM_NS.RECIPIENT;
  const acc = requiredChild(ret, R, 'AccountStatus');
  const type = requiredText(acc, R, 'Type');
  if (type !== 'Secure' && type !== 'Anonymous' && type !== 'Not') throw new XmlSafetyError('unknown account Type');
  const sup = optionalChild(acc, R, 'ServiceSupplier');
  const entry: FarEntry = {
    recipientId: requiredText(acc, R, 'RecipientId'),
    type,
    pending: parseXsBoolean(requiredText(acc, R, 'Pending')),
    senderAccepted: parseXsBoolean(requiredText(ret, R, 'SenderAccepted')),
  };
  if (sup) {
    const ui = optionalText(sup, R, 'UIAdress');
    entry.serviceSupplier = {
      id: requiredText(sup, R, 'Id'),
      name: requiredText(sup, R, 'Name'),
      // A missing ServiceAdress is schema-invalid; treat it like a blank one (rule 6) rather than fail the batch.
      serviceAddress: optionalText(sup, R, 'ServiceAdress') ?? '',
      ...(ui ? { uiAddress: ui } : {}),
    };
  }
  const lr = optionalText(acc, R, 'LastRegistration');
  if (lr !== undefined) entry.lastRegistration = lr;
  const lsac = optionalText(ret, R, 'LastSenderAcceptChange');
  if (lsac !== undefined) entry.lastSenderAcceptChange = lsac;
  return entry;
}

export interface ReachabilityAnswer {
  outcomes: Map<RecipientId, ReachabilityOutcome>;
  /** Entries for ids we did not ask for (ignored; log as a protocol anomaly, without the ids). */
  unexpectedEntries: number;
  /** Ids answered more than once (the first entry wins). */
  duplicateEntries: number;
}

/**
 * Map the isReachableResponse payload (the SOAP Body child) to one outcome per requested id, matched by
 * RecipientId, never by position. Anything that is not an isReachableResponse is a failed lookup
 * (`FAR_UNAVAILABLE`), e.g. an isRegisteredResponse (§11 #13).
 */
export function mapIsReachableResponse(
  payload: Element,
  requested: readonly RecipientId[],
  lookedUpAt: Date,
  policy: ReachabilityPolicy = {},
): ReachabilityAnswer {
  if (!isNamed(payload, MM_NS.RECIPIENT_V3, 'isReachableResponse')) {
    throw new DigitalPostError('FAR_UNAVAILABLE', 'FaR answered isReachable with an unexpected element.');
  }
  const wanted = new Set<string>(requested);
  const byId = new Map<string, FarEntry>();
  let unexpectedEntries = 0;
  let duplicateEntries = 0;
  try {
    for (const ret of childrenNamed(payload, MM_NS.RECIPIENT_V3, 'return')) {
      const entry = readEntry(ret);
      if (!wanted.has(entry.recipientId)) unexpectedEntries++;
      else if (byId.has(entry.recipientId)) duplicateEntries++;
      else byId.set(entry.recipientId, entry);
    }
  } catch (e) {
    throw new DigitalPostError('FAR_UNAVAILABLE', 'FaR answered isReachable with a malformed entry.', {}, e);
  }
  const outcomes = new Map<RecipientId, ReachabilityOutcome>();
  for (const id of requested) outcomes.set(id, decideReachability(id, byId.get(id), lookedUpAt, policy));
  return { outcomes, unexpectedEntries, duplicateEntries };
}
