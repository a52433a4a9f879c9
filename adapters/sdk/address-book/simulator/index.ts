// SDK Adressbok read API simulator (sdk.md §3; style.md convention 6): the two paged JSON:API collections our
// address-book client reads (organizations, addresses; assumption documented in docs/as4.md), over HTTPS, with
// test hooks to change the entries and to simulate an outage. Written independently of the client's mapper.
import type { ServerResponse } from 'node:http';
import { reply, startHttpsServer, type ReceivedRequest } from '../../../shared/https-server.js';

export interface AddressBookSimEntry {
  organisation: {
    participantId: string;
    organizationNumber: string;
    name: string;
    alternateName?: string;
    description?: string;
    countryCode?: string;
    type?: 'o' | 'ou';
  };
  addresses: Array<{ identifier: string; shortName?: string; description?: string; categories?: string[]; keywords?: string[] }>;
}

export interface AddressBookSimulatorOptions {
  port?: number;
  host?: string;
  tls: { keyPem: string; certPem: string; caPem: string; requireClientCert?: boolean };
  entries: readonly AddressBookSimEntry[];
  /** Largest page the simulator returns whatever the client asks (exercises paging). Default 50. */
  maxPageSize?: number;
}

export interface AddressBookSimulator {
  url: string;
  /** Paths with query requested so far. */
  requests: string[];
  /** The entries served now (a copy). */
  entries(): AddressBookSimEntry[];
  setEntries(entries: readonly AddressBookSimEntry[]): void;
  /** While false, every request is answered 503. */
  setAvailable(available: boolean): void;
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown): void => reply(res, status, 'application/vnd.api+json', JSON.stringify(body));

export async function startAddressBookSimulator(opts: AddressBookSimulatorOptions): Promise<AddressBookSimulator> {
  let entries = [...opts.entries];
  let available = true;
  const requests: string[] = [];
  const maxPage = opts.maxPageSize ?? 50;
  // Stable ids per organisation / address so paging over a changing list stays consistent within a test.
  const orgId = (e: AddressBookSimEntry): string => `org-${e.organisation.organizationNumber}`;
  const addrId = (identifier: string): string => `addr-${Buffer.from(identifier).toString('base64url')}`;

  const handler = (req: ReceivedRequest, res: ServerResponse): void => {
    requests.push(req.path);
    if (!available) return json(res, 503, { errors: [{ status: '503', title: 'Service Unavailable' }] });
    if (req.method !== 'GET') return json(res, 405, { errors: [{ status: '405', title: 'Method Not Allowed' }] });
    const url = new URL(req.path, 'https://sim.invalid');
    const number = Math.max(1, Number(url.searchParams.get('page[number]') ?? '1') || 1);
    const size = Math.min(maxPage, Math.max(1, Number(url.searchParams.get('page[size]') ?? '20') || 20));
    let items: unknown[];
    if (url.pathname === '/api/v1/organizations') {
      items = entries.map((e) => ({
        type: 'organizations',
        id: orgId(e),
        attributes: {
          participantIdentifier: e.organisation.participantId,
          organizationNumber: e.organisation.organizationNumber,
          name: e.organisation.name,
          alternateName: e.organisation.alternateName ?? null,
          description: e.organisation.description ?? null,
          countryCode: e.organisation.countryCode ?? 'SE',
          organizationType: e.organisation.type ?? 'o',
        },
      }));
    } else if (url.pathname === '/api/v1/addresses') {
      items = entries.flatMap((e) =>
        e.addresses.map((a) => ({
          type: 'addresses',
          id: addrId(a.identifier),
          attributes: { identifier: a.identifier, shortName: a.shortName ?? null, description: a.description ?? null, categories: a.categories ?? [], keywords: a.keywords ?? [] },
          relationships: { organization: { data: { type: 'organizations', id: orgId(e) } } },
        })),
      );
    } else {
      return json(res, 404, { errors: [{ status: '404', title: 'Not Found' }] });
    }
    const start = (number - 1) * size;
    const pageItems = items.slice(start, start + size);
    const hasNext = start + size < items.length;
    const link = (n: number): string => `${url.pathname}?page[number]=${n}&page[size]=${size}`;
    json(res, 200, {
      data: pageItems,
      links: { self: link(number), ...(hasNext ? { next: link(number + 1) } : {}) },
      meta: { totalItems: items.length, page: number, pageSize: size },
    });
  };

  const server = await startHttpsServer(
    { port: opts.port ?? 0, host: opts.host ?? '127.0.0.1', tls: { key: opts.tls.keyPem, cert: opts.tls.certPem, ca: opts.tls.caPem }, requireClientCert: opts.tls.requireClientCert ?? false },
    handler,
  );
  return {
    url: server.url,
    requests,
    entries: () => entries.map((e) => ({ organisation: { ...e.organisation }, addresses: e.addresses.map((a) => ({ ...a })) })),
    setEntries(next) {
      entries = [...next];
    },
    setAvailable(a) {
      available = a;
    },
    close: () => server.close(),
  };
}
