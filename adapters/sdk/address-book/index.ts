// sdk.md §3 "SDK Adressbok" and §16.5: a local read copy of the national address book, refreshed periodically
// from its read API and kept in an injectable store (in memory by default; the gateway may persist it so a
// restart during an address-book outage still has a copy). Outgoing recipients and incoming function addresses
// are checked against it; the report of our own function addresses missing from the national book is what an
// administrator sees.
import { AppError } from '../../../src/domain/errors.js';
import type { Logger } from '../../../src/lib/logger.js';
import type { AddressBookCopyStatus, OwnAddressReport } from '../../../src/ports/sdk.port.js';
import { createAddressBookClient, type AddressBookClient, type AddressBookClientOptions } from './address-book.client.js';
import { toSnapshot, type AddressBookEntry, type AddressBookOrganisation, type AddressBookSnapshot } from './address-book.mapper.js';

export interface AddressBookStore {
  load(): Promise<AddressBookSnapshot | null>;
  save(snapshot: AddressBookSnapshot): Promise<void>;
}

/** The default store: the copy lives only as long as the process. */
export function createMemoryAddressBookStore(initial?: AddressBookSnapshot): AddressBookStore {
  let current: AddressBookSnapshot | null = initial ?? null;
  return {
    async load() {
      return current;
    },
    async save(s) {
      current = s;
    },
  };
}

export interface AddressBookOptions {
  /** The read API; or a client (tests, a custom transport). */
  api: AddressBookClientOptions | AddressBookClient;
  store?: AddressBookStore;
  /** Refresh period. Default 1 hour. 0 = only on start and on demand. */
  refreshIntervalMs?: number;
  /** How long lookups wait for the first copy before failing. Default 10 s. */
  initialLoadTimeoutMs?: number;
  /** A copy older than this is reported stale. Default 24 hours. */
  staleAfterMs?: number;
  /** Our own function addresses (from our configuration / database), for the missing-address report. */
  ownFunctionAddresses: () => Promise<readonly string[]> | readonly string[];
  /** Our participant ids: an own address registered under another organisation is reported too. */
  ownParticipants?: readonly string[];
  clock?: () => Date;
  logger?: Logger;
}

export interface RefreshResult {
  ok: boolean;
  fetchedAt?: Date;
  addresses?: number;
  organisations?: number;
  /** Addresses dropped because their organisation was not in the organisation list. */
  orphans?: number;
  error?: string;
}

// The copy's state and the own-address report are what the port promises the gateway (src/ports/sdk.port.ts).
export type AddressBookStatus = AddressBookCopyStatus;
export type MissingOwnAddressReport = OwnAddressReport;

export interface AddressBook {
  /** Load the stored copy, refresh once, then refresh periodically. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Download the national book now and replace the copy (a failure keeps the previous copy). */
  refresh(): Promise<RefreshResult>;
  /** Is `address` a function address in the national book? Throws ADDRESS_BOOK_UNAVAILABLE without any copy. */
  isKnownFunctionAddress(address: string): Promise<boolean>;
  /** The organisation that owns `address`, or undefined. */
  organisationOf(address: string): Promise<AddressBookOrganisation | undefined>;
  entry(address: string): Promise<AddressBookEntry | undefined>;
  /** Which of our own function addresses the national book lacks (for the administrator). */
  missingOwnAddresses(): Promise<MissingOwnAddressReport>;
  status(): AddressBookStatus;
}

interface Index {
  snapshot: AddressBookSnapshot;
  byAddress: Map<string, AddressBookEntry>;
}

function index(snapshot: AddressBookSnapshot): Index {
  return { snapshot, byAddress: new Map(snapshot.entries.map((e) => [e.identifier, e])) };
}

const sameParticipant = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

export function createAddressBook(opts: AddressBookOptions): AddressBook {
  const clock = opts.clock ?? (() => new Date());
  const store = opts.store ?? createMemoryAddressBookStore();
  const client: AddressBookClient = 'downloadAll' in opts.api ? opts.api : createAddressBookClient(opts.api);
  const ownsClient = !('downloadAll' in opts.api);
  const interval = opts.refreshIntervalMs ?? 3_600_000;
  const staleAfter = opts.staleAfterMs ?? 86_400_000;
  let current: Index | undefined;
  let lastAttemptAt: Date | undefined;
  let lastError: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<RefreshResult> | undefined;
  let firstLoad: Promise<void> | undefined;

  async function doRefresh(): Promise<RefreshResult> {
    lastAttemptAt = clock();
    try {
      const download = await client.downloadAll();
      const { snapshot, orphans } = toSnapshot(download.organisations, download.addresses, clock());
      // An empty answer never replaces a copy that had entries: far more likely an outage than a real change.
      if (snapshot.entries.length === 0 && current !== undefined && current.snapshot.entries.length > 0) {
        throw new AppError('ADDRESS_BOOK_INVALID', 'The national address book returned no function addresses; the previous copy is kept.', { status: 502 });
      }
      await store.save(snapshot);
      current = index(snapshot);
      lastError = undefined;
      opts.logger?.info({ event: 'ADDRESS_BOOK_REFRESHED', addresses: snapshot.entries.length, organisations: snapshot.organisations.length, orphans }, 'address book copy refreshed');
      return { ok: true, fetchedAt: new Date(snapshot.fetchedAt), addresses: snapshot.entries.length, organisations: snapshot.organisations.length, orphans };
    } catch (e) {
      lastError = e instanceof AppError ? e.code : 'ADDRESS_BOOK_REFRESH_FAILED';
      opts.logger?.warn({ event: 'ADDRESS_BOOK_REFRESH_FAILED', code: lastError, detail: e instanceof Error ? e.message : undefined }, 'address book refresh failed; keeping the previous copy');
      return { ok: false, error: lastError };
    }
  }

  function refresh(): Promise<RefreshResult> {
    running ??= doRefresh().finally(() => {
      running = undefined;
    });
    return running;
  }

  async function ready(): Promise<Index> {
    if (current !== undefined) return current;
    if (firstLoad !== undefined) {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([firstLoad, new Promise<void>((resolve) => (t = setTimeout(resolve, opts.initialLoadTimeoutMs ?? 10_000)))]).finally(() => clearTimeout(t));
    }
    if (current === undefined) throw new AppError('ADDRESS_BOOK_UNAVAILABLE', 'No copy of the national address book is available yet.', { status: 503, retryable: true });
    return current;
  }

  return {
    async start() {
      firstLoad = (async () => {
        const stored = await store.load();
        if (stored !== null) current = index(stored);
        await refresh();
      })();
      await firstLoad;
      if (interval > 0) {
        timer = setInterval(() => void refresh(), interval);
        timer.unref();
      }
    },
    async stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await running?.catch(() => undefined);
      if (ownsClient) await client.close();
    },
    refresh,
    async isKnownFunctionAddress(address) {
      return (await ready()).byAddress.has(address);
    },
    async organisationOf(address) {
      return (await ready()).byAddress.get(address)?.organisation;
    },
    async entry(address) {
      return (await ready()).byAddress.get(address);
    },
    async missingOwnAddresses() {
      const idx = await ready();
      const own = [...new Set(await opts.ownFunctionAddresses())].sort();
      const report: MissingOwnAddressReport = { checkedAt: clock(), copyFetchedAt: new Date(idx.snapshot.fetchedAt), missing: [], registeredElsewhere: [], present: [] };
      for (const a of own) {
        const e = idx.byAddress.get(a);
        if (e === undefined) report.missing.push(a);
        else if (opts.ownParticipants !== undefined && !opts.ownParticipants.some((p) => sameParticipant(p, e.organisation.participantId))) report.registeredElsewhere.push({ identifier: a, organisation: e.organisation });
        else report.present.push(a);
      }
      if (report.missing.length > 0 || report.registeredElsewhere.length > 0) {
        opts.logger?.warn({ event: 'ADDRESS_BOOK_OWN_ADDRESS_MISSING', missing: report.missing.length, registeredElsewhere: report.registeredElsewhere.length }, 'own function addresses missing from the national address book');
      }
      return report;
    },
    status() {
      const fetchedAt = current === undefined ? undefined : new Date(current.snapshot.fetchedAt);
      return {
        ...(fetchedAt ? { fetchedAt } : {}),
        ...(lastAttemptAt ? { lastAttemptAt } : {}),
        ...(lastError ? { lastError } : {}),
        addresses: current?.snapshot.entries.length ?? 0,
        organisations: current?.snapshot.organisations.length ?? 0,
        stale: fetchedAt === undefined || clock().getTime() - fetchedAt.getTime() > staleAfter,
      };
    },
  };
}

export { createAddressBookClient, type AddressBookClient, type AddressBookClientOptions, type AddressBookDownload } from './address-book.client.js';
export type { AddressBookEntry, AddressBookOrganisation, AddressBookSnapshot } from './address-book.mapper.js';
