// sdk.md §10 and §16.24–16.31: the MT–MK REST API (Digg's "Rekommendation API MT-MK", sdk api 1.0.0), mounted at
// /v1/sdk and documented in contracts/api/parts/sdk.yaml.
//
// Who may do what: systems need the operation's scope (urn:sdk.api:*), people the role caseworker or admin; then
// the function-address grants decide which messages: a message belongs to its own-side address (the sender
// address when we sent it, the recipient address when we received it). Sending from a non-granted address is 403;
// reading or deleting a message of a non-granted address is 404 (no hint that it exists); a filter naming a
// non-granted address is 403; an unfiltered list silently holds only granted addresses.
import { Router, type Request, type Response } from 'express';
import { notFound } from '../../domain/errors.js';
import { principalId } from '../../domain/principal.js';
import { isDeletable, isMessageStatus, type MessageStatus } from '../../domain/sdk/status.js';
import { senderFunctionAddress } from '../../domain/sdk/message.js';
import type { GrantChecker } from '../../auth/index.js';
import { SCOPE_SDK_DELETE_MESSAGE, SCOPE_SDK_GET_MESSAGE, SCOPE_SDK_GET_MESSAGE_BY_FILTER, SCOPE_SDK_SEND_MESSAGE } from '../../auth/scopes.js';
import type { SdkMessageRecord } from '../../ports/sdk-store.port.js';
import { IN_FLIGHT_INBOUND, submitMessage } from '../../use-cases/sdk/sdk-messages.use-case.js';
import { SdkRequestError, type SdkDeps } from '../../use-cases/sdk/sdk-deps.js';
import { scopeOrRole, type GuardSource } from '../guards.js';
import { principalOf } from '../principal.js';
import { API_VERSION, toDomainMessage, toResource } from './sdk-message.mapper.js';

const ROLES = ['caseworker', 'admin'] as const;
const BASE = '/v1/sdk/messages';
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

const FILTERS = {
  status: 'messageStatus',
  recipient: 'recipientAttention.subOrganization.extension',
  sender: 'senderAttention.subOrganization.extension',
  start: 'creationDateTimeStart',
  stop: 'creationDateTimeStop',
} as const;

export interface SdkRouterDeps {
  sdk: SdkDeps;
  auth: GuardSource & { grants: GrantChecker };
}

const meta = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ version: API_VERSION, ...extra });

/** A deepObject query parameter (`filter[x]=…`, `page[x]=…`) as a flat record of strings. */
function deepParam(req: Request, name: string): Record<string, string> {
  const v: unknown = req.query[name];
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badQuery(name, 'must be given as ' + name + '[<name>]=<value>');
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') throw badQuery(`${name}[${k}]`, 'must be given once, as a single value');
    out[k] = x;
  }
  return out;
}

function badQuery(param: string, message: string): SdkRequestError {
  return new SdkRequestError('VALIDATION_FAILED', 'The query is invalid.', [{ in: `/query/${param}`, title: "Input isn't valid", detail: message }]);
}

function dateParam(filter: Record<string, string>, key: string): Date | undefined {
  const v = filter[key];
  if (v === undefined) return undefined;
  const d = new Date(v);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(d.getTime())) throw badQuery(`filter[${key}]`, 'must be an ISO 8601 date-time');
  return d;
}

function intParam(page: Record<string, string>, key: string, dflt: number, max: number): number {
  const v = page[key];
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > max) throw badQuery(`page[${key}]`, `must be an integer from 1 to ${max}`);
  return Number(v);
}

function queryString(filter: Record<string, string>, page: { number: number; size: number }): string {
  const parts = Object.entries(filter).map(([k, v]) => `filter[${encodeURIComponent(k)}]=${encodeURIComponent(v)}`);
  parts.push(`page[number]=${page.number}`, `page[size]=${page.size}`);
  return parts.join('&');
}

export function createSdkRouter(deps: SdkRouterDeps): Router {
  const { sdk, auth } = deps;
  const r = Router();
  const send = scopeOrRole(auth, SCOPE_SDK_SEND_MESSAGE, [...ROLES]);
  const list = scopeOrRole(auth, SCOPE_SDK_GET_MESSAGE_BY_FILTER, [...ROLES]);
  const get = scopeOrRole(auth, SCOPE_SDK_GET_MESSAGE, [...ROLES]);
  const del = scopeOrRole(auth, SCOPE_SDK_DELETE_MESSAGE, [...ROLES]);

  /** The message if this caller may see it; otherwise undefined (the routes answer 404 either way). */
  async function visible(res: Response, id: string): Promise<SdkMessageRecord | undefined> {
    const rec = await sdk.store.getMessage(id);
    if (rec === undefined || rec.deletedAt !== null) return undefined;
    if (rec.direction === 'in' && IN_FLIGHT_INBOUND.includes(rec.status)) return undefined;
    return (await auth.grants.canRead(principalOf(res), rec.ownAddress)) ? rec : undefined;
  }

  r.post('/messages', ...send, async (req, res) => {
    const p = principalOf(res);
    const message = toDomainMessage(req.body, (sdk.clock ?? (() => new Date()))());
    // Grants before anything is stored: the sender function address must be one this caller may send from.
    const from = senderFunctionAddress(message);
    if (from !== undefined) await auth.grants.assert(p, 'send', from);
    const key = req.get('idempotency-key');
    const { record, created } = await submitMessage(sdk, {
      owner: principalId(p), body: req.body, message, correlationId: String(res.locals.correlationId),
      ...(key !== undefined ? { idempotencyKey: key } : {}),
    });
    const location = `${BASE}/${record.id}`;
    // The answer carries no documents: a new message is answered from what was just stored (`message`), and
    // only an Idempotency-Key replay reads the original back (a 30 MB message is not read for its header).
    const content = created ? undefined : await sdk.store.getContent(record.id);
    res.status(created ? 201 : 200).location(location).json({
      meta: meta(),
      links: { self: location },
      data: toResource({ record, message: content?.message ?? message, withDocuments: false }),
    });
  });

  r.get('/messages', ...list, async (req, res) => {
    const p = principalOf(res);
    const filter = deepParam(req, 'filter');
    const page = deepParam(req, 'page');
    const unknown = Object.keys(filter).filter((k) => !(Object.values(FILTERS) as string[]).includes(k));
    if (unknown.length > 0) throw badQuery(`filter[${unknown[0]}]`, 'is not a supported filter');
    const status = filter[FILTERS.status];
    if (status !== undefined && !isMessageStatus(status)) throw badQuery(`filter[${FILTERS.status}]`, 'is not a message status');
    const readable = await auth.grants.readableAddresses(p);
    // A filter naming an address the caller may not read is refused (403) rather than answered with an empty list.
    for (const key of [FILTERS.recipient, FILTERS.sender] as const) {
      const a = filter[key];
      if (a !== undefined && !readable.includes(a)) {
        await auth.grants.assert(p, 'read', a);
      }
    }
    const number = intParam(page, 'number', 1, 1_000_000);
    const size = intParam(page, 'size', DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    const createdFrom = dateParam(filter, FILTERS.start);
    const createdTo = dateParam(filter, FILTERS.stop);
    const result = await sdk.store.listMessages({
      visibleAddresses: readable,
      hiddenInboundStatuses: IN_FLIGHT_INBOUND,
      offset: (number - 1) * size,
      limit: size,
      ...(status !== undefined ? { status: status as MessageStatus } : {}),
      ...(filter[FILTERS.recipient] !== undefined ? { recipientAddress: filter[FILTERS.recipient] } : {}),
      ...(filter[FILTERS.sender] !== undefined ? { senderAddress: filter[FILTERS.sender] } : {}),
      ...(createdFrom !== undefined ? { createdFrom } : {}),
      ...(createdTo !== undefined ? { createdTo } : {}),
    });
    const links: Record<string, string> = { self: `${BASE}?${queryString(filter, { number, size })}` };
    if (number * size < result.total) links.next = `${BASE}?${queryString(filter, { number: number + 1, size })}`;
    res.json({
      meta: meta({ page: { number, size, total: result.total } }),
      links,
      // Listings never carry digitalDocument (sdk.md §16.27).
      data: result.items.map((item) => toResource({ record: item, message: item.header, withDocuments: false })),
    });
  });

  r.get('/messages/:messageId', ...get, async (req, res) => {
    const rec = await visible(res, String(req.params.messageId));
    const content = rec === undefined ? undefined : await sdk.store.getContent(rec.id);
    if (rec === undefined || content === undefined) throw notFound('The message');
    const events = await sdk.store.listEvents(rec.id);
    res.json({ meta: meta(), links: { self: `${BASE}/${rec.id}` }, data: toResource({ record: rec, message: content.message, withDocuments: true, events }) });
  });

  r.delete('/messages/:messageId', ...del, async (req, res) => {
    const rec = await visible(res, String(req.params.messageId));
    if (rec === undefined) throw notFound('The message');
    if (!isDeletable(rec.status)) {
      throw new SdkRequestError('SDK_NOT_DELETABLE', `A message in status ${rec.status} cannot be deleted yet.`, [
        { in: '/path/messageId', title: 'not-final', detail: 'only NEW, ACCEPTED and MESSAGE_EXCHANGE_ERROR messages can be deleted' },
      ]);
    }
    const actor = principalId(principalOf(res));
    await sdk.store.transaction(async (tx) => {
      const cur = await tx.getMessage(rec.id, { forUpdate: true });
      if (cur === undefined || cur.deletedAt !== null) throw notFound('The message');
      await tx.markDeleted(cur.id);
      await tx.audit({ type: 'SDK_MESSAGE_DELETED', actor, subject: cur.id, outcome: 'success', details: { direction: cur.direction, status: cur.status, address: cur.ownAddress } });
    });
    res.status(202).end();
  });

  return r;
}
