// adapters/sdk/address-book (sdk.md §3 "SDK Adressbok", §16.5) against the read-API simulator over HTTPS:
// paged download into a local copy, lookups, periodic refresh, outage tolerance (the previous copy is kept),
// the stored copy used at start, and the report of our own function addresses missing from the national book.
import { createAddressBook, createMemoryAddressBookStore, type AddressBook } from '../../../adapters/sdk/address-book/index.js';
import { startAddressBookSimulator, type AddressBookSimEntry, type AddressBookSimulator } from '../../../adapters/sdk/address-book/simulator/index.js';
import { loadKit, OURS, PEER1, PEER2, waitFor, type Kit } from '../../unit/sdk-as4/as4-test-kit.js';

let kit: Kit;
let sim: AddressBookSimulator;
const books: AddressBook[] = [];

const OWN_ADDRESSES = [OURS.inbox, 'sdk:socialtjanst:0203:sandebud.dev.example', 'sdk:ny-funktion:0203:sandebud.dev.example'];

function entries(): AddressBookSimEntry[] {
  // Enough addresses to need several pages (the simulator serves at most 50 per page).
  const many = Array.from({ length: 120 }, (_v, i) => ({ identifier: `sdk:funktion-${i}:0203:grannkommun.dev.example`, shortName: `Funktion ${i}` }));
  return [
    { organisation: { participantId: OURS.participant, organizationNumber: OURS.orgnr, name: 'Sändebuds kommun (dev)' }, addresses: [{ identifier: OURS.inbox, shortName: 'Inkorg' }, { identifier: 'sdk:socialtjanst:0203:sandebud.dev.example' }] },
    { organisation: { participantId: PEER1.participant, organizationNumber: PEER1.orgnr, name: 'Region Dev' }, addresses: [{ identifier: PEER1.inbox, shortName: 'Registrator' }] },
    { organisation: { participantId: PEER2.participant, organizationNumber: PEER2.orgnr, name: 'Grannkommun (dev)' }, addresses: many },
  ];
}

function book(over: Partial<Parameters<typeof createAddressBook>[0]> = {}): AddressBook {
  const b = createAddressBook({
    api: { baseUrl: sim.url, tls: { caPem: kit.caBundle }, pageSize: 100 },
    refreshIntervalMs: 0,
    ownFunctionAddresses: () => OWN_ADDRESSES,
    ownParticipants: [OURS.participant],
    ...over,
  });
  books.push(b);
  return b;
}

beforeAll(async () => {
  kit = await loadKit();
  sim = await startAddressBookSimulator({ tls: { keyPem: kit.key('addressbook-tls'), certPem: kit.cert('addressbook-tls'), caPem: kit.caBundle }, entries: entries() });
});
afterAll(async () => {
  await sim.close();
});
afterEach(async () => {
  await Promise.all(books.splice(0).map((b) => b.stop()));
  sim.setEntries(entries());
  sim.setAvailable(true);
});

describe('address book read copy', () => {
  it('downloads every page and answers lookups from the copy', async () => {
    const b = book();
    const before = sim.requests.length;
    await b.start();
    const pages = sim.requests.slice(before);
    expect(pages.filter((p) => p.startsWith('/api/v1/addresses')).length).toBe(3);
    expect(b.status()).toMatchObject({ addresses: 123, organisations: 3, stale: false });
    expect(await b.isKnownFunctionAddress(PEER1.inbox)).toBe(true);
    expect(await b.isKnownFunctionAddress('sdk:funktion-119:0203:grannkommun.dev.example')).toBe(true);
    expect(await b.isKnownFunctionAddress('sdk:okand:0203:region.dev.example')).toBe(false);
    // Function addresses are opaque and compared exactly (sdk.md §14.14).
    expect(await b.isKnownFunctionAddress(PEER1.inbox.toUpperCase())).toBe(false);
    expect(await b.organisationOf(PEER1.inbox)).toEqual({ participantId: PEER1.participant, organizationNumber: PEER1.orgnr, name: 'Region Dev' });
    expect(await b.organisationOf('sdk:okand')).toBeUndefined();
    // Lookups do not go to the network.
    const n = sim.requests.length;
    await b.isKnownFunctionAddress(OURS.inbox);
    expect(sim.requests.length).toBe(n);
  });

  it('reports our own function addresses that the national book lacks or lists under another organisation', async () => {
    sim.setEntries([
      ...entries(),
      { organisation: { participantId: '0203:annan.example', organizationNumber: '2120000001', name: 'Annan' }, addresses: [{ identifier: 'sdk:ny-funktion:0203:sandebud.dev.example' }] },
    ]);
    const b = book();
    await b.start();
    const report = await b.missingOwnAddresses();
    expect(report.present).toEqual([OURS.inbox, 'sdk:socialtjanst:0203:sandebud.dev.example'].sort());
    expect(report.missing).toEqual([]);
    expect(report.registeredElsewhere).toEqual([{ identifier: 'sdk:ny-funktion:0203:sandebud.dev.example', organisation: expect.objectContaining({ participantId: '0203:annan.example' }) }]);
    sim.setEntries(entries());
    await b.refresh();
    expect((await b.missingOwnAddresses()).missing).toEqual(['sdk:ny-funktion:0203:sandebud.dev.example']);
  });

  it('refreshes periodically and picks up changes', async () => {
    const b = book({ refreshIntervalMs: 150 });
    await b.start();
    expect(await b.isKnownFunctionAddress('sdk:nyss-skapad:0203:region.dev.example')).toBe(false);
    const e = entries();
    e[1]!.addresses.push({ identifier: 'sdk:nyss-skapad:0203:region.dev.example' });
    sim.setEntries(e);
    await waitFor(async () => b.isKnownFunctionAddress('sdk:nyss-skapad:0203:region.dev.example'), 'the periodic refresh', 5_000);
  });

  it('keeps the previous copy through an outage and an empty answer, and says so in its status', async () => {
    const b = book();
    await b.start();
    sim.setAvailable(false);
    expect(await b.refresh()).toEqual({ ok: false, error: 'ADDRESS_BOOK_UNAVAILABLE' });
    expect(await b.isKnownFunctionAddress(PEER1.inbox)).toBe(true);
    expect(b.status()).toMatchObject({ lastError: 'ADDRESS_BOOK_UNAVAILABLE', addresses: 123 });
    sim.setAvailable(true);
    sim.setEntries([]);
    expect(await b.refresh()).toEqual({ ok: false, error: 'ADDRESS_BOOK_INVALID' });
    expect(await b.isKnownFunctionAddress(PEER1.inbox)).toBe(true);
    sim.setEntries(entries());
    expect(await b.refresh()).toMatchObject({ ok: true, addresses: 123 });
    expect(b.status().lastError).toBeUndefined();
  });

  it('starts from the stored copy when the national book is down, and refuses lookups when there is no copy at all', async () => {
    const store = createMemoryAddressBookStore();
    const first = book({ store });
    await first.start();
    sim.setAvailable(false);
    const second = book({ store });
    await second.start();
    expect(await second.isKnownFunctionAddress(PEER1.inbox)).toBe(true);
    expect(second.status().lastError).toBe('ADDRESS_BOOK_UNAVAILABLE');
    const empty = book({ initialLoadTimeoutMs: 100 });
    await empty.start();
    await expect(empty.isKnownFunctionAddress(PEER1.inbox)).rejects.toMatchObject({ code: 'ADDRESS_BOOK_UNAVAILABLE', retryable: true });
  });

  it('refuses a page of the wrong shape (keeps nothing from it)', async () => {
    sim.setEntries([{ organisation: { participantId: OURS.participant, organizationNumber: 'not-a-number', name: 'X' }, addresses: [] }]);
    const b = book({ initialLoadTimeoutMs: 50 });
    await b.start();
    expect(b.status()).toMatchObject({ lastError: 'ADDRESS_BOOK_INVALID', addresses: 0 });
  });
});
