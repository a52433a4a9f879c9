// The minimal SQL surface repositories need; satisfied by pg.Pool and pg.PoolClient (one transaction).
export interface QueryResultLike<R> {
  rows: R[];
  rowCount: number | null;
}

export interface Queryable {
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<QueryResultLike<R>>;
}
