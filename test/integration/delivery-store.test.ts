// The delivery store's status changes on the real PostgreSQL (issue 3 §3, style.md convention 7): one-statement
// transitions that still refuse what the transition table forbids, conditional and set-based transitions
// (a routed batch), and batch outbox rows — each change with exactly one event.
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createDeliveryStore } from '../../src/store/delivery.repository.js';
import type { DeliveryStore } from '../../src/ports/delivery-store.port.js';

let db: TestDatabase;
let store: DeliveryStore;
beforeAll(async () => {
  db = await createTestDatabase('store');
  store = createDeliveryStore(db.pool);
});
afterAll(async () => { await db.drop(); });

let n = 0;
const newDelivery = async (): Promise<string> =>
  (await store.transaction((tx) => tx.insertDelivery({ kind: 'letter', owner: 'system:test', idempotencyKey: `k${n++}` }))).delivery.id;
const events = async (id: string) => (await store.listEvents(id)).map((e) => `${e.status}${e.reason ? `:${e.reason}` : ''}`);

describe('transition', () => {
  it('moves along the table, records one event and returns the new row', async () => {
    const id = await newDelivery();
    const row = await store.transaction((tx) => tx.transition(id, 'SENDING', { channel: 'digital', reason: 'REACHABLE', data: { a: 1 } }));
    expect(row).toMatchObject({ id, status: 'SENDING', channel: 'digital', reason: 'REACHABLE', data: { a: 1 } });
    expect(await events(id)).toEqual(['RECEIVED', 'SENDING:REACHABLE']);
  });

  it('refuses a transition the table forbids, naming both statuses, and changes nothing', async () => {
    const id = await newDelivery();
    await store.transaction((tx) => tx.transition(id, 'DELIVERED', { reason: 'DELIVERED' }));
    await expect(store.transaction((tx) => tx.transition(id, 'SENDING'))).rejects.toMatchObject({ code: 'ILLEGAL_TRANSITION', message: 'delivery cannot go from DELIVERED to SENDING' });
    expect((await store.getDelivery(id))?.status).toBe('DELIVERED');
    expect(await events(id)).toEqual(['RECEIVED', 'DELIVERED:DELIVERED']);
  });

  it('says NOT_FOUND for an unknown delivery', async () => {
    await expect(store.transaction((tx) => tx.transition('00000000-0000-4000-8000-000000000000', 'SENDING'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('transitionIf', () => {
  it('moves only from the given statuses and keeps reason and channel unless new ones are given', async () => {
    const id = await newDelivery();
    await store.transaction((tx) => tx.transition(id, 'SENDING', { channel: 'digital', reason: 'REACHABLE' }));
    expect(await store.transaction((tx) => tx.transitionIf(id, ['RECEIVED'], 'PAPER_QUEUED'))).toBeUndefined();
    const moved = await store.transaction((tx) => tx.transitionIf(id, ['SENDING', 'RETRY_WAIT'], 'DELIVERED', { details: { transId: 't1' } }));
    expect(moved).toMatchObject({ status: 'DELIVERED', channel: 'digital', reason: 'REACHABLE' });
    // A second attempt finds it finished: nothing moves, no second event.
    expect(await store.transaction((tx) => tx.transitionIf(id, ['SENDING', 'RETRY_WAIT'], 'DELIVERED'))).toBeUndefined();
    // The event carries the reason given with this change (none here); the row keeps its earlier one.
    expect(await events(id)).toEqual(['RECEIVED', 'SENDING:REACHABLE', 'DELIVERED']);
    const ev = await db.pool.query<{ details: unknown }>("SELECT details FROM delivery_events WHERE delivery_id = $1 AND status = 'DELIVERED'", [id]);
    expect(ev.rows).toEqual([{ details: { transId: 't1' } }]);
  });

  it('never leaves the transition table, whatever `from` says', async () => {
    const id = await newDelivery();
    await store.transaction((tx) => tx.transition(id, 'PAPER_QUEUED'));
    await store.transaction((tx) => tx.transition(id, 'PRINTED'));
    // PRINTED → SENDING is not in the table even when the caller lists PRINTED.
    expect(await store.transaction((tx) => tx.transitionIf(id, ['PRINTED'], 'SENDING'))).toBeUndefined();
    expect((await store.getDelivery(id))?.status).toBe('PRINTED');
  });
});

describe('getDeliveries, transitionMany and insertOutboxMany (a routed batch)', () => {
  it('moves the open ones with their own reasons and details, skips the rest, one event each', async () => {
    const ids = await Promise.all([newDelivery(), newDelivery(), newDelivery(), newDelivery()]);
    const [a, b, c, d] = ids as [string, string, string, string];
    await store.transaction((tx) => tx.transition(c, 'HELD', { reason: 'FAR_UNAVAILABLE' }));
    const moved = await store.transaction(async (tx) => {
      const current = await tx.getDeliveries([...ids, 'not-a-uuid', '00000000-0000-4000-8000-000000000000'], { forUpdate: true });
      expect([...current.keys()].sort()).toEqual([...ids].sort());
      expect(current.get(c)?.status).toBe('HELD');
      return tx.transitionMany([
        { id: a, channel: 'digital', reason: 'REACHABLE', details: { operator: 'A' } },
        { id: b, channel: 'digital', reason: 'REACHABLE', details: { operator: 'B' }, data: { x: 1 } },
        { id: c, channel: 'digital', reason: 'REACHABLE' },
      ], ['RECEIVED', 'RETRY_WAIT'], 'SENDING');
    });
    expect(moved.sort()).toEqual([a, b].sort());
    expect((await store.getDelivery(a))).toMatchObject({ status: 'SENDING', channel: 'digital', reason: 'REACHABLE' });
    expect((await store.getDelivery(b))?.data).toEqual({ x: 1 });
    expect((await store.getDelivery(c))?.status).toBe('HELD');
    expect((await store.getDelivery(d))?.status).toBe('RECEIVED');
    expect(await events(a)).toEqual(['RECEIVED', 'SENDING:REACHABLE']);
    expect(await events(c)).toEqual(['RECEIVED', 'HELD:FAR_UNAVAILABLE']);
    const ev = await db.pool.query<{ details: unknown }>("SELECT details FROM delivery_events WHERE delivery_id = $1 AND status = 'SENDING'", [b]);
    expect(ev.rows).toEqual([{ details: { operator: 'B' } }]);
  });

  it('inserts one outbox row per delivery and returns their ids in the order asked', async () => {
    const ids = await Promise.all([newDelivery(), newDelivery(), newDelivery()]);
    const outbox = await store.transaction((tx) => tx.insertOutboxMany('letter.deliver', ids, 'corr-1'));
    expect(outbox).toHaveLength(3);
    for (const [i, o] of outbox.entries()) {
      const r = await db.pool.query<{ ref_id: string; kind: string; status: string; correlation_id: string }>('SELECT ref_id, kind, status, correlation_id FROM outbox WHERE id = $1', [o]);
      expect(r.rows[0]).toEqual({ ref_id: ids[i], kind: 'letter.deliver', status: 'pending', correlation_id: 'corr-1' });
    }
    await expect(store.transaction((tx) => tx.insertOutboxMany('letter.deliver', [ids[0]!, ids[0]!]))).rejects.toThrow(/distinct/);
  });

  it('rolls the whole batch back when the transaction fails: no status change, no event, no outbox row', async () => {
    const ids = await Promise.all([newDelivery(), newDelivery()]);
    await expect(store.transaction(async (tx) => {
      await tx.transitionMany(ids.map((id) => ({ id, reason: 'REACHABLE' })), ['RECEIVED'], 'SENDING');
      await tx.insertOutboxMany('letter.deliver', ids);
      throw new Error('crash before commit');
    })).rejects.toThrow('crash before commit');
    for (const id of ids) {
      expect((await store.getDelivery(id))?.status).toBe('RECEIVED');
      expect(await events(id)).toEqual(['RECEIVED']);
    }
    const o = await db.pool.query('SELECT 1 FROM outbox WHERE ref_id = ANY($1::uuid[])', [ids]);
    expect(o.rows).toHaveLength(0);
  });
});
