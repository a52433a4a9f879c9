import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { migrate } from '../../src/store/migrate.js';

describe('migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => { db = await createTestDatabase('migr'); });
  afterAll(async () => { await db.drop(); });

  it('creates the foundation tables and a second run applies nothing', async () => {
    const { rows } = await db.pool.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1");
    const names = rows.map((r) => r.table_name);
    expect(names).toEqual(expect.arrayContaining(['outbox', 'deliveries', 'delivery_events', 'receipts', 'audit_events']));
    const again = await migrate(db.url);
    expect(again.applied).toEqual([]);
  });
});
